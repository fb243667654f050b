/** The graph a bench point times (one place, used by the parent for estimates and by the child). */
import { buildAttentionGraph } from '../kernels/build.ts';
import { getKernel } from '../kernels/index.ts';
import type { Graph } from '../onnx/ir.ts';
import type { BenchPoint } from './types.ts';

export function pointGraph(p: BenchPoint): Graph {
  return buildAttentionGraph({
    kernel: getKernel(p.kernel),
    shape: { batch: p.batch, heads: p.heads, seqLen: p.seqLen, dim: p.dim },
    config: { causal: p.causal, causalImpl: p.causalImpl, chunkSize: p.chunkSize, features: p.features, featureType: p.featureType, seed: p.seed },
    dtype: p.dtype,
    pass: p.pass,
  }).graph;
}
