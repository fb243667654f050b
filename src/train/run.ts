/**
 * The train pipeline: data → per seed, every kernel from the same initial weights on the same
 * batches, their steps interleaved (step s of each kernel in turn, so machine drift hits all
 * alike) → evaluations outside the training clock → journal and checkpoints after each
 * evaluation (a killed run resumes) → records.
 */
import { median } from '../stats/descriptive.ts';
import { collectEnvironment } from '../environment.ts';
import { usage } from '../errors.ts';
import { appendJournal, openJournal } from '../results/files.ts';
import { makeDocument } from '../results/version.ts';
import { type Batch, type BatchMaker, cropExamples, evaluationBatches, makeBatch, makeLmBatch, makeMlmBatch, trainBatchIndices, trainKey } from './batches.ts';
import { type Checkpoint, type InitSource, initParams, loadCheckpoint, openInitSource, type RunState, saveCheckpoint } from './checkpoint.ts';
import { loadTask } from './data/tasks.ts';
import type { Dataset } from './data/types.ts';
import { getKernel } from '../kernels/index.ts';
import { parseRunLabel } from './labels.ts';
import { decodeF64 } from './optimizer.ts';
import { KernelRun } from './session.ts';
import type { CurvePoint, TrainDocument, TrainRecord, TrainRequest } from './types.ts';

export interface TrainHooks {
  progress?(text: string): void;
  note?(text: string): void;
  /** Ctrl-C / SIGTERM: every live run saves a checkpoint at its current step, then training stops. */
  signal?: AbortSignal;
}

/** Training stopped by a signal; checkpoints and journal hold everything done so far. */
export class TrainingStopped extends Error {}

export async function runTraining(req: TrainRequest, out: string | null, resume: boolean, hooks: TrainHooks = {}): Promise<TrainDocument> {
  const environment = collectEnvironment();
  const lm = req.objective === 'lm';
  const source = req.initFrom ? openInitSource(req.initFrom, req.initKernel ?? null, req) : null;
  // A language model's row of L inputs needs L + 1 tokens (position i predicts token i + 1).
  const data = await loadTask({ task: req.task, seqLen: req.seqLen + (lm ? 1 : 0), ...(req.data ? { data: req.data } : {}) });
  if (req.objective === 'mlm' && !data.masking) throw usage('--objective', `task ${req.task} has no mask token for mlm`, 'lm or classify, or --task fasta');
  for (const [split, xs] of [
    ['train', data.train],
    ['validation', data.validation],
    ['test', data.test],
  ] as const)
    if (!xs.length)
      throw usage(
        req.task === 'text-csv' ? '--data' : '--task',
        `${data.name} has no ${split} example after the split (${data.train.length}/${data.validation.length}/${data.test.length})`,
        'more examples per class (about 10 or more)',
      );
  const entries = out ? (openJournal(out, { ...req }, resume, hooks.note) as { type?: string; record?: TrainRecord }[]) : [];
  const finished = new Map(entries.filter((e) => e.type === 'final' && e.record).map((e) => [`${e.record!.kernel}/${e.record!.seed}`, e.record!]));
  const records: TrainRecord[] = [];
  for (let seed = 0; seed < req.seeds; seed++) {
    const todo = req.kernels.filter((k) => !finished.has(`${k}/${seed}`));
    if (todo.length < req.kernels.length) hooks.note?.(`seed ${seed}: ${req.kernels.length - todo.length} run(s) already finished (journal)`);
    records.push(...(await trainSeed(req, data, seed, todo, out, resume, source, hooks)));
    for (const k of req.kernels) if (finished.has(`${k}/${seed}`)) records.push(finished.get(`${k}/${seed}`)!);
  }
  const order = (r: TrainRecord) => req.kernels.indexOf(r.kernel) + r.seed * req.kernels.length;
  records.sort((a, b) => order(a) - order(b));
  const counts = new Map<number, number>();
  // The test batches' own targets: labels, next tokens, or the masked positions' tokens.
  for (const b of evaluationBatches(data.test, req.batch, batchMaker(req, data))) for (const t of b.targets) counts.set(t, (counts.get(t) ?? 0) + 1);
  const dataset = {
    name: data.name,
    train: data.train.length,
    validation: data.validation.length,
    test: data.test.length,
    classes: req.objective === 'classify' ? data.classes : data.vocab,
    vocab: data.vocab,
    majority: Math.max(...counts.values()) / [...counts.values()].reduce((a, b) => a + b, 0),
    note: data.note,
  };
  return makeDocument('train', { environment, options: req, dataset, peakRssBytes: process.resourceUsage().maxRSS * 1024, records });
}

/** Whether a run label draws new features with --redraw-every: kernels with a random projection, unless +noredraw. */
function redraws(label: string): boolean {
  const l = parseRunLabel(label);
  return !l.noRedraw && getKernel(l.kernel).projection;
}

/** The batch maker of the request's objective. */
export function batchMaker(req: TrainRequest, data: Dataset): BatchMaker {
  if (req.objective === 'lm') return (examples, real) => makeLmBatch(examples, req.seqLen, data.vocab, real);
  if (req.objective === 'mlm') return (examples, real, key = 0) => makeMlmBatch(examples, req.seqLen, data.vocab, data.masking!, key, real);
  return (examples, real) => makeBatch(examples, req.seqLen, data.classes, real);
}

/** Trains `kernels` (run labels) with one seed, interleaving their steps; returns a record per label. */
async function trainSeed(
  req: TrainRequest,
  data: Dataset,
  seed: number,
  kernels: readonly string[],
  out: string | null,
  resume: boolean,
  source: InitSource | null,
  hooks: TrainHooks,
): Promise<TrainRecord[]> {
  const shape = { batch: req.batch, seqLen: req.seqLen, heads: req.heads, dModel: req.dim, layers: req.layers, dFf: req.dFf, vocab: data.vocab };
  const outputs = req.objective === 'classify' ? data.classes : data.vocab;
  const make = batchMaker(req, data);
  // Rows of a language model need L + 1 tokens; a random window of that many is cut from long sequences.
  const need = req.seqLen + (req.objective === 'lm' ? 1 : 0);
  const runs = new Map<string, { run: KernelRun; state: RunState }>();
  for (const kernel of kernels) {
    const saved = out && resume ? loadCheckpoint(out, kernel, seed) : null;
    const run = await KernelRun.open(kernel, seed, req, shape, outputs, saved?.state.redraws ?? 0);
    if (saved) restore(run, saved);
    else if (source && !parseRunLabel(kernel).scratch) initParams(source, seed, run.params);
    runs.set(kernel, {
      run,
      state: saved?.state ?? {
        step: 0,
        seconds: 0,
        redrawSeconds: 0,
        redraws: 0,
        stepTimes: [],
        curve: [],
        pending: { loss: 0, correct: 0, count: 0 },
        diverged: false,
      },
    });
    if (saved) hooks.note?.(`${kernel} seed ${seed}: resumed at step ${saved.state.step}`);
  }
  const validation = evaluationBatches(data.validation, req.batch, make, req.evalBatches ?? undefined);
  // With --init-from, every run is first evaluated before any update: the accuracy right after the swap.
  if (source) for (const { run, state } of runs.values()) if (state.step === 0 && !state.curve.length) await evaluate(run, state, validation, out, hooks);
  const epochs = new Map<number, Int32Array>();
  const active = () =>
    [...runs.values()].filter(({ state: s }) => !s.diverged && s.step < req.steps && (req.timeBudgetS === null || s.seconds < req.timeBudgetS));
  for (let live = active(); live.length; live = active()) {
    if (hooks.signal?.aborted) {
      if (out) for (const { run, state } of runs.values()) saveCheckpoint(out, run.kernel, run.seed, run.params, run.optimizer, state);
      for (const { run } of runs.values()) await run.release();
      throw new TrainingStopped(`seed ${seed} at step ${Math.min(...[...runs.values()].map((r) => r.state.step))}`);
    }
    for (const { run, state } of live) {
      const key = trainKey(seed, state.step);
      const examples = trainBatchIndices(data.train.length, req.batch, seed, state.step, epochs).map((i) => data.train[i]!);
      const batch = make(data.crop === 'random' ? cropExamples(examples, need, key) : examples, undefined, key + 2 ** 45);
      const t0 = performance.now();
      const r = await run.step(batch, state.step + 1);
      const dt = (performance.now() - t0) / 1000;
      state.step++;
      state.seconds += dt;
      state.stepTimes.push(dt);
      if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)) state.diverged = true;
      const score = batch.score(r.logits);
      state.pending = { loss: state.pending.loss + score.loss, correct: state.pending.correct + score.correct, count: state.pending.count + score.count };
      if (req.redrawEvery && redraws(run.kernel) && state.step % req.redrawEvery === 0 && state.step < req.steps) {
        const t1 = performance.now();
        await run.loadSessions(++state.redraws);
        const rd = (performance.now() - t1) / 1000;
        state.seconds += rd;
        state.redrawSeconds += rd;
      }
      const last = state.diverged || state.step >= req.steps || (req.timeBudgetS !== null && state.seconds >= req.timeBudgetS);
      if (state.step % req.evalEvery === 0 || last) await evaluate(run, state, validation, out, hooks);
    }
  }
  const records: TrainRecord[] = [];
  for (const [kernel, { run, state }] of runs) {
    const test = await score(run, evaluationBatches(data.test, req.batch, make));
    const record = toRecord(req, data, kernel, seed, state, run, test);
    if (out) appendJournal(out, { type: 'final', record });
    records.push(record);
    await run.release();
  }
  return records;
}

async function score(run: KernelRun, batches: readonly Batch[]) {
  let loss = 0;
  let correct = 0;
  let count = 0;
  for (const b of batches) {
    const s = b.score(await run.logits(b));
    loss += s.loss;
    correct += s.correct;
    count += s.count;
  }
  return { loss: loss / count, acc: correct / count };
}

/** Validation (outside the training clock), then journal line and checkpoint. */
async function evaluate(run: KernelRun, state: RunState, batches: readonly Batch[], out: string | null, hooks: TrainHooks) {
  const v = await score(run, batches);
  const p = state.pending;
  const point: CurvePoint = {
    step: state.step,
    seconds: state.seconds,
    trainLoss: p.count ? p.loss / p.count : NaN,
    trainAcc: p.count ? p.correct / p.count : NaN,
    valLoss: v.loss,
    valAcc: v.acc,
  };
  state.curve.push(point);
  state.pending = { loss: 0, correct: 0, count: 0 };
  hooks.progress?.(
    `${run.kernel} seed ${run.seed} step ${state.step}: train loss ${point.trainLoss.toFixed(3)}, val acc ${point.valAcc.toFixed(3)} (${state.seconds.toFixed(1)} s)`,
  );
  if (!out) return;
  appendJournal(out, { type: 'eval', kernel: run.kernel, seed: run.seed, ...point });
  saveCheckpoint(out, run.kernel, run.seed, run.params, run.optimizer, state);
}

function restore(run: KernelRun, c: Checkpoint): void {
  for (const p of run.params) p.data.set(decodeF64(c.params[p.name]!));
  run.optimizer.load(c.optimizer);
}

function toRecord(
  req: TrainRequest,
  data: Dataset,
  kernel: string,
  seed: number,
  s: RunState,
  run: KernelRun,
  test: { loss: number; acc: number },
): TrainRecord {
  const hit = req.targetAcc === null ? undefined : s.curve.find((c) => c.valAcc >= req.targetAcc!);
  const last = s.curve.at(-1);
  const spStep = median(s.stepTimes);
  return {
    kernel,
    seed,
    task: data.name,
    seqLen: req.seqLen,
    status: s.diverged ? 'diverged' : 'ok',
    steps: s.step,
    trainSeconds: s.seconds,
    secondsPerStep: spStep,
    stepsPerSecond: 1 / spStep,
    redrawSeconds: s.redrawSeconds,
    redraws: s.redraws,
    valAcc: last?.valAcc ?? NaN,
    valLoss: last?.valLoss ?? NaN,
    testAcc: test.acc,
    testLoss: test.loss,
    timeToTargetS: hit?.seconds ?? null,
    stepsToTarget: hit?.step ?? null,
    estimatedMemoryBytes: run.estimatedMemoryBytes,
    graphHash: run.graphHash,
    ...(req.objective === 'classify' ? {} : { testPerplexity: Math.exp(test.loss) }),
    ...(req.initFrom ? { startValAcc: s.curve[0]?.step === 0 ? s.curve[0].valAcc : null } : {}),
    curve: s.curve,
  };
}
