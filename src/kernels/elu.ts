import { eluRows } from '../reference/features.ts';
import { linearAttention } from './linear.ts';
import type { KernelSpec } from './types.ts';

/** elu(x) + 1 features: the linear-transformer baseline (Katharopoulos et al., 2020). */
export const eluKernel: KernelSpec = {
  name: 'elu',
  role: 'linear',
  description: 'deterministic elu(x) + 1 features (d wide, no projection): the linear transformer',
  formula: 'φ(x) = elu(x) + 1, x = input (no scaling), no ε',
  projection: false,
  featureWidth: (_c, d) => d,
  supportsCausal: true,
  supportsBackward: true,
  reference: (q, k) => ({ q: eluRows(q), k: eluRows(k) }),
  build(b, ctx) {
    // ONNX Runtime has no float64 Elu: there, elu(x) + 1 = relu(x) + exp(−relu(−x)), same values.
    const phi = (x: typeof ctx.q) =>
      b.dtype === 'float64' ? { blocks: [b.add(b.relu(x), b.exp(b.neg(b.relu(b.neg(x)))))], eps: 0, scale: 1 } : { blocks: [b.elu(x)], eps: 1, scale: 1 };
    return linearAttention(b, phi(ctx.q), phi(ctx.k), ctx);
  },
};
