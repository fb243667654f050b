/** Expands bench options into points: small L first, so an interruption keeps every kernel's short runs. */
import type { Pass } from '../kernels/build.ts';
import { type BenchPoint, isModelScope } from './types.ts';

/** Everything a point has, with lists where the grid varies (kernels, lengths, passes, batches). */
export type GridOptions = Omit<BenchPoint, 'kernel' | 'pass' | 'seqLen' | 'batch'> & {
  readonly kernels: readonly string[];
  readonly seqLens: readonly number[];
  readonly passes: readonly Pass[];
  readonly batches: readonly number[];
};

export function expandGrid(o: GridOptions): BenchPoint[] {
  const { kernels: _k, seqLens: _l, passes: _p, batches: _b, ...point } = o;
  const points: BenchPoint[] = [];
  for (const batch of o.batches)
    for (const seqLen of o.seqLens)
      for (const pass of o.passes)
        for (const kernel of o.kernels)
          points.push({
            ...point,
            kernel,
            pass,
            seqLen,
            batch,
            ...(isModelScope(o.scope) ? {} : { layers: null, dFf: null, vocab: null }),
          });
  return points;
}
