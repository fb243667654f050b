import { DEFAULT_KERNELS } from '../kernels/index.ts';

/**
 * Named option sets for `performer bench --preset`. A preset fills only options the user left at
 * their defaults; explicit flags always win.
 */
export interface BenchPreset {
  readonly description: string;
  readonly values: Readonly<Record<string, unknown>>;
}

const BENCH_PRESETS_MUTABLE: Record<string, BenchPreset> = {
  // One thread: on a shared 2-core runner the spread between processes is about half that of two
  // threads (log-sd 0.04–0.13 against 0.04–0.24, measured); 20 processes per point resolve a 10%
  // slowdown where that spread is ≤ 0.09, in about 90 s.
  ci: {
    description: 'a small fixed grid for CI regression runs: 20 processes per point, one thread (about 90 s on 2 cores)',
    values: { kernels: [...DEFAULT_KERNELS.ci], seqLen: [512, 2048], heads: 1, timeBudget: 0.05, minRuns: 10, threads: 1, repeat: 20 },
  },
};

// The paper's Fig. 3 configurations, (heads, layers, d_ff, d) with vocabulary 256, batches 1-8,
// and a 16 GB V100's memory so the curves stop where the paper's did.
BENCH_PRESETS_MUTABLE['paper-regular'] = {
  description: "the paper's regular model: (heads, layers, d_ff, d) = (8, 6, 2048, 512), batch 1, 2, 4, 8, 16 GiB",
  values: { scope: 'model', heads: 8, layers: 6, dFf: 2048, dModel: 512, vocab: 256, batch: [1, 2, 4, 8], memoryBudget: 16 * 2 ** 30 },
};
BENCH_PRESETS_MUTABLE['paper-small'] = {
  description: "the paper's small model: (heads, layers, d_ff, d) = (1, 6, 64, 64), batch 1, 2, 4, 8, 16 GiB",
  values: { scope: 'model', heads: 1, layers: 6, dFf: 64, dModel: 64, vocab: 256, batch: [1, 2, 4, 8], memoryBudget: 16 * 2 ** 30 },
};

export const BENCH_PRESETS: Readonly<Record<string, BenchPreset>> = BENCH_PRESETS_MUTABLE;
export const PRESET_NAMES = Object.keys(BENCH_PRESETS);
