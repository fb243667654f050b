/** Expands bench options into points: small L first, so an interruption keeps every kernel's short runs. */
import type { FeatureType } from '../kernels/projection.ts';
import type { Pass } from '../kernels/build.ts';
import type { CausalImpl } from '../kernels/types.ts';
import type { DType } from '../onnx/ir.ts';
import type { ExecutionProvider } from '../runtime/session.ts';
import type { BenchPoint, Scope } from './types.ts';

export interface GridOptions {
  readonly kernels: readonly string[];
  readonly seqLens: readonly number[];
  readonly passes: readonly Pass[];
  readonly batches: readonly number[];
  readonly heads: number;
  readonly dim: number;
  readonly features: number;
  readonly featureType: FeatureType;
  readonly causal: boolean;
  readonly causalImpl: CausalImpl;
  readonly chunkSize: number;
  readonly scope: Scope;
  readonly ep: ExecutionProvider;
  readonly dtype: DType;
  readonly seed: number;
  readonly threads: number | null;
  readonly layers: number | null;
  readonly dFf: number | null;
  readonly vocab: number | null;
}

export function expandGrid(o: GridOptions): BenchPoint[] {
  const points: BenchPoint[] = [];
  for (const batch of o.batches)
    for (const seqLen of o.seqLens)
      for (const pass of o.passes)
        for (const kernel of o.kernels)
          points.push({
            kernel, pass, seqLen, batch,
            causal: o.causal, causalImpl: o.causalImpl, chunkSize: o.chunkSize, scope: o.scope,
            heads: o.heads, dim: o.dim, features: o.features, featureType: o.featureType,
            ep: o.ep, dtype: o.dtype, seed: o.seed, threads: o.threads,
            ...(o.scope === 'model' ? { layers: o.layers, dFf: o.dFf, vocab: o.vocab } : { layers: null, dFf: null, vocab: null }),
          });
  return points;
}
