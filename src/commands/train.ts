import { Command, Option } from 'commander';
import { usage } from '../errors.ts';
import { DEFAULT_KERNELS, KERNEL_NAMES, getKernel } from '../kernels/index.ts';
import { checkModelWidth } from '../model/encoder.ts';
import { ensureDir, lockDir, refuseOtherKind } from '../results/files.ts';
import { BYTE_VOCAB } from '../train/data/types.ts';
import { EXECUTION_PROVIDERS } from '../runtime/providers.ts';
import { TASKS } from '../train/data/tasks.ts';
import { OBJECTIVES, POOLINGS } from '../train/model.ts';
import { parseRunLabel, runLabelList } from '../train/labels.ts';
import { TRAIN_PRESET_NAMES, TRAIN_PRESETS } from '../train/presets.ts';
import type { TrainRequest } from '../train/types.ts';
import {
  addCausalOptions,
  addFeatureOptions,
  duration,
  nonNegativeInt,
  onStopSignal,
  oneOf,
  positiveInt,
  positiveNumber,
  sizeList,
  withDefault,
} from './options.ts';
import { examples } from './help.ts';

const DECAYS = ['none', 'linear', 'cosine', 'rsqrt'] as const;
const FORMATS = ['table', 'json', 'csv', 'markdown'] as const;

const fraction =
  (flag: string) =>
  (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw usage(flag, `'${raw}' is not a number in [0, 1]`);
    return n;
  };

interface TrainCli
  extends Omit<
    TrainRequest,
    'dim' | 'warmup' | 'timeBudgetS' | 'redrawEvery' | 'evalBatches' | 'targetAcc' | 'threads' | 'seqLen' | 'initFrom' | 'initKernel'
  > {
  initFrom?: string;
  initKernel?: string;
  seqLen: number[];
  timeBudget?: number;
  redrawEvery?: number;
  evalBatches?: number;
  targetAcc?: number;
  threads?: number;
  stepTime: boolean;
  repeat: number;
  dModel: number;
  lrWarmup: number;
  out?: string;
  resume: boolean;
  format: (typeof FORMATS)[number];
  preset?: string;
}

/** The command, its data and model options; the kernel options (shared helpers) and the rest follow. */
const trainModel = new Command('train')
  .description('train a small classifier with each kernel on real data: accuracy against steps and wall-clock, seconds per step')
  .addOption(
    new Option(
      '--task <task>',
      "data: spam (real e-mails), text-csv (your --data), fasta (proteins: --data, default Debian's UniProt sample), listops (LRA, generated), toy (synthetic)",
    )
      .choices(TASKS)
      .default('spam')
      .argParser(oneOf('--task', TASKS)),
  )
  .addOption(
    new Option(
      '--objective <o>',
      'classify: a label per sequence; lm: next-token prediction at every position (implies --causal); mlm: masked tokens, BERT-style (fasta)',
    )
      .choices(OBJECTIVES)
      .default('classify')
      .argParser(oneOf('--objective', OBJECTIVES)),
  )
  .option(
    '--data <path>',
    'text-csv: a CSV (text,label or review,sentiment) or a folder with one sub-folder of .txt files per class; fasta: a FASTA file, plain or .gz',
  )
  .addOption(
    withDefault(
      '--kernels <list>',
      'kernels compared in one run (same data order and initial weights per seed); a kernel+noredraw never redraws, a kernel+scratch ignores --init-from',
      runLabelList('--kernels'),
      DEFAULT_KERNELS.train.join(','),
    ),
  )
  .option(
    '--init-from <dir>',
    "start every run from the final checkpoint of the same seed in this train run's --out (same model and task; projections drawn fresh)",
  )
  .option('--init-kernel <label>', "which of the --init-from run's kernels to start from (default: its only one)")
  .option('--seeds <n>', 'seeds (initial weights, data order, projections)', positiveInt('--seeds'), 3)
  .option('--steps <n>', 'optimiser steps per run', positiveInt('--steps'), 300)
  .option(
    '--time-budget <duration>',
    'also stop each run when its training clock reaches this budget (90s, 5m; a bare number is seconds)',
    duration('--time-budget'),
  )
  .addOption(withDefault('--seq-len <L>', 'tokens per sequence, CLS included (with --step-time: a list or lo..hi range)', sizeList('--seq-len'), '512'))
  .option('--d-model <n>', 'model width d_model', positiveInt('--d-model'), 64)
  .option('--heads <H>', 'attention heads', positiveInt('--heads'), 2)
  .option('--layers <n>', 'encoder blocks', positiveInt('--layers'), 2)
  .option('--d-ff <n>', 'feed-forward width', positiveInt('--d-ff'), 128);

/** Random features per head in training (smaller than bench's 256: the models are small). */
const TRAIN_FEATURES = 64;

export const trainCommand = addCausalOptions(addFeatureOptions(trainModel, TRAIN_FEATURES), 'causal (unidirectional) attention in the encoder')
  .option('--batch <n>', 'sequences per step', positiveInt('--batch'), 16)
  .option('--lr <x>', 'peak learning rate (AdamW)', positiveNumber('--lr'), 1e-3)
  .option('--lr-warmup <steps>', 'linear learning-rate warm-up steps (fewer when --steps is short: a tenth of them)', nonNegativeInt('--lr-warmup'), 20)
  .addOption(new Option('--decay <schedule>', 'learning-rate decay after warm-up').choices(DECAYS).default('linear').argParser(oneOf('--decay', DECAYS)))
  .option('--weight-decay <x>', 'AdamW decoupled weight decay (weight matrices only)', fraction('--weight-decay'), 0.01)
  .option('--clip <x>', 'clip the global gradient norm to this (0: off)', (raw: string) => (raw === '0' ? 0 : positiveNumber('--clip')(raw)), 1)
  .option('--redraw-every <n>', 'draw new random features every n steps', positiveInt('--redraw-every'))
  .addOption(
    new Option('--pooling <p>', 'classifier input: mean over tokens, or the CLS token')
      .choices(POOLINGS)
      .default('mean')
      .argParser(oneOf('--pooling', POOLINGS)),
  )
  .option('--eval-every <n>', 'validate every n steps (outside the training clock)', positiveInt('--eval-every'), 25)
  .option('--eval-batches <n>', 'cap validation batches per evaluation (default: the whole split)', positiveInt('--eval-batches'))
  .option('--target-acc <x>', 'report training time and steps to this validation accuracy', fraction('--target-acc'))
  .option('--threads <n>', 'intra-op threads', positiveInt('--threads'))
  .addOption(new Option('--ep <provider>', 'execution provider').choices(EXECUTION_PROVIDERS).default('cpu').argParser(oneOf('--ep', EXECUTION_PROVIDERS)))
  .option('--step-time', 'moved: seconds per training step are `performer bench --scope train` (it prints the equivalent command)', false)
  .option('--repeat <n>', 'with --step-time: fresh processes per point in the equivalent bench command', positiveInt('--repeat'), 5)
  .option('--out <dir>', 'write results.json, results.csv, the journal results.jsonl and checkpoints there')
  .option('--resume', 'continue the journal and checkpoints in --out', false)
  .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table').argParser(oneOf('--format', FORMATS)))
  .addOption(
    new Option('--preset <name>', 'a named option set; explicit flags win').choices(TRAIN_PRESET_NAMES).argParser(oneOf('--preset', TRAIN_PRESET_NAMES)),
  )
  .addHelpText(
    'after',
    examples([
      ['performer train --preset quick', 'a smoke test on a toy task (seconds)'],
      ['performer train --task spam --target-acc 0.9 --out results/x', 'softmax vs favor-pos vs favor-relu on real e-mails'],
      ['performer train --preset poster --task text-csv --data imdb.csv', "the IMDB poster's comparison on your copy of IMDB"],
      ['performer train --task spam --objective lm --steps 200', 'a byte-level causal language model on the e-mails'],
      ['performer train --task fasta --objective mlm --out runs/sm --kernels softmax', "a protein masked LM (Debian's mmseqs2-examples)"],
      [
        'performer train --task fasta --objective mlm --init-from runs/sm --kernels softmax,favor-pos',
        "the trained softmax model's weights, continued with favor-pos",
      ],
    ]),
  )
  .action(async (o: TrainCli, cmd: Command) => {
    if (o.preset)
      for (const [k, v] of Object.entries(TRAIN_PRESETS[o.preset]!.values))
        if (cmd.getOptionValueSource(k) !== 'cli') (o as unknown as Record<string, unknown>)[k] = v;
    if (o.stepTime) {
      // What bench's train scope times: the classifier with mean pooling (as --step-time did).
      if (o.objective !== 'classify')
        throw usage('--step-time', `times the classifier's training step; --objective ${o.objective} is not timed`, 'drop --objective, or --step-time');
      if (o.pooling !== 'mean') throw usage('--pooling', `--step-time times mean pooling, not ${o.pooling}`, 'drop --pooling, or --step-time');
      throw usage('--step-time', `seconds per training step moved to bench, one fresh process per point; run: ${stepTimeCommand(o, cmd)}`);
    }
    const req = trainRequest(o, cmd);
    const stop = onStopSignal();
    try {
      process.exitCode = await runTrainCommand(req, {
        out: o.out ?? null,
        resume: o.resume,
        format: o.format,
        signal: stop.signal,
        exitCode: stop.exitCode,
      });
    } finally {
      stop.dispose();
    }
  });

/**
 * The bench command that times what `train --step-time` timed: train's model and its attention
 * options (the values in effect, defaults included), byte-level vocabulary, --repeat processes.
 */
export function stepTimeCommand(o: TrainCli, cmd: Command): string {
  const typed = (key: string) => cmd.getOptionValueSource(key) === 'cli';
  const args = [
    ['--scope', 'train'],
    ['--kernels', [...new Set(o.kernels.map((k) => parseRunLabel(k).kernel))].join(',')],
    ['--seq-len', o.seqLen.join(',')],
    ['--d-model', o.dModel],
    ['--heads', o.heads],
    ['--layers', o.layers],
    ['--d-ff', o.dFf],
    ['--batch', o.batch],
    ['--features', o.features],
    ['--vocab', BYTE_VOCAB],
    ['--repeat', o.repeat],
    ...(typed('featureType') ? [['--feature-type', o.featureType]] : []),
    ...(o.causal ? [['--causal'], ['--causal-impl', o.causalImpl], ['--chunk-size', o.chunkSize]] : []),
    ...(o.threads !== undefined ? [['--threads', o.threads]] : []),
    ...(o.ep !== 'cpu' ? [['--ep', o.ep]] : []),
    ...(o.out ? [['--out', o.out]] : []),
  ];
  return ['performer bench', ...args.map((a) => a.join(' '))].join(' ');
}

/** Checks the flags together and builds the request. */
function trainRequest(o: TrainCli, cmd: Command): TrainRequest {
  for (const label of o.kernels) {
    const { kernel: k, scratch } = parseRunLabel(label);
    const spec = getKernel(k, '--kernels');
    if (scratch && !o.initFrom) throw usage('--kernels', `${label}: +scratch only means something with --init-from`);
    if (!spec.supportsBackward)
      throw usage('--kernels', `kernel ${k} has no backward graph, so it cannot train`, KERNEL_NAMES.filter((n) => getKernel(n).supportsBackward).join(', '));
    if ((o.causal || o.objective === 'lm') && !spec.supportsCausal) throw usage(o.causal ? '--causal' : '--objective', `kernel ${k} has no causal mode`);
  }
  checkModelWidth(o.dModel, o.heads);
  if (o.seqLen.length !== 1) throw usage('--seq-len', 'training takes one length (lists: performer bench --scope train)', 'one integer');
  if (o.seqLen.some((L) => L < 2 || L > 65536)) throw usage('--seq-len', `${o.seqLen.join(',')} is out of range`, '2..65536');
  if (o.task === 'text-csv' && !o.data) throw usage('--data', 'task text-csv needs your labelled text', 'a CSV file or a folder per class');
  if (o.data && o.task !== 'text-csv' && o.task !== 'fasta') throw usage('--data', `--task ${o.task} takes no --data`, 'use --task text-csv or fasta');
  if (o.objective === 'mlm' && o.causal)
    throw usage('--causal', 'the masked language model (--objective mlm) is bidirectional', 'drop --causal, or --objective lm');
  if (o.objective === 'mlm' && o.task !== 'fasta')
    throw usage('--objective', `mlm needs a mask token; task ${o.task} has none`, 'mlm with --task fasta; lm or classify otherwise');
  if (o.objective === 'classify' && o.task === 'fasta') throw usage('--objective', 'FASTA sequences carry no labels to classify', 'lm, mlm');
  if (o.initKernel && !o.initFrom) throw usage('--init-kernel', 'needs --init-from');
  if (o.resume && !o.out) throw usage('--resume', 'needs --out (the directory holding the journal)');
  // The default warm-up shrinks with short runs; an explicit one must fit.
  const warmup = cmd.getOptionValueSource('lrWarmup') !== 'cli' && o.lrWarmup > o.steps ? Math.floor(o.steps / 10) : o.lrWarmup;
  if (warmup > o.steps) throw usage('--lr-warmup', `${o.lrWarmup} warm-up steps exceed --steps ${o.steps}`, `≤ ${o.steps}`);
  if (o.out) {
    refuseOtherKind(o.out, 'train', o.resume ? '--resume' : '--out');
    ensureDir(o.out);
    lockDir(o.out);
  }
  return {
    task: o.task,
    objective: o.objective,
    ...(o.data ? { data: o.data } : {}),
    ...(o.initFrom ? { initFrom: o.initFrom } : {}),
    ...(o.initKernel ? { initKernel: o.initKernel } : {}),
    kernels: o.kernels,
    seeds: o.seeds,
    steps: o.steps,
    timeBudgetS: o.timeBudget ?? null,
    seqLen: o.seqLen[0]!,
    dim: o.dModel,
    heads: o.heads,
    layers: o.layers,
    dFf: o.dFf,
    features: o.features,
    featureType: o.featureType,
    batch: o.batch,
    lr: o.lr,
    warmup,
    decay: o.decay,
    weightDecay: o.weightDecay,
    clip: o.clip,
    redrawEvery: o.redrawEvery ?? null,
    pooling: o.pooling,
    causal: o.causal || o.objective === 'lm',
    causalImpl: o.causalImpl,
    chunkSize: o.chunkSize,
    evalEvery: o.evalEvery,
    evalBatches: o.evalBatches ?? null,
    targetAcc: o.targetAcc ?? null,
    threads: o.threads ?? null,
    ep: o.ep,
  };
}

interface RunOptions {
  out: string | null;
  resume: boolean;
  format: (typeof FORMATS)[number];
  signal: AbortSignal;
  exitCode: () => number;
}

/** Runs training, writes the files and prints; returns the exit code. */
async function runTrainCommand(req: TrainRequest, o: RunOptions): Promise<number> {
  const [{ providerAvailable, unavailable }, { formatResults, writeResultsFiles }, terminal] = await Promise.all([
    import('../runtime/session.ts'),
    import('../report/output.ts'),
    import('../report/terminal.ts'),
  ]);
  if (!providerAvailable(req.ep)) throw usage('--ep', unavailable(req.ep));
  const hooks = { progress: terminal.progress, note: terminal.note, signal: o.signal };
  const { runTraining, TrainingStopped } = await import('../train/run.ts');
  let doc;
  try {
    doc = await runTraining(req, o.out, o.resume, hooks).finally(terminal.progressDone);
  } catch (e) {
    if (!(e instanceof TrainingStopped)) throw e;
    terminal.note(`stopped: ${e.message}${o.out ? `; continue with the same command and --resume` : ''}`);
    return o.exitCode();
  }
  if (o.out) writeResultsFiles(o.out, doc);
  (o.format === 'table' ? terminal.show : terminal.print)(formatResults(doc, o.format));
  return 0;
}
