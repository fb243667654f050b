/**
 * One (kernel, seed) training run's live state: host parameters, the optimiser, and the ONNX
 * Runtime sessions of its training and evaluation graphs (rebuilt when projections are redrawn).
 */
import { estimateMemory } from '../limit/cost.ts';
import { getKernel } from '../kernels/index.ts';
import type { KernelConfig } from '../kernels/types.ts';
import type { ModelShape, Param } from '../model/encoder.ts';
import { type HostTensor, Session } from '../runtime/session.ts';
import type { Batch } from './batches.ts';
import { parseRunLabel } from './labels.ts';
import { buildClassifierGraph, classifierFingerprint, classifierParams, trainKernelConfig } from './model.ts';
import { AdamW, clipGlobalNorm, decays, learningRate } from './optimizer.ts';
import type { TrainRequest } from './types.ts';

export class KernelRun {
  readonly params: Param[];
  readonly optimizer: AdamW;
  private train!: Session;
  private evaluator: Session | null = null;
  private readonly f32 = new Map<string, Float32Array>();
  estimatedMemoryBytes = 0;
  private hash: string | null = null;

  private constructor(
    /** The run label (src/train/labels.ts): a kernel name with optional variants. */
    readonly kernel: string,
    readonly seed: number,
    private readonly req: TrainRequest,
    private readonly shape: ModelShape,
    private readonly classes: number,
    private readonly opts: { readonly evaluate: boolean; readonly spinning: boolean },
  ) {
    this.params = classifierParams(shape, classes, seed);
    this.optimizer = new AdamW(
      this.params.map((p) => ({ name: p.name, data: p.data, decay: decays(p.name) })),
      { lr: req.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: req.weightDecay },
    );
    for (const p of this.params) this.f32.set(p.name, new Float32Array(p.data.length));
  }

  /** The training graph's estimated peak of live tensors, without building a session. */
  static estimate(kernel: string, req: TrainRequest, shape: ModelShape, classes: number): number {
    return estimateMemory(
      buildClassifierGraph({
        kernel: getKernel(parseRunLabel(kernel).kernel, '--kernels'),
        shape,
        config: trainKernelConfig(req, 0),
        classes,
        pooling: req.pooling,
        objective: req.objective,
        mode: 'train',
      }).graph,
    );
  }

  /**
   * Builds the run with the projections of `draw` (0: the first; each redraw counts up).
   * `evaluate: false` builds the training session only (bench --scope train times steps).
   */
  static async open(
    kernel: string,
    seed: number,
    req: TrainRequest,
    shape: ModelShape,
    classes: number,
    draw: number,
    opts: { evaluate?: boolean; spinning?: boolean } = {},
  ): Promise<KernelRun> {
    const run = new KernelRun(kernel, seed, req, shape, classes, { evaluate: opts.evaluate ?? true, spinning: opts.spinning ?? false });
    await run.loadSessions(draw);
    return run;
  }

  /** The classifier's options but the projection draw (kernel config). */
  private classifier() {
    return {
      kernel: getKernel(parseRunLabel(this.kernel).kernel, '--kernels'),
      shape: this.shape,
      classes: this.classes,
      pooling: this.req.pooling,
      objective: this.req.objective,
    };
  }

  /**
   * Fingerprint of the training graph (src/onnx/fingerprint.ts), the same for every projection
   * draw: computed when first asked (train's records, after the training clock), never in a
   * bench child's timed setup.
   */
  get graphHash(): string {
    this.hash ??= classifierFingerprint(this.classifier(), (seed) => trainKernelConfig(this.req, seed));
    return this.hash;
  }

  /** The kernel config of projection draw `draw`: layer l uses seed + 7919·draw + l, distinct per seed for small draws. */
  private config(draw: number): KernelConfig {
    return trainKernelConfig(this.req, this.seed * 1_000_003 + 7919 * draw);
  }

  /** (Re)builds both sessions with projection draw `draw`. */
  async loadSessions(draw: number): Promise<void> {
    const base = { ...this.classifier(), config: this.config(draw) };
    // Spinning off by default: a process holds a train and an eval session per kernel and runs
    // them in turn, and an idle session's thread pool would spin on the cores the running one
    // needs (Session's `spinning`). A lone training session (bench's child) may spin.
    const cfg = { ep: this.req.ep, spinning: this.opts.spinning, ...(this.req.threads !== null ? { threads: this.req.threads } : {}) };
    const trainGraph = buildClassifierGraph({ ...base, mode: 'train' }).graph;
    this.estimatedMemoryBytes = estimateMemory(trainGraph);
    const train = await Session.fromGraph(trainGraph, cfg);
    const evaluator = this.opts.evaluate ? await Session.fromGraph(buildClassifierGraph({ ...base, mode: 'eval' }).graph, cfg) : null;
    await this.release();
    this.train = train;
    this.evaluator = evaluator;
  }

  private paramFeeds(): Record<string, HostTensor> {
    const feeds: Record<string, HostTensor> = {};
    for (const p of this.params) {
      const f = this.f32.get(p.name)!;
      f.set(p.data);
      feeds[p.name] = { dtype: 'float32', dims: p.shape, data: f };
    }
    return feeds;
  }

  /** One optimiser step on `batch` (step counted from 1); returns the batch's loss and logits. */
  async step(batch: Batch, step: number): Promise<{ loss: number; logits: Float32Array; gradNorm: number }> {
    const out = await this.train.run({ ...this.paramFeeds(), tokens: batch.tokens, mask: batch.mask, ...batch.train });
    const grads = new Map(this.params.map((p) => [p.name, out[`grad_${p.name}`]!.data as Float32Array]));
    const loss = (out.loss!.data as Float32Array)[0]!;
    const { norm } = clipGlobalNorm(grads, this.req.clip);
    // A non-finite loss or gradient would poison every parameter: the caller stops the run.
    if (Number.isFinite(loss) && Number.isFinite(norm)) {
      const lr = learningRate(step, { lr: this.req.lr, warmup: Math.min(this.req.warmup, this.req.steps), total: this.req.steps + 1, decay: this.req.decay });
      this.optimizer.step(grads, lr);
    }
    return { loss, logits: out.logits!.data as Float32Array, gradNorm: norm };
  }

  /** Logits of one evaluation batch with the current parameters. */
  async logits(batch: Batch): Promise<Float32Array> {
    if (!this.evaluator) throw new Error('this run was opened without an evaluation session');
    const out = await this.evaluator.run({ ...this.paramFeeds(), tokens: batch.tokens, mask: batch.mask });
    return out.logits!.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.train?.release();
    await this.evaluator?.release();
  }
}
