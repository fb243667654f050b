/**
 * The sweep: points in order (small L first), each estimated, then run by the executor; a point
 * whose estimate exceeds the memory budget is recorded as `oom` without running, and once a
 * series is `oom`, its larger L are `skipped`. Every finished record goes to `onRecord` at once.
 */
import { UsageError } from '../errors.ts';
import { checkSupported } from '../kernels/build.ts';
import { getKernel } from '../kernels/index.ts';
import { checkModelWidth } from '../model/encoder.ts';
import { graphFlops, estimateMemory } from './cost.ts';
import type { Executor } from './executor.ts';
import { pointConfig, pointGraph } from './graph.ts';
import { summarize } from './stats.ts';
import { pointKey, seriesKey } from '../results/keys.ts';
import { type BenchPoint, type BenchRecord, type Measurement, type MeasureOptions, notMeasured } from './types.ts';

export interface BenchPlan {
  readonly points: readonly BenchPoint[];
  readonly measure: MeasureOptions;
  readonly memoryBudgetBytes: number;
  /** Measure the kernels of each size in alternating rounds in one process. */
  readonly interleave?: boolean;
}

export interface RunHooks {
  onStart?(point: BenchPoint, index: number, total: number): void;
  onRecord?(record: BenchRecord, index: number, total: number): void;
  /** Points already measured (resume): returned as they are, not run again. */
  done?: ReadonlyMap<string, BenchRecord>;
  signal?: AbortSignal;
}


/** Why a point cannot be built at all (the graph builders' own checks), or null. */
export function unsupported(p: BenchPoint): string | null {
  try {
    checkSupported(getKernel(p.kernel), pointConfig(p), p.pass, p.dtype);
    if (p.scope === 'model') checkModelWidth(p.dim, p.heads);
    return null;
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
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

/** Points of one size (all but the kernel equal): the groups --interleave alternates within. */
function groupsOf(points: readonly BenchPoint[], interleave: boolean): BenchPoint[][] {
  if (!interleave) return points.map((p) => [p]);
  const groups = new Map<string, BenchPoint[]>();
  for (const p of points) {
    const key = pointKey({ ...p, kernel: '' });
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()];
}

export async function runBench(plan: BenchPlan, executor: Executor, hooks: RunHooks = {}): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const oomSeries = new Set<string>();
  const total = plan.points.length;
  let index = 0;
  for (const group of groupsOf(plan.points, plan.interleave ?? false)) {
    if (hooks.signal?.aborted) break;
    const slots: (BenchRecord | null)[] = [];
    const pending: { p: BenchPoint; k: number; estimate: number; flops: number }[] = [];
    for (const p of group) {
      const previous = hooks.done?.get(pointKey(p));
      if (previous) {
        slots.push(previous);
        continue;
      }
      hooks.onStart?.(p, index + slots.length, total);
      const r = precheck(p, plan, oomSeries.has(seriesKey(p)));
      if ('record' in r) slots.push(r.record);
      else {
        pending.push({ p, k: slots.length, ...r });
        slots.push(null);
      }
    }
    if (pending.length) {
      const ms = await executor(pending.map((x) => x.p), plan.measure);
      pending.forEach((x, i) => (slots[x.k] = makeRecord(x.p, ms[i]!, x.estimate, x.flops)));
    }
    if (hooks.signal?.aborted) break; // the group in flight was interrupted: not results
    for (const [k, record] of (slots as BenchRecord[]).entries()) {
      if (!hooks.done?.has(pointKey(record))) hooks.onRecord?.(record, index + k, total);
      if (record.status === 'oom' || (record.status === 'skipped' && oomSeries.has(seriesKey(record)))) oomSeries.add(seriesKey(record));
      records.push(record);
    }
    index += group.length;
  }
  return records;
}

/** A record decided without running (unsupported, after an oom, over the budget), or the point's cost. */
function precheck(p: BenchPoint, plan: BenchPlan, afterOom: boolean): { record: BenchRecord } | { estimate: number; flops: number } {
  const why = unsupported(p);
  if (why) return { record: makeRecord(p, notMeasured('skipped', why), 0, 0) };
  const graph = pointGraph(p);
  const estimate = estimateMemory(graph);
  const flops = graphFlops(graph);
  if (afterOom) return { record: makeRecord(p, notMeasured('skipped', 'a shorter sequence of this series ran out of memory'), estimate, flops) };
  if (estimate > plan.memoryBudgetBytes) {
    return { record: makeRecord(p, notMeasured('oom', `estimated ${estimate} bytes exceed the memory budget of ${plan.memoryBudgetBytes}`), estimate, flops) };
  }
  return { estimate, flops };
}
