/** A small bench grid for tests: two kernels, L = 16 and 32, one head of d = 8; override any field. */
import type { GridOptions } from '../../src/bench/grid.ts';

export const testGrid = (o: Partial<GridOptions> = {}): GridOptions => ({
  kernels: ['softmax', 'favor-pos'],
  seqLens: [16, 32],
  passes: ['forward'],
  batches: [1],
  heads: 1,
  dim: 8,
  features: 8,
  featureType: 'orthogonal',
  causal: false,
  causalImpl: 'chunked',
  chunkSize: 8,
  scope: 'attention',
  ep: 'cpu',
  dtype: 'float32',
  seed: 0,
  threads: 1,
  layers: null,
  dFf: null,
  vocab: null,
  ...o,
});
