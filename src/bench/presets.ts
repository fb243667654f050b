/**
 * Named option sets for `performer bench --preset`. A preset fills only options the user left at
 * their defaults; explicit flags always win.
 */
export interface BenchPreset {
  readonly description: string;
  readonly values: Readonly<Record<string, unknown>>;
}

export const BENCH_PRESETS: Readonly<Record<string, BenchPreset>> = {
  ci: {
    description: 'a small fixed grid for CI regression runs (about 30 s on 2 cores)',
    values: { kernels: ['softmax', 'favor-pos', 'identity'], seqLens: [512, 2048], heads: 1, timeMs: 300, minRuns: 10, threads: 2 },
  },
};

export const PRESET_NAMES = Object.keys(BENCH_PRESETS);
