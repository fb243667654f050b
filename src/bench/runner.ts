/**
 * The sweep: points in order (small L first), each estimated, then run by the executor; a point
 * whose estimate exceeds the memory budget is recorded as `oom` without running, and once a
 * series is `oom`, its larger L are `skipped`. Every finished record goes to `onRecord` at once.
 */
import { getKernel } from '../kernels/index.ts';
import { graphFlops, estimateMemory } from './cost.ts';
import type { Executor } from './executor.ts';
import { pointGraph } from './graph.ts';
import { summarize } from './stats.ts';
import { type BenchPoint, type BenchRecord, type Measurement, type MeasureOptions, seriesKey } from './types.ts';

export interface BenchPlan {
  readonly points: readonly BenchPoint[];
  readonly measure: MeasureOptions;
  readonly memoryBudgetBytes: number;
}

export interface RunHooks {
  onStart?(point: BenchPoint, index: number, total: number): void;
  onRecord?(record: BenchRecord, index: number, total: number): void;
  /** Points already measured (resume): returned as they are, not run again. */
  done?: ReadonlyMap<string, BenchRecord>;
  signal?: AbortSignal;
}

const notRun = (status: Measurement['status'], error: string): Measurement => ({
  status, samplesMs: [], firstRunMs: null, sessionCreateMs: null, peakMemoryBytes: null, profile: null, error,
});

/** Why a point cannot be built at all (an unsupported combination), or null. */
export function unsupported(p: BenchPoint): string | null {
  const k = getKernel(p.kernel);
  if (p.pass === 'backward' && !k.supportsBackward) return `${p.kernel} has no backward graph`;
  if (p.causal && !k.supportsCausal) return `${p.kernel} has no causal mode`;
  if (k.dtypes && !k.dtypes.includes(p.dtype)) return `${p.kernel} does not support ${p.dtype}`;
  return null;
}

export function makeRecord(p: BenchPoint, m: Measurement, estimatedMemoryBytes: number, flops: number): BenchRecord {
  const s = m.status === 'ok' && m.samplesMs.length ? summarize(m.samplesMs) : null;
  return {
    ...p,
    status: m.status,
    medianMs: s?.medianMs ?? null,
    meanMs: s?.meanMs ?? null,
    p10Ms: s?.p10Ms ?? null,
    p90Ms: s?.p90Ms ?? null,
    minMs: s?.minMs ?? null,
    rme: s?.rme ?? null,
    runs: m.samplesMs.length,
    samplesMs: m.samplesMs,
    firstRunMs: m.firstRunMs,
    peakMemoryBytes: m.peakMemoryBytes,
    estimatedMemoryBytes,
    flops,
    gflopsPerSec: null,
    rooflineFraction: null,
    speedupVsSoftmax: null,
    timeVsIdentity: null,
    profile: m.profile,
    error: m.error,
  };
}

export async function runBench(plan: BenchPlan, executor: Executor, hooks: RunHooks = {}): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const oomSeries = new Set<string>();
  const total = plan.points.length;
  for (const [i, p] of plan.points.entries()) {
    if (hooks.signal?.aborted) break;
    const key = seriesKey(p);
    const previous = hooks.done?.get(`${key}|L=${p.seqLen}`);
    let record: BenchRecord;
    if (previous) record = previous;
    else {
      hooks.onStart?.(p, i, total);
      record = await measureOne(p, plan, executor, oomSeries.has(key));
      if (hooks.signal?.aborted) break; // the point in flight was interrupted: not a result
      hooks.onRecord?.(record, i, total);
    }
    if (record.status === 'oom' || (record.status === 'skipped' && oomSeries.has(key))) oomSeries.add(key);
    records.push(record);
  }
  return records;
}

async function measureOne(p: BenchPoint, plan: BenchPlan, executor: Executor, afterOom: boolean): Promise<BenchRecord> {
  const why = unsupported(p);
  if (why) return makeRecord(p, notRun('skipped', why), 0, 0);
  const graph = pointGraph(p);
  const estimate = estimateMemory(graph);
  const flops = graphFlops(graph);
  if (afterOom) return makeRecord(p, notRun('skipped', 'a shorter sequence of this series ran out of memory'), estimate, flops);
  if (estimate > plan.memoryBudgetBytes) {
    return makeRecord(p, notRun('oom', `estimated ${estimate} bytes exceed the memory budget of ${plan.memoryBudgetBytes}`), estimate, flops);
  }
  return makeRecord(p, await executor(p, plan.measure), estimate, flops);
}
