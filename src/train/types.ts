/** What `performer train` is asked for, and what it records. */
import type { CausalImpl } from '../kernels/types.ts';
import type { FeatureType } from '../kernels/projection.ts';
import type { ExecutionProvider } from '../runtime/session.ts';
import type { Task } from './data/tasks.ts';
import type { Objective, Pooling } from './model.ts';
import type { LrDecay } from './optimizer.ts';

export interface TrainRequest {
  readonly task: Task;
  /** classify: a label per sequence; lm: next-token prediction at every position (causal attention); mlm: masked tokens (bidirectional). */
  readonly objective: Objective;
  readonly data?: string;
  /** Run labels (src/train/labels.ts): kernel names, optionally with +noredraw or +scratch. */
  readonly kernels: readonly string[];
  /** Start from the final checkpoints of this train run's --out directory (absent: fresh weights). */
  readonly initFrom?: string;
  /** The source run's label whose checkpoints are used (absent: its only one). */
  readonly initKernel?: string;
  readonly seeds: number;
  /** Steps per run; with a time budget, the run also stops when its training clock reaches it. */
  readonly steps: number;
  readonly timeBudgetS: number | null;
  readonly seqLen: number;
  readonly dim: number;
  readonly heads: number;
  readonly layers: number;
  readonly dFf: number;
  readonly features: number;
  readonly featureType: FeatureType;
  readonly batch: number;
  readonly lr: number;
  readonly warmup: number;
  readonly decay: LrDecay;
  readonly weightDecay: number;
  /** Global gradient-norm clip; 0 disables. */
  readonly clip: number;
  /** Draw new projections every N steps (a new session each time); null: never. */
  readonly redrawEvery: number | null;
  readonly pooling: Pooling;
  readonly causal: boolean;
  readonly causalImpl: CausalImpl;
  readonly chunkSize: number;
  readonly evalEvery: number;
  /** Cap on validation batches per evaluation (the final test always uses every example). */
  readonly evalBatches: number | null;
  readonly targetAcc: number | null;
  readonly threads: number | null;
  readonly ep: ExecutionProvider;
}

/** One evaluation on the validation split. */
export interface CurvePoint {
  readonly step: number;
  /** Training clock: seconds of training steps (forward, backward, optimiser) and redraws, no evaluation. */
  readonly seconds: number;
  /** Mean loss and accuracy of the training batches since the previous evaluation. */
  readonly trainLoss: number;
  readonly trainAcc: number;
  readonly valLoss: number;
  readonly valAcc: number;
}

/** One (kernel, seed) training run. */
export interface TrainRecord {
  readonly kernel: string;
  readonly seed: number;
  readonly task: string;
  readonly seqLen: number;
  /** ok; diverged: the loss became NaN or infinite (the run stopped there). */
  readonly status: 'ok' | 'diverged';
  readonly steps: number;
  readonly trainSeconds: number;
  /** Median seconds of one training step (forward + backward + optimiser) over the run. */
  readonly secondsPerStep: number;
  readonly stepsPerSecond: number;
  /** Seconds spent drawing new projections and rebuilding sessions, inside trainSeconds. */
  readonly redrawSeconds: number;
  readonly redraws: number;
  readonly valAcc: number;
  readonly valLoss: number;
  readonly testAcc: number;
  readonly testLoss: number;
  /** Training clock and step at the first evaluation with validation accuracy ≥ the target; null if never. */
  readonly timeToTargetS: number | null;
  readonly stepsToTarget: number | null;
  /** The training graph's estimated peak of live tensors (src/limit/cost.ts). */
  readonly estimatedMemoryBytes: number;
  /** Fingerprint of the training graph (src/onnx/fingerprint.ts); absent in older files. */
  readonly graphHash?: string | null;
  /** Language models (lm, mlm): exp(test loss), the per-token perplexity. */
  readonly testPerplexity?: number;
  /** With --init-from: validation accuracy at step 0, before any update (the swap's zero-shot accuracy). */
  readonly startValAcc?: number | null;
  readonly curve: readonly CurvePoint[];
}

export interface TrainDocument {
  readonly schemaVersion: number;
  readonly kind: 'train';
  readonly environment: unknown;
  readonly options: TrainRequest;
  /** The data set: name, sizes, majority-class accuracy (lm: the most frequent next token's share) and provenance. */
  readonly dataset: { name: string; train: number; validation: number; test: number; classes: number; majority: number; note: string };
  /** Peak resident memory of the whole process (all kernels' sessions share it). */
  readonly peakRssBytes: number;
  readonly records: TrainRecord[];
}

/**
 * One row of a `train-steps` results file, written by `performer train --step-time` before it
 * moved to `performer bench --scope train` (2026-12-06): still read, plotted and reported.
 */
export interface StepTimeRecord {
  readonly kernel: string;
  readonly seqLen: number;
  readonly status: 'ok' | 'oom' | 'failed';
  readonly samplesS: readonly number[];
  readonly medianS: number | null;
  /** Geometric mean over rounds of this kernel's step time ÷ the softmax baseline's, with its 95% interval. */
  readonly vsSoftmax: { ratio: number; lo: number; hi: number } | null;
  readonly estimatedMemoryBytes: number | null;
  /** Fingerprint of the training graph timed (src/onnx/fingerprint.ts); absent in older files. */
  readonly graphHash?: string | null;
  readonly error: string | null;
}
