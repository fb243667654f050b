/**
 * Named option sets for `performer train --preset`; explicit flags win.
 * - quick: a CI-sized run on the separable toy task (seconds), the smoke test of docs/train.md;
 * - poster: the student poster's IMDB setup (embedding width 50, one head, m = 100), on any task.
 */
import { DEFAULT_KERNELS } from '../kernels/index.ts';

export const TRAIN_PRESETS: Readonly<Record<string, { description: string; values: Readonly<Record<string, unknown>> }>> = {
  quick: {
    description: 'toy task, width 16, 1 layer, L = 64, 60 steps: a smoke test in seconds',
    values: {
      task: 'toy',
      kernels: [...DEFAULT_KERNELS.trainQuick],
      seeds: 1,
      steps: 60,
      evalEvery: 20,
      seqLen: [64],
      dModel: 16,
      heads: 2,
      layers: 1,
      dFf: 32,
      features: 16,
      batch: 8,
      lr: 3e-3,
      lrWarmup: 5,
    },
  },
  poster: {
    description: "embedding width 50, 1 head, m = 100, 1 layer, d_ff 100 (the IMDB poster's model)",
    values: { dModel: 50, heads: 1, features: 100, layers: 1, dFf: 100 },
  },
};
export const TRAIN_PRESET_NAMES = Object.keys(TRAIN_PRESETS);
