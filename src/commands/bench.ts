import os from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { deriveRecords } from '../bench/derive.ts';
import { childExecutor, type Executor } from '../bench/executor.ts';
import { expandGrid, type GridOptions } from '../bench/grid.ts';
import { getRoofline, type Roofline } from '../bench/roofline.ts';
import { BENCH_PRESETS, PRESET_NAMES } from '../bench/presets.ts';
import { runBench } from '../bench/runner.ts';
import { parseShard, type Shard, takeShard } from '../bench/shard.ts';
import { crossovers, exponents } from '../bench/summary.ts';
import { type BenchRecord, type MeasureOptions, pointKey, SCHEMA_VERSION, type Scope } from '../bench/types.ts';

const SCOPES = ['attention', 'model'] as const satisfies readonly Scope[];
import { collectEnvironment } from '../environment.ts';
import { usage } from '../errors.ts';
import { checkModelWidth } from '../model/encoder.ts';
import { PASSES, type Pass } from '../kernels/build.ts';
import { KERNEL_NAMES } from '../kernels/index.ts';
import type { DType } from '../onnx/ir.ts';
import { CSV_COLUMNS, errorLines, profileLines, summaryLines, TABLE_HEAD, tableRow } from '../report/bench.ts';
import { toBmf, toGab } from '../report/ci-formats.ts';
import { toCsv, toJson, toMarkdown, type ResultsDocument } from '../report/formats.ts';
import { appendJournal, ensureDir, readJournal, writeAtomic } from '../report/results.ts';
import { print, progress, progressDone, renderTable } from '../report/terminal.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/session.ts';
import {
  addKernelOptions, byteSize, DEFAULT_BENCH_HEADS, DEFAULT_DIM, DTYPES, kernelConfig, listOf, nonNegativeInt, oneOf, positiveInt, sizeList,
  type KernelOptionValues,
} from './options.ts';

export const FORMATS = ['table', 'csv', 'json', 'markdown'] as const;
export const BENCH_FORMATS = [...FORMATS, 'gab', 'bmf'] as const;
export type BenchFormat = (typeof BENCH_FORMATS)[number];
export type Format = (typeof FORMATS)[number];

export interface BenchRequest {
  readonly grid: GridOptions;
  readonly measure: MeasureOptions;
  readonly memoryBudgetBytes: number;
  readonly out: string | null;
  readonly resume: boolean;
  readonly roofline: 'cached' | 'refresh' | 'off';
  readonly shard: Shard | null;
  readonly interleave: boolean;
}

export interface BenchDocument extends ResultsDocument<BenchRecord> {
  readonly kind: 'bench';
  readonly roofline: Roofline | null;
  readonly summary: { crossovers: ReturnType<typeof crossovers>; exponents: ReturnType<typeof exponents> };
}

export interface BenchOutcome {
  readonly doc: BenchDocument;
  readonly interrupted: boolean;
}

/** Runs a bench request end to end: grid → measurements → derived figures → files. */
export async function runBenchRequest(req: BenchRequest, opts: { executor?: Executor; signal?: AbortSignal } = {}): Promise<BenchOutcome> {
  if (req.out) ensureDir(req.out);
  const points = takeShard(expandGrid(req.grid), req.shard);
  const done = new Map<string, BenchRecord>();
  if (req.out && req.resume) for (const r of readJournal<BenchRecord>(req.out)) done.set(pointKey(r), r);
  const environment = collectEnvironment(); // the code and machine as the run starts
  const started = performance.now();
  let finished = 0;
  const raw = await runBench({ points, measure: req.measure, memoryBudgetBytes: req.memoryBudgetBytes, interleave: req.interleave }, opts.executor ?? childExecutor(), {
    done,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onStart: (p, i, total) => {
      const eta = finished ? ((performance.now() - started) / finished) * (total - i) : null;
      progress(`[${i + 1}/${total}] ${p.kernel} ${p.pass} L=${p.seqLen}${eta !== null ? `  ETA ${Math.ceil(eta / 1000)} s` : ''}`);
    },
    onRecord: (r) => {
      finished++;
      if (req.out) appendJournal(req.out, r);
    },
  });
  progressDone();
  const roofline = req.roofline === 'off' ? null : await getRoofline(req.grid.ep, req.grid.threads, req.roofline === 'refresh');
  const records = deriveRecords(raw, roofline?.matmulGflops ?? null);
  const doc: BenchDocument = {
    schemaVersion: SCHEMA_VERSION,
    kind: 'bench',
    environment,
    options: { ...req.grid, ...req.measure, memoryBudgetBytes: req.memoryBudgetBytes, shard: req.shard ?? undefined, interleave: req.interleave },
    roofline,
    summary: { crossovers: crossovers(records), exponents: exponents(records) },
    records,
  };
  if (req.out) writeResults(req.out, doc);
  return { doc, interrupted: Boolean(opts.signal?.aborted) };
}

export function writeResults(dir: string, doc: BenchDocument): void {
  writeAtomic(join(dir, 'results.json'), toJson(doc));
  writeAtomic(join(dir, 'results.csv'), toCsv(doc.records, CSV_COLUMNS));
}

export function formatBench(doc: BenchDocument, format: BenchFormat): string {
  switch (format) {
    case 'gab':
      return toGab(doc.records);
    case 'bmf':
      return toBmf(doc.records);
    case 'json':
      return toJson(doc);
    case 'csv':
      return toCsv(doc.records, CSV_COLUMNS);
    case 'markdown':
      return toMarkdown(TABLE_HEAD, doc.records.map((r) => tableRow(r, false)));
    case 'table': {
      const rf = doc.roofline;
      const lines = [
        renderTable(TABLE_HEAD, doc.records.map((r) => tableRow(r))),
        ...summaryLines(doc.summary.crossovers, doc.summary.exponents),
        ...profileLines(doc.records),
        ...errorLines(doc.records),
      ];
      if (rf) lines.push(`roofline: ${rf.matmulGflops.toFixed(1)} GFLOP/s float32 matmul (n = ${rf.matmulSize}), ${rf.bandwidthGBps.toFixed(1)} GB/s elementwise, ${rf.ep}${rf.threads ? `, ${rf.threads} threads` : ''}`);
      return lines.join('\n');
    }
  }
}

interface BenchCliOptions extends KernelOptionValues {
  kernels: string[];
  seqLens: number[];
  pass: Pass[];
  batch: number[];
  heads: number;
  dim: number;
  ep: ExecutionProvider;
  threads?: number;
  dtype: DType;
  timeMs: number;
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
  roofline: boolean;
  refreshRoofline: boolean;
}

export const DEFAULT_BENCH_KERNELS = 'softmax,softmax-fused,favor-pos,identity';

export const benchCommand = addKernelOptions(
  new Command('bench')
    .description('forward/backward timings, peak memory and FLOP rates of attention kernels over sequence lengths')
    .option('--kernels <list>', 'kernels to time', listOf('--kernels', KERNEL_NAMES), listOf('--kernels', KERNEL_NAMES)(DEFAULT_BENCH_KERNELS))
    .option('--seq-lens <list>', 'sequence lengths: a,b,c or a power-of-two range lo..hi', sizeList('--seq-lens'), sizeList('--seq-lens')('256..8192'))
    .option('--pass <list>', 'forward, backward (the whole gradient pass), or both', listOf('--pass', PASSES), [...PASSES])
    .option('--batch <list>', 'batch sizes', sizeList('--batch'), [1])
    .option('--heads <H>', 'attention heads', positiveInt('--heads'), DEFAULT_BENCH_HEADS)
    .option('--dim <d>', 'head dimension', positiveInt('--dim'), DEFAULT_DIM),
)
  .addOption(new Option('--ep <provider>', 'execution provider').choices(EXECUTION_PROVIDERS).default('cpu').argParser(oneOf('--ep', EXECUTION_PROVIDERS)))
  .option('--threads <n>', 'intra-op threads (default: ONNX Runtime chooses, one per core)', positiveInt('--threads'))
  .addOption(new Option('--dtype <dtype>', 'element type').choices(DTYPES).default('float32').argParser(oneOf('--dtype', DTYPES)))
  .option('--time-ms <ms>', 'time budget of the timed runs per point', positiveInt('--time-ms'), 200)
  .option('--min-runs <n>', 'minimum timed runs per point', positiveInt('--min-runs'), 5)
  .option('--warmup <n>', 'untimed warm-up runs after the first run', nonNegativeInt('--warmup'), 1)
  .option('--memory-budget <size>', 'skip points whose estimate exceeds it, as oom (e.g. 16GiB, 80%)', byteSize('--memory-budget', os.totalmem()), Math.floor(0.8 * os.totalmem()))
  .addOption(new Option('--format <format>', 'output format (gab: github-action-benchmark, bmf: Bencher)').choices(BENCH_FORMATS).default('table').argParser(oneOf('--format', BENCH_FORMATS)))
  .option('--out <dir>', 'write results.json, results.csv and the journal results.jsonl there')
  .addOption(new Option('--scope <scope>', 'attention alone, or a whole encoder (then --dim is d_model)').choices(SCOPES).default('attention').argParser(oneOf('--scope', SCOPES)))
  .option('--layers <n>', 'encoder blocks (model scope)', positiveInt('--layers'), 6)
  .option('--d-ff <n>', 'feed-forward width (model scope)', positiveInt('--d-ff'), 2048)
  .option('--vocab <n>', 'vocabulary (model scope)', positiveInt('--vocab'), 256)
  .option('--interleave', 'time the kernels of each size in alternating rounds in one process (cancels drift; no per-point peak memory)', false)
  .option('--shard <i/n>', 'run only shard i of n of the grid (join shards with `performer merge`)', parseShard)
  .addOption(new Option('--preset <name>', 'a named option set; explicit flags win').choices(PRESET_NAMES).argParser(oneOf('--preset', PRESET_NAMES)))
  .option('--resume', 'skip the points already in <out>/results.jsonl', false)
  .option('--profile', "per-operator time from ONNX Runtime's profiler", false)
  .option('--no-roofline', 'do not measure or show the roofline fraction')
  .option('--refresh-roofline', 're-measure the roofline instead of using the cached one', false)
  .action(async (o: BenchCliOptions, cmd: Command) => {
    if (o.preset) applyPreset(o as unknown as Record<string, unknown>, BENCH_PRESETS[o.preset]!.values, cmd);
    const req = benchRequest(o);
    const ac = new AbortController();
    const onInt = () => ac.abort();
    process.once('SIGINT', onInt);
    const { doc, interrupted } = await runBenchRequest(req, { signal: ac.signal }).finally(() => process.off('SIGINT', onInt));
    print(formatBench(doc, o.format));
    if (interrupted) {
      process.stderr.write(`interrupted: ${doc.records.length} of ${takeShard(expandGrid(req.grid), req.shard).length} points finished${req.out ? `; partial results in ${req.out} (continue with --resume)` : ''}\n`);
      process.exitCode = 130;
    } else process.exitCode = doc.records.some((r) => r.status === 'error') ? 1 : 0;
  });

/** Fills options still at their defaults from a preset (commander knows each value's source). */
export function applyPreset(o: Record<string, unknown>, values: Readonly<Record<string, unknown>>, cmd: Command): void {
  for (const [key, value] of Object.entries(values)) if (cmd.getOptionValueSource(key) !== 'cli') o[key] = value;
}

export function benchRequest(o: BenchCliOptions): BenchRequest {
  if (o.resume && !o.out) throw usage('--resume', 'needs --out <dir> (the journal to resume from)');
  if (o.scope === 'model') checkModelWidth(o.dim, o.heads);
  const k = kernelConfig(o);
  return {
    grid: {
      kernels: o.kernels, seqLens: o.seqLens, passes: o.pass, batches: o.batch, heads: o.heads, dim: o.dim,
      features: k.features, featureType: k.featureType, causal: k.causal, causalImpl: k.causalImpl, chunkSize: k.chunkSize,
      scope: o.scope, ep: o.ep, dtype: o.dtype, seed: k.seed, threads: o.threads ?? null,
      layers: o.layers, dFf: o.dFf, vocab: o.vocab,
    },
    measure: { timeMs: o.timeMs, minRuns: o.minRuns, warmupRuns: o.warmup, profile: o.profile },
    memoryBudgetBytes: o.memoryBudget,
    out: o.out ?? null,
    resume: o.resume,
    roofline: !o.roofline ? 'off' : o.refreshRoofline ? 'refresh' : 'cached',
    shard: o.shard ?? null,
    interleave: o.interleave,
  };
}
