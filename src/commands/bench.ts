import os from 'node:os';
import { Command, Option } from 'commander';
import { BENCH_PRESETS, PRESET_NAMES } from '../bench/presets.ts';
import { join } from 'node:path';
import type { BenchRequest } from '../bench/run.ts';
import { compareTable } from '../report/compare.ts';
import { refuseOtherKind, writeAtomic } from '../results/files.ts';
import { parseShard, type Shard } from '../bench/shard.ts';
import { isModelScope, type MeasureOptions, type Scope } from '../bench/types.ts';
import { DEFAULT_DIM, DEFAULT_HEADS } from '../defaults.ts';
import { usage } from '../errors.ts';
import { PASSES, type Pass } from '../kernels/build.ts';
import { DEFAULT_KERNELS, KERNEL_NAMES } from '../kernels/index.ts';
import { checkModelWidth } from '../model/encoder.ts';
import type { DType } from '../onnx/ir.ts';
import { BENCH_FORMATS, type BenchFormat, formatResults, writeResultsFiles } from '../report/output.ts';
import { progressReporter } from '../report/progress.ts';
import { formatBytes, note, print, progressDone, show, warn } from '../report/terminal.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/providers.ts';
import {
  addKernelOptions,
  byteSize,
  DTYPES,
  duration,
  onStopSignal,
  kernelConfig,
  listOf,
  nonNegativeInt,
  oneOf,
  positiveInt,
  positiveNumber,
  sizeList,
  withDefault,
  type KernelOptionValues,
} from './options.ts';
import { examples } from './help.ts';

const SCOPES = ['attention', 'model', 'train'] as const satisfies readonly Scope[];

interface BenchCliOptions extends KernelOptionValues {
  kernels: string[];
  seqLen: number[];
  pass: Pass[];
  batch: number[];
  heads: number;
  dim: number;
  ep: ExecutionProvider;
  threads?: number;
  dtype: DType;
  timeBudget: number;
  dModel?: number;
  minRuns: number;
  warmup: number;
  memoryBudget: number;
  format: BenchFormat;
  out?: string;
  resume: boolean;
  profile: boolean;
  shard?: Shard;
  preset?: string;
  interleave: boolean;
  scope: Scope;
  layers: number;
  dFf: number;
  vocab: number;
  limit: boolean;
  refreshLimit: boolean;
  repeat: number;
  against?: string;
  threshold: number;
  quiet: boolean;
}

const RAM_SHARE = '80%';

export const benchCommand = addKernelOptions(
  new Command('bench')
    .description('forward/backward timings, peak memory and FLOP rates of attention kernels over sequence lengths')
    .addOption(withDefault('--kernels <list>', 'kernels to time', listOf('--kernels', KERNEL_NAMES), DEFAULT_KERNELS.bench.join(',')))
    .addOption(withDefault('--seq-len <list>', 'sequence lengths L in tokens: a,b,c or a power-of-two range lo..hi', sizeList('--seq-len'), '256..8192'))
    .addOption(withDefault('--pass <list>', 'forward, backward (the whole gradient pass), or both', listOf('--pass', PASSES), PASSES.join(',')))
    .addOption(withDefault('--batch <list>', 'batch sizes', sizeList('--batch'), '1'))
    .option('--heads <H>', 'attention heads', positiveInt('--heads'), DEFAULT_HEADS)
    .option('--dim <d>', 'head dimension d, elements per head (with --scope model or train, the old spelling of --d-model)', positiveInt('--dim'), DEFAULT_DIM),
)
  .addOption(
    new Option('--ep <provider>', 'execution provider').choices(EXECUTION_PROVIDERS).default('cpu', 'cpu').argParser(oneOf('--ep', EXECUTION_PROVIDERS)),
  )
  .option('--threads <n>', 'intra-op threads (default: ONNX Runtime chooses, one per core)', positiveInt('--threads'))
  .addOption(new Option('--dtype <dtype>', 'element type').choices(DTYPES).default('float32', 'float32').argParser(oneOf('--dtype', DTYPES)))
  .addOption(
    withDefault(
      '--time-budget <duration>',
      'clock budget of the timed runs per process (200ms, 2s; a bare number is seconds)',
      duration('--time-budget'),
      '200ms',
    ),
  )
  .option('--min-runs <n>', 'minimum timed runs per process', positiveInt('--min-runs'), 5)
  .option('--warmup <n>', 'untimed warm-up runs after the first run', nonNegativeInt('--warmup'), 1)
  .addOption(
    withDefault(
      '--memory-budget <size>',
      'skip points whose estimate exceeds it, as oom (e.g. 16GiB, 80%)',
      byteSize('--memory-budget', os.totalmem()),
      RAM_SHARE,
      `${RAM_SHARE} of RAM, ${formatBytes(0.8 * os.totalmem())}`,
    ),
  )
  .addOption(
    new Option('--format <format>', 'output format (gab: github-action-benchmark, bmf: Bencher)')
      .choices(BENCH_FORMATS)
      .default('table', 'table')
      .argParser(oneOf('--format', BENCH_FORMATS)),
  )
  .option('--out <dir>', 'write results.json, results.csv and the journal results.jsonl there')
  .addOption(
    new Option(
      '--scope <scope>',
      "attention alone, a whole encoder of width --d-model, or train: one optimiser step of performer train's classifier (forward, backward, clip and AdamW on the host)",
    )
      .choices(SCOPES)
      .default('attention', 'attention')
      .argParser(oneOf('--scope', SCOPES)),
  )
  .option('--d-model <n>', "model width d_model (model and train scopes; default: --dim's value, 64)", positiveInt('--d-model'))
  .option('--layers <n>', 'encoder blocks (model and train scopes)', positiveInt('--layers'), 6)
  .option('--d-ff <n>', 'feed-forward width (model and train scopes)', positiveInt('--d-ff'), 2048)
  .option('--vocab <n>', 'vocabulary (model and train scopes)', positiveInt('--vocab'), 256)
  .option('--repeat <N>', 'fresh processes per point, run in interleaved rounds: the unit of replication that compare tests on', positiveInt('--repeat'), 1)
  .option(
    '--against <checkout>',
    'relative mode: time every point in this checkout and in <checkout> in alternating processes, then test the paired ratios (the CI gate for shared runners)',
  )
  .addOption(
    withDefault(
      '--threshold <pct>',
      'with --against: the smallest slowdown that fails the run',
      (v: string) => positiveNumber('--threshold')(v.replace(/%$/, '')) / 100,
      '10%',
    ),
  )
  .option('--interleave', 'time the kernels of each size in alternating rounds in one process (cancels drift; no per-point peak memory)', false)
  .option('--shard <i/n>', 'run only shard i of n of the grid (join shards with `performer merge`)', parseShard)
  .addOption(new Option('--preset <name>', 'a named option set; explicit flags win').choices(PRESET_NAMES).argParser(oneOf('--preset', PRESET_NAMES)))
  .option('--resume', 'skip the points already in <out>/results.jsonl', false)
  .option('--profile', "per-node time from ONNX Runtime's profiler beside the limit model's bound, largest gaps first", false)
  .option('--quiet', 'no progress lines on stderr', false)
  .option('--no-limit', 'no limit model (limitMs, % limit) and no roofline measurement: nothing measured beyond the points')
  .option('--refresh-limit', "measure the limit model's rates and the roofline again (the cache keeps the best rate seen)", false)
  .addHelpText(
    'after',
    examples([
      ['performer bench', 'every default kernel, L = 256..8192, about a minute'],
      [
        'performer bench --kernels softmax,favor-pos --heads 8 --seq-len 1024..16384 --repeat 5 --out mine',
        'favor-pos against softmax, 8 heads, 5 processes per point, files kept',
      ],
      ['performer bench --preset ci --against ../base', 'the CI gate: this checkout against ../base, round by round'],
    ]),
  )
  .action(async (o: BenchCliOptions, cmd: Command) => {
    if (o.preset) applyPreset(o as unknown as Record<string, unknown>, BENCH_PRESETS[o.preset]!.values, cmd);
    modelWidth(o, cmd);
    trainScope(o, cmd);
    // Left at their defaults, kernels and passes form the default grid: combinations that cannot
    // run (fused softmax has no backward) are left out of it, said once, not shown as skipped rows.
    const defaultGrid = cmd.getOptionValueSource('kernels') !== 'cli' && cmd.getOptionValueSource('pass') !== 'cli';
    const req = { ...benchRequest(o), omitUnsupported: defaultGrid };
    if (req.out) refuseOtherKind(req.out, 'bench', req.resume ? '--resume' : '--out');
    // ONNX Runtime and the pipeline load here, not at start-up: --help and --version stay instant.
    const { checkRequest, runBenchRequest, unsupportedCombinations } = await import('../bench/run.ts');
    await checkRequest(req);
    if (o.against) return relative(req, o.against, o);
    const stop = onStopSignal();
    const { doc, interrupted, planned } = await runBenchRequest(req, { signal: stop.signal, ...progressReporter(o.quiet), onNote: warn }).finally(() => {
      stop.dispose();
      progressDone();
    });
    if (req.out) writeResultsFiles(req.out, doc);
    if (defaultGrid && !o.quiet) for (const c of unsupportedCombinations(req)) note(`left out of the default grid: ${c}`);
    (o.format === 'table' ? show : print)(formatResults(doc, o.format));
    if (interrupted) {
      process.stderr.write(
        `interrupted (${stop.received()}): ${doc.records.length} of ${planned} points have results${req.out ? `; every finished process is kept in ${req.out} (continue with the same command and --resume)` : ''}\n`,
      );
      process.exitCode = stop.exitCode();
    } else process.exitCode = doc.records.some((r) => r.status === 'error' || r.status === 'invalid') ? 1 : 0;
  });

/** `--against`: both checkouts measured round by round, then the paired verdicts; exit 1 on a real slowdown. */
async function relative(req: BenchRequest, against: string, o: BenchCliOptions): Promise<void> {
  if (req.resume) throw usage('--resume', 'is not supported with --against (a relative run pairs processes of one run)');
  if (req.repeat < 2) throw usage('--repeat', 'relative mode pairs rounds: it needs --repeat ≥ 2', 'e.g. --repeat 7');
  const { runRelative } = await import('../bench/run.ts');
  const { compareRecords } = await import('../ci/compare.ts');
  const stop = onStopSignal();
  const run = await runRelative(req, against, { signal: stop.signal, ...progressReporter(o.quiet) }).finally(() => {
    stop.dispose();
    progressDone();
  });
  if (req.out) {
    writeResultsFiles(req.out, run.candidate);
    writeAtomic(join(req.out, 'baseline.json'), formatResults(run.baseline, 'json'));
  }
  const opts = { threshold: o.threshold, alpha: 0.05, metric: 'median' as const, paired: true };
  const out = compareRecords('bench', run.baseline.records, run.candidate.records, opts);
  const code = out.code;
  if (o.format === 'json')
    print(JSON.stringify({ verdict: code === 2 ? 'invalid' : code ? 'regression' : 'ok', paired: true, comparisons: out.rows }, null, 2));
  else show(compareTable(out, opts));
  if (run.interrupted) {
    process.stderr.write(`interrupted (${stop.received()}): the relative run stopped early; its verdicts cover the rounds that finished\n`);
    process.exitCode = stop.exitCode();
  } else process.exitCode = code;
}

/**
 * With --scope model the encoder's width is --d-model; --dim, its old spelling there, still
 * works (and, typed, wins over a preset's width). Elsewhere --d-model means nothing.
 */
function modelWidth(o: BenchCliOptions, cmd: Command): void {
  const typed = (key: string) => cmd.getOptionValueSource(key) === 'cli';
  if (!isModelScope(o.scope)) {
    if (typed('dModel')) throw usage('--d-model', 'is the width of a whole encoder', 'with --scope model or train (--dim is the head dimension)');
    return;
  }
  if (typed('dim') && typed('dModel')) throw usage('--d-model', `and --dim (its old spelling with --scope ${o.scope}) are both given`, 'one of them');
  if (!typed('dim') && o.dModel !== undefined) o.dim = o.dModel;
}

/**
 * --scope train times a whole training step: its pass is backward (the default there), in
 * float32 (the optimiser's dtype), and ONNX Runtime's profiler would miss the host's share.
 */
function trainScope(o: BenchCliOptions, cmd: Command): void {
  if (o.scope !== 'train') return;
  if (cmd.getOptionValueSource('pass') !== 'cli') o.pass = ['backward'];
  else if (o.pass.includes('forward'))
    throw usage('--pass', 'a training step is a forward and a backward pass: --scope train times it as backward', 'backward (the default with --scope train)');
  if (o.dtype !== 'float32') throw usage('--dtype', `--scope train trains in float32, not ${o.dtype}`, 'float32');
  if (o.profile)
    throw usage('--profile', "with --scope train: the profiler sees ONNX Runtime's nodes, not the host's optimiser step", 'drop --profile, or --scope model');
}

/** Fills options still at their defaults from a preset (commander knows each value's source). */
export function applyPreset(o: Record<string, unknown>, values: Readonly<Record<string, unknown>>, cmd: Command): void {
  for (const [key, value] of Object.entries(values)) if (cmd.getOptionValueSource(key) !== 'cli') o[key] = value;
}

/** The validated request the bench pipeline runs. */
export function benchRequest(o: BenchCliOptions): BenchRequest {
  if (o.resume && !o.out) throw usage('--resume', 'needs --out <dir> (the journal to resume from)');
  if (isModelScope(o.scope)) checkModelWidth(o.dim, o.heads, o.dModel === undefined ? '--dim' : '--d-model');
  const k = kernelConfig(o);
  const measure: MeasureOptions = { timeMs: o.timeBudget * 1000, minRuns: o.minRuns, warmupRuns: o.warmup, profile: o.profile };
  return {
    grid: {
      kernels: o.kernels,
      seqLens: o.seqLen,
      passes: o.pass,
      batches: o.batch,
      heads: o.heads,
      dim: o.dim,
      features: k.features,
      featureType: k.featureType,
      causal: k.causal,
      causalImpl: k.causalImpl,
      chunkSize: k.chunkSize,
      scope: o.scope,
      ep: o.ep,
      dtype: o.dtype,
      seed: k.seed,
      threads: o.threads ?? null,
      layers: o.layers,
      dFf: o.dFf,
      vocab: o.vocab,
    },
    measure,
    memoryBudgetBytes: o.memoryBudget,
    out: o.out ?? null,
    resume: o.resume,
    limit: !o.limit ? 'off' : o.refreshLimit ? 'refresh' : 'cached',
    shard: o.shard ?? null,
    interleave: o.interleave,
    repeat: o.repeat,
  };
}
