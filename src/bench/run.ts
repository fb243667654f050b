/**
 * The bench pipeline: request → grid of points → measurements (one child process each) →
 * derived figures → results document and files. `performer bench` and `performer merge` finish
 * through the same {@link finishBench}.
 */
import { collectEnvironment, type Environment } from '../environment.ts';
import { appendJournal, ensureDir, readJournal } from '../results/files.ts';
import { pointKey } from '../results/keys.ts';
import { deriveRecords } from './derive.ts';
import { childExecutor, type Executor } from './executor.ts';
import { expandGrid, type GridOptions } from './grid.ts';
import { getRoofline } from './roofline.ts';
import { runBench } from './runner.ts';
import { type Shard, takeShard } from './shard.ts';
import { crossovers, exponents } from './summary.ts';
import { type BenchDocument, type BenchPoint, type BenchRecord, type MeasureOptions, type Roofline, SCHEMA_VERSION } from './types.ts';

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

export interface BenchOutcome {
  readonly doc: BenchDocument;
  readonly interrupted: boolean;
  /** Points the request asked for (after sharding). */
  readonly planned: number;
}

/** The points a request measures, in order. */
export const plannedPoints = (req: BenchRequest) => takeShard(expandGrid(req.grid), req.shard);

export interface BenchHooks {
  readonly executor?: Executor;
  readonly signal?: AbortSignal;
  /** Before each point: its index, the total and the estimated ms left (null until one finished). */
  onStart?(point: BenchPoint, index: number, total: number, etaMs: number | null): void;
}

/**
 * Runs a bench request: grid → measurements → derived figures. Each finished record is appended
 * to the journal in `req.out` at once; the caller writes the final files (report/files.ts).
 */
export async function runBenchRequest(req: BenchRequest, opts: BenchHooks = {}): Promise<BenchOutcome> {
  if (req.out) ensureDir(req.out);
  const points = plannedPoints(req);
  const done = new Map<string, BenchRecord>();
  if (req.out && req.resume) for (const r of readJournal<BenchRecord>(req.out)) done.set(pointKey(r), r);
  const environment = collectEnvironment(); // the code and machine as the run starts
  const started = performance.now();
  let finished = 0;
  const raw = await runBench({ points, measure: req.measure, memoryBudgetBytes: req.memoryBudgetBytes, interleave: req.interleave }, opts.executor ?? childExecutor(), {
    done,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onStart: (p, i, total) => opts.onStart?.(p, i, total, finished ? ((performance.now() - started) / finished) * (total - i) : null),
    onRecord: (r) => {
      finished++;
      if (req.out) appendJournal(req.out, r);
    },
  });
  const roofline = req.roofline === 'off' ? null : await getRoofline(req.grid.ep, req.grid.threads, req.roofline === 'refresh');
  const options = { ...req.grid, ...req.measure, memoryBudgetBytes: req.memoryBudgetBytes, shard: req.shard ?? undefined, interleave: req.interleave };
  const doc = finishBench(raw, { environment, options, roofline });
  return { doc, interrupted: Boolean(opts.signal?.aborted), planned: points.length };
}

/** Derived figures and summary over measured records: the document bench and merge both write. */
export function finishBench(
  records: readonly BenchRecord[],
  meta: { environment: Environment | Record<string, unknown>; options: Record<string, unknown>; roofline: Roofline | null; environments?: readonly unknown[] },
): BenchDocument {
  const derived = deriveRecords(records, meta.roofline?.matmulGflops ?? null);
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'bench',
    environment: meta.environment,
    ...(meta.environments ? { environments: meta.environments } : {}),
    options: meta.options,
    roofline: meta.roofline,
    summary: { crossovers: crossovers(derived), exponents: exponents(derived) },
    records: derived,
  };
}
