/** The graph a bench point times (one place, used by the parent for estimates and by the child). */
import { buildAttentionGraph } from '../kernels/build.ts';
import { getKernel } from '../kernels/index.ts';
import { type KernelConfig, kernelConfig } from '../kernels/types.ts';
import { buildEncoderGraph, type ModelShape } from '../model/encoder.ts';
import { trainStepGraph } from '../train/step.ts';
import { graphFingerprint } from '../onnx/fingerprint.ts';
import type { Graph } from '../onnx/ir.ts';
import type { BenchPoint } from './types.ts';

/** The kernel options a point carries. */
export const pointConfig = (p: BenchPoint): KernelConfig => kernelConfig(p);

/** The model's shape of a model or train scope point (dim = d_model). */
export const pointShape = (p: BenchPoint): ModelShape => ({
  batch: p.batch,
  seqLen: p.seqLen,
  heads: p.heads,
  dModel: p.dim,
  layers: p.layers ?? 1,
  dFf: p.dFf ?? 4 * p.dim,
  vocab: p.vocab ?? 256,
});

/**
 * Attention scope: q, k, v [B, H, L, d] → out. Model scope: tokens [B, L] → loss (dim = d_model).
 * Train scope: the training graph of `performer train`'s classifier (the host's AdamW is not in it).
 */
export function pointGraph(p: BenchPoint): Graph {
  const kernel = getKernel(p.kernel);
  const config = pointConfig(p);
  if (p.scope === 'train') return trainStepGraph({ kernel, shape: pointShape(p), config });
  if (p.scope === 'model') return buildEncoderGraph({ kernel, shape: pointShape(p), config, dtype: p.dtype, pass: p.pass }).graph;
  return buildAttentionGraph({ kernel, shape: { batch: p.batch, heads: p.heads, seqLen: p.seqLen, dim: p.dim }, config, dtype: p.dtype, pass: p.pass }).graph;
}

/** The fingerprint of the graph a point times (src/onnx/fingerprint.ts); `graph` is pointGraph(p) when already built. */
export function pointFingerprint(p: BenchPoint, graph: Graph = pointGraph(p)): string {
  return graphFingerprint(graph, pointGraph({ ...p, seed: p.seed + 1 }));
}
