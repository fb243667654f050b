/**
 * The bench pipeline: request → grid of points → measurements (one child process each) →
 * derived figures → results document and files. `performer bench` and `performer merge` finish
 * through the same {@link finishBench}.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkoutEnvironment, collectEnvironment } from '../environment.ts';
import { usage } from '../errors.ts';
import { formatBytes } from '../units.ts';
import { getKernel } from '../kernels/index.ts';
import { providerProblem } from '../runtime/info.ts';
import { appendJournal, ensureDir, lockDir, openJournal } from '../results/files.ts';
import { EtaModel } from './eta.ts';
import { finishBench } from './finish.ts';
import { childExecutor, type Executor } from './executor.ts';
import { expandGrid, type GridOptions } from './grid.ts';
import { priceRecords } from '../limit/price.ts';
import { getRoofline } from '../limit/roofline.ts';
import { pointConfig } from './graph.ts';
import { makeRecord, type ProcessEntry, runBench, unsupported } from './runner.ts';
import { pointKey } from '../results/keys.ts';
import { type Shard, takeShard } from './shard.ts';
import type { BenchDocument, BenchPoint, BenchRecord, Measurement, MeasureOptions } from './types.ts';

export interface BenchRequest {
  readonly grid: GridOptions;
  readonly measure: MeasureOptions;
  readonly memoryBudgetBytes: number;
  readonly out: string | null;
  readonly resume: boolean;
  /** The limit model (and the roofline figure): cached rates, measured again, or off. */
  readonly limit: 'cached' | 'refresh' | 'off';
  readonly shard: Shard | null;
  readonly interleave: boolean;
  /** Fresh processes per point (the unit of replication), in interleaved rounds. */
  readonly repeat: number;
  /** Leave out points that cannot run (the default grid: fused softmax has no backward) instead of recording them as skipped. */
  readonly omitUnsupported?: boolean;
}

export interface BenchOutcome {
  readonly doc: BenchDocument;
  readonly interrupted: boolean;
  /** Points the request asked for (after sharding). */
  readonly planned: number;
}

/** The points a request measures, in order. */
export const plannedPoints = (req: BenchRequest) =>
  takeShard(
    expandGrid(req.grid).filter((p) => !req.omitUnsupported || unsupported(p) === null),
    req.shard,
  );

/** The combinations of the grid that cannot run, one line each (kernel, pass: why). */
export const unsupportedCombinations = (req: BenchRequest): string[] => [
  ...new Set(
    expandGrid(req.grid).flatMap((p) => {
      const why = unsupported(p);
      return why ? [`${p.kernel} ${p.pass} (${why.replace(/^--\S+: /, '').replace(/ \(allowed: .*\)$/, '')})`] : [];
    }),
  ),
];

/**
 * Refuses, once and before any process starts, a request that cannot produce a result: a
 * provider that is not installed, a grid where no point can be built, or features whose smallest
 * point cannot fit the memory budget (a lower bound: queries' and keys' projections and features,
 * 4·B·H·L·r float32 values, plus the m×d projection).
 */
export async function checkRequest(req: BenchRequest): Promise<void> {
  const problem = await providerProblem(req.grid.ep);
  if (problem) throw usage('--ep', problem, 'cpu, or a provider `performer info` lists as loadable');
  const points = takeShard(expandGrid(req.grid), req.shard);
  const reasons = points.map(unsupported);
  if (points.length && reasons.every((r) => r !== null)) throw usage('--kernels', `nothing in this grid can run: ${reasons[0]}`);
  const runnable = points.filter((_, i) => reasons[i] === null);
  const bytes = (p: BenchPoint) => {
    const spec = getKernel(p.kernel);
    const r = spec.featureWidth?.(pointConfig(p), p.dim) ?? 0;
    return 4 * 4 * p.batch * p.heads * p.seqLen * r + (spec.projection ? 12 * p.features * p.dim : 0);
  };
  const smallest = Math.min(...runnable.map(bytes));
  if (runnable.length && smallest > req.memoryBudgetBytes) {
    throw usage(
      '--features',
      `${req.grid.features} features need at least ${formatBytes(smallest)} at the smallest point, over the memory budget of ${formatBytes(req.memoryBudgetBytes)}`,
      'fewer features, or a larger --memory-budget',
    );
  }
}

/** Every option of the request that decides what is measured and how: recorded in results and the journal's header. */
export const requestOptions = (req: BenchRequest): Record<string, unknown> => ({
  ...req.grid,
  ...req.measure,
  memoryBudgetBytes: req.memoryBudgetBytes,
  shard: req.shard ?? undefined,
  interleave: req.interleave,
  repeat: req.repeat,
});

export interface BenchHooks {
  readonly executor?: Executor;
  readonly signal?: AbortSignal;
  /** Before each process: its index, the total and the estimated ms left (null until one finished). */
  onStart?(point: BenchPoint, index: number, total: number, etaMs: number | null): void;
  /** After each process: how many are done, the total and the estimated ms left. */
  onDone?(point: BenchPoint, done: number, total: number, etaMs: number | null): void;
  /** Before each rate the limit model measures (a product's case key, or the bandwidth). */
  onLimit?(what: string, index: number, total: number): void;
  /** Something the user should know (a repaired journal). */
  onNote?(message: string): void;
}

/**
 * Runs a bench request: grid → measurements → derived figures. With `req.out`, the directory is
 * locked for this run and each finished process is appended to its journal at once; the caller
 * writes the final files (report/output.ts).
 */
export async function runBenchRequest(req: BenchRequest, opts: BenchHooks = {}): Promise<BenchOutcome> {
  const options = requestOptions(req);
  const done = new Map<string, ProcessEntry[]>();
  if (req.out) {
    ensureDir(req.out);
    lockDir(req.out);
    for (const e of openJournal(req.out, options, req.resume, opts.onNote) as ProcessEntry[]) done.set(e.key, [...(done.get(e.key) ?? []), e]);
  }
  const points = plannedPoints(req);
  const environment = collectEnvironment(); // the code and machine as the run starts
  const track = tracker(points, req, opts);
  const raw = await runBench(
    { points, measure: req.measure, memoryBudgetBytes: req.memoryBudgetBytes, interleave: req.interleave, repeat: req.repeat },
    opts.executor ?? childExecutor(),
    {
      done,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onStart: track.onStart,
      onProcess: (e) => {
        track.onProcess(e);
        if (req.out) appendJournal(req.out, e);
      },
    },
  );
  const { records, limits, roofline } = await priceLimits(raw, req, opts);
  const doc = finishBench(records, { environment, options, roofline, limits });
  return { doc, interrupted: Boolean(opts.signal?.aborted), planned: points.length };
}

/**
 * The limit model over the measured records (measuring the products it has not cached, or all of
 * them with --refresh-limit) and the single-number roofline, unless --no-limit.
 */
async function priceLimits(raw: BenchRecord[], req: BenchRequest, opts: BenchHooks) {
  if (req.limit === 'off' || opts.signal?.aborted) return { records: raw, limits: null, roofline: null };
  const { ep, threads } = req.grid;
  const { records, limits } = await priceRecords(raw, {
    ep,
    threads,
    refresh: req.limit === 'refresh',
    ...(opts.onLimit ? { onMeasure: opts.onLimit } : {}),
  });
  return { records, limits, roofline: await getRoofline(ep, threads) };
}

/**
 * Progress hooks with the cost-model ETA (bench/eta.ts): processes are started in order, round by
 * round; `sides` processes run per slot (2 in a relative run).
 */
function tracker(points: readonly BenchPoint[], req: BenchRequest, opts: BenchHooks, sides = 1) {
  const eta = new EtaModel(req.measure);
  const startedAt = new Map<string, number>();
  let done = 0;
  let next = 0;
  const remaining = () => {
    const round = Math.floor(next / points.length);
    const rest = [...points.slice(next % points.length), ...Array.from({ length: Math.max(0, req.repeat - round - 1) }, () => points).flat()];
    const ms = eta.predict(rest);
    return ms === null ? null : ms * sides;
  };
  return {
    onStart: (p: BenchPoint, i: number, total: number) => {
      next = i;
      startedAt.set(pointKey(p), performance.now());
      opts.onStart?.(p, i, total, remaining());
    },
    onProcess: (e: ProcessEntry) => {
      eta.observe(e.point, (performance.now() - (startedAt.get(e.key) ?? performance.now())) / sides, e.measurement);
      next = Math.max(next, done + 1);
      opts.onDone?.(e.point, ++done, points.length * req.repeat, remaining());
    },
  };
}

export interface RelativeOutcome {
  readonly baseline: BenchDocument;
  readonly candidate: BenchDocument;
  readonly interrupted: boolean;
  readonly planned: number;
}

/** The worker of another performer checkout (compiled if built, else its source), or a usage error naming `--against`. */
export function checkoutWorker(dir: string): URL {
  const root = pathToFileURL(`${resolve(dir)}/`);
  const built = new URL('dist/src/bench/worker.js', root);
  const worker = existsSync(built) ? built : new URL('src/bench/worker.ts', root);
  if (!existsSync(worker))
    throw usage(
      '--against',
      `'${dir}' is not a performer checkout (no src/bench/worker.ts)`,
      'a directory holding another checkout of performer, with npm ci run in it',
    );
  if (!existsSync(new URL('node_modules/onnxruntime-node', root)))
    throw usage('--against', `'${dir}' has no node_modules/onnxruntime-node`, 'run npm ci in that checkout first');
  return worker;
}

/**
 * Relative mode (as asv's `continuous`): every point is measured by this checkout and by the one
 * in `against`, in alternating processes (baseline first in even rounds, candidate first in odd
 * ones), `repeat` rounds, so drift of the machine hits both sides alike and the per-round ratios
 * can be tested pairwise. Returns both documents, marked as one relative run.
 */
export async function runRelative(req: BenchRequest, against: string, opts: BenchHooks = {}): Promise<RelativeOutcome> {
  const worker = checkoutWorker(against);
  if (req.out) {
    ensureDir(req.out);
    lockDir(req.out);
  }
  const candidateExec = opts.executor ?? childExecutor();
  const baselineExec = childExecutor(worker);
  const baselineMs = new Map<string, Measurement[]>();
  const paired: Executor = async (points, measure, signal) => {
    const round = baselineMs.get(pointKey(points[0]!))?.length ?? 0;
    const runBase = async () =>
      (await baselineExec(points, measure, signal)).forEach((m, i) =>
        baselineMs.set(pointKey(points[i]!), [...(baselineMs.get(pointKey(points[i]!)) ?? []), m]),
      );
    if (round % 2 === 0) await runBase();
    const ms = await candidateExec(points, measure, signal);
    if (round % 2 === 1) await runBase();
    return ms;
  };
  const points = plannedPoints(req);
  const environment = collectEnvironment();
  const baselineEnvironment = checkoutEnvironment(pathToFileURL(`${resolve(against)}/`));
  const track = tracker(points, req, opts, 2);
  const records = await runBench(
    { points, measure: req.measure, memoryBudgetBytes: req.memoryBudgetBytes, interleave: req.interleave, repeat: req.repeat },
    paired,
    {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...track,
    },
  );
  // Only this checkout's records are priced: the limit model reads this checkout's graphs.
  const { records: priced, limits, roofline } = await priceLimits(records, req, opts);
  const relativeRun = `${process.pid}-${Date.now()}`;
  const options = (role: string) => ({ ...requestOptions(req), against: resolve(against), relativeRun, relativeRole: role });
  const baseRecords = records
    .map((r) => makeRecord(r, (baselineMs.get(pointKey(r)) ?? []).slice(0, r.processes), r.estimatedMemoryBytes, r.flops))
    .filter((r) => r.processes > 0);
  return {
    candidate: finishBench(priced, { environment, options: options('candidate'), roofline, limits }),
    baseline: finishBench(baseRecords, { environment: baselineEnvironment, options: options('baseline'), roofline }),
    interrupted: Boolean(opts.signal?.aborted),
    planned: points.length,
  };
}
