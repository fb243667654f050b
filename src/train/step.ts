/**
 * The training step `performer bench --scope train` times: one optimiser step of the classifier
 * `performer train` trains (mean pooling, two classes) on synthetic tokens of full length (no
 * padding). A step is the training graph (forward, loss and every parameter's gradient) through
 * ONNX Runtime, then the global-norm clip and AdamW on the host, with the updated parameters fed
 * to the next step: the code a `performer train` step runs (session.ts's KernelRun.step). The
 * optimiser runs at train's default settings; a step's cost does not depend on their values. One
 * difference: alone in bench's child, the session's thread pool spins between runs as in every
 * bench scope, where train, which alternates the sessions of several kernels, turns spinning off.
 */
import type { KernelSpec, KernelConfig } from '../kernels/types.ts';
import type { ModelShape } from '../model/encoder.ts';
import type { Graph } from '../onnx/ir.ts';
import { Rng } from '../random.ts';
import type { ExecutionProvider } from '../runtime/providers.ts';
import { makeBatch } from './batches.ts';
import { buildClassifierGraph } from './model.ts';
import { KernelRun } from './session.ts';
import type { TrainRequest } from './types.ts';

/** Classes of the timed classifier (a binary task, as train's spam). */
const CLASSES = 2;

/** What a timed step is made of: the kernel, the model's shape and the attention options. */
export interface StepPoint {
  readonly kernel: KernelSpec;
  readonly shape: ModelShape;
  readonly config: KernelConfig;
  readonly ep: ExecutionProvider;
  readonly threads: number | null;
}

/** The training graph of a step (also what bench estimates, counts and fingerprints). */
export const trainStepGraph = (p: Pick<StepPoint, 'kernel' | 'shape' | 'config'>): Graph =>
  buildClassifierGraph({ kernel: p.kernel, shape: p.shape, config: p.config, classes: CLASSES, pooling: 'mean', objective: 'classify', mode: 'train' }).graph;

/** A train request at train's defaults for the step's shape (the optimiser's settings, the attention options). */
function stepRequest(p: StepPoint): TrainRequest {
  const c = p.config;
  return {
    task: 'toy',
    objective: 'classify',
    kernels: [p.kernel.name],
    seeds: 1,
    steps: 1_000_000,
    timeBudgetS: null,
    seqLen: p.shape.seqLen,
    dim: p.shape.dModel,
    heads: p.shape.heads,
    layers: p.shape.layers,
    dFf: p.shape.dFf,
    features: c.features,
    featureType: c.featureType,
    batch: p.shape.batch,
    lr: 1e-3,
    warmup: 20,
    decay: 'linear',
    weightDecay: 0.01,
    clip: 1,
    redrawEvery: null,
    pooling: 'mean',
    causal: c.causal,
    causalImpl: c.causalImpl,
    chunkSize: c.chunkSize,
    evalEvery: 1,
    evalBatches: null,
    targetAcc: null,
    threads: p.threads,
    ep: p.ep,
  };
}

/** A live step: `run()` is one optimiser step on the same synthetic batch (its loss); the step counter goes on. */
export interface OpenStep {
  run(): Promise<number>;
  /** The fingerprint of the training graph the session runs (as train records carry it), computed when asked. */
  readonly graphHash: string;
  release(): Promise<void>;
}

/** Builds the step's session and host state; tokens are uniform over the vocabulary, from `seed`. */
export async function openTrainStep(p: StepPoint, seed: number, spinning: boolean): Promise<OpenStep> {
  const { batch: B, seqLen: L, vocab } = p.shape;
  const rng = new Rng(seed);
  const batch = makeBatch(
    Array.from({ length: B }, (_, b) => ({ tokens: Int32Array.from({ length: L }, () => rng.nextU32() % vocab), label: b % CLASSES })),
    L,
    CLASSES,
  );
  const run = await KernelRun.open(p.kernel.name, seed, stepRequest(p), p.shape, CLASSES, 0, { evaluate: false, spinning });
  let step = 0;
  return {
    run: async () => (await run.step(batch, ++step)).loss,
    get graphHash() {
      return run.graphHash;
    },
    release: () => run.release(),
  };
}
