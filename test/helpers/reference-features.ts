/**
 * The float64 linear-attention reference (src/reference/), looked up by kernel name for tests:
 * plain loops and the explicit L×L matrix, independent of the graphs' product orderings, prefix
 * sums and chunking.
 */
import type { AttentionShape } from '../../src/kernels/types.ts';
import { getKernel } from '../../src/kernels/index.ts';
import { referenceLinearAttention as reference } from '../../src/reference/linear-attention.ts';

export function referenceLinearAttention(
  kernel: string,
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  shape: AttentionShape,
  w: Float64Array | undefined,
  causal: boolean,
): Float64Array {
  const spec = getKernel(kernel);
  if (!spec.reference) throw new Error(`kernel ${kernel} has no float64 reference feature map`);
  return reference(spec.reference, q, k, v, shape, w, causal);
}
