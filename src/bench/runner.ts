/**
 * The sweep: points in order (small L first), each estimated, then run by the executor; a point
 * whose predicted peak exceeds the memory budget is recorded as `oom` without running, and once a
 * series is `oom`, its larger L are `skipped`. Every finished process goes to `onProcess` at once.
 *
 * The predicted peak is the live-value estimate (limit/cost.ts) times the measured peak ÷ estimate of
 * the longest sequence of the same series measured so far with an estimate ≥ 64 MiB. ONNX
 * Runtime's arena holds about twice the live peak in backward graphs (the first run grows it to
 * the live values, then the memory plan takes a block of its own), once in a softmax forward pass
 * (one L×L buffer dominates), three times in an encoder's forward pass: a ratio per series,
 * measured, not a constant. Against the recorded fig3 sweeps it predicts 56 of 58 points with
 * estimates ≥ 512 MiB within ±20% (the other two 24% and 27% high); the estimate alone is 1.0–3.3×
 * low. Below 64 MiB the runtime's fixed tens of MiB swamp the ratio; with no such reference yet
 * (the first long point of a series, a shard that starts there) the estimate is used alone.
 */
import { UsageError } from '../errors.ts';
import { checkSupported } from '../kernels/build.ts';
import { getKernel } from '../kernels/index.ts';
import { checkModelWidth } from '../model/encoder.ts';
import { graphFlops, estimateMemory } from '../limit/cost.ts';
import type { Executor } from './executor.ts';
import { pointConfig, pointFingerprint, pointGraph } from './graph.ts';
import { summarize } from '../stats/descriptive.ts';
import { pointKey, seriesKey } from '../results/keys.ts';
import { type BenchPoint, type BenchRecord, isModelScope, type Measurement, type MeasureOptions, notMeasured } from './types.ts';

export interface BenchPlan {
  readonly points: readonly BenchPoint[];
  readonly measure: MeasureOptions;
  readonly memoryBudgetBytes: number;
  /** Measure the kernels of each size in alternating rounds in one process. */
  readonly interleave?: boolean;
  /** Fresh processes per point (default 1), run in rounds: every point once per round, so drift hits all alike. */
  readonly repeat?: number;
}

/** One process's measurement of one point (or a decision not to run it): a journal line. */
export interface ProcessEntry {
  readonly key: string;
  readonly round: number;
  readonly point: BenchPoint;
  readonly estimate: number;
  readonly flops: number;
  /** The fingerprint of the graph measured (absent in journals of older versions, and for unsupported points). */
  readonly graphHash?: string | null;
  readonly measurement: Measurement;
}

export interface RunHooks {
  /** Before each process (index and total count processes: points × repeat). */
  onStart?(point: BenchPoint, index: number, total: number): void;
  /** After each process, or a point decided without running: journal it at once. */
  onProcess?(entry: ProcessEntry): void;
  /** Processes already measured (resume), by point key: kept, not run again. */
  done?: ReadonlyMap<string, readonly ProcessEntry[]>;
  signal?: AbortSignal;
}

/** Why a point cannot be built at all (the graph builders' own checks), or null. */
export function unsupported(p: BenchPoint): string | null {
  try {
    checkSupported(getKernel(p.kernel), pointConfig(p), p.pass, p.dtype);
    if (isModelScope(p.scope)) checkModelWidth(p.dim, p.heads);
    return null;
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
}

/** Median of a non-empty list. */
const median = (xs: readonly number[]) => summarize(xs).medianMs;

/**
 * The record of a point from its processes' measurements: status from the first process that
 * failed (else ok, or `invalid` if a sample is not finite); the median is the median of the
 * process medians, and processRme the 95% margin of their mean (the process is the unit of
 * replication: samples within one process share its memory layout, arena and frequency).
 */
export function makeRecord(
  p: BenchPoint,
  measured: Measurement | readonly Measurement[],
  estimatedMemoryBytes: number,
  flops: number,
  graphHash: string | null = null,
): BenchRecord {
  const ms = Array.isArray(measured) ? (measured as readonly Measurement[]) : [measured as Measurement];
  const failed = ms.find((m) => m.status !== 'ok');
  const samplesMs = failed ? [] : ms.flatMap((m) => m.samplesMs);
  const invalid = !failed && samplesMs.some((x) => !Number.isFinite(x));
  const usable = !failed && !invalid && samplesMs.length > 0;
  const s = usable ? summarize(samplesMs) : null;
  const perProcess = usable ? ms.map((m) => median(m.samplesMs)) : [];
  const across = perProcess.length > 1 ? summarize(perProcess) : null;
  const peaks = ms.map((m) => m.peakMemoryBytes).filter((x): x is number => x !== null);
  return {
    ...p,
    status: failed?.status ?? (invalid ? 'invalid' : 'ok'),
    medianMs: across?.medianMs ?? s?.medianMs ?? null,
    meanMs: s?.meanMs ?? null,
    p10Ms: s?.p10Ms ?? null,
    p90Ms: s?.p90Ms ?? null,
    minMs: s?.minMs ?? null,
    rme: s?.rme ?? null,
    runs: samplesMs.length,
    samplesMs: usable ? samplesMs : [],
    processes: ms.length,
    processMediansMs: perProcess,
    processSamples: usable ? ms.map((m) => m.samplesMs.length) : [],
    processRme: across?.rme ?? null,
    firstRunMs: ms[0]?.firstRunMs ?? null,
    peakMemoryBytes: peaks.length ? Math.max(...peaks) : null,
    estimatedMemoryBytes,
    flops,
    graphHash,
    gflopsPerSec: null,
    rooflineFraction: null,
    limitMs: null,
    limitFraction: null,
    speedupVsSoftmax: null,
    timeVsIdentity: null,
    profile: ms.find((m) => m.profile)?.profile ?? null,
    nodeProfile: ms.find((m) => m.nodeProfile)?.nodeProfile?.map((t) => ({ ...t, boundMs: null })) ?? null,
    error: failed?.error ?? (invalid ? 'a timing sample was not finite (NaN or ±∞)' : null),
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

interface PointState {
  estimate?: number;
  flops?: number;
  graphHash?: string | null;
  readonly ms: Measurement[];
  /** Decided: not run, or a process failed (no further rounds). */
  final: boolean;
}

/**
 * Runs the plan in `repeat` rounds; each round gives every point one more fresh process (small L
 * first, so an out-of-memory series is known before its longer lengths). Points decided without
 * running (unsupported, over the budget, after an oom) are decided once.
 */
export async function runBench(plan: BenchPlan, executor: Executor, hooks: RunHooks = {}): Promise<BenchRecord[]> {
  const repeat = plan.repeat ?? 1;
  const oomSeries = new Set<string>();
  const states = new Map<string, PointState>(plan.points.map((p) => [pointKey(p), resumed(hooks.done?.get(pointKey(p)), oomSeries)]));
  const arena = new Map<string, ArenaRatio>();
  for (const entries of hooks.done?.values() ?? []) for (const e of entries) noteArena(arena, e.point, e.estimate, e.measurement);
  const total = plan.points.length * repeat;
  const groups = groupsOf(plan.points, plan.interleave ?? false);
  rounds: for (let round = 0; round < repeat; round++) {
    let index = round * plan.points.length;
    for (const group of groups) {
      if (hooks.signal?.aborted) break rounds;
      const pending: BenchPoint[] = [];
      for (const p of group) {
        const st = states.get(pointKey(p))!;
        if (st.final || st.ms.length > round) continue;
        hooks.onStart?.(p, index + pending.length, total);
        if (st.estimate === undefined) {
          const r = precheck(p, plan, oomSeries.has(seriesKey(p)), arena.get(seriesKey(p)));
          [st.estimate, st.flops, st.graphHash] = [r.estimate, r.flops, r.graphHash];
          if (r.decided) {
            record(st, p, round, r.decided, hooks, oomSeries, arena);
            continue;
          }
        }
        pending.push(p);
      }
      index += group.length;
      if (!pending.length) continue;
      const ms = await executor(pending, plan.measure, hooks.signal);
      if (hooks.signal?.aborted) break rounds; // the processes in flight were interrupted: not results
      pending.forEach((p, i) => record(states.get(pointKey(p))!, p, round, ms[i]!, hooks, oomSeries, arena));
    }
  }
  return plan.points.flatMap((p) => {
    const st = states.get(pointKey(p))!;
    return st.ms.length ? [makeRecord(p, st.ms, st.estimate ?? 0, st.flops ?? 0, st.graphHash ?? null)] : [];
  });
}

/** Estimates from which a measured peak says something about the arena (see the module comment). */
export const ARENA_REFERENCE_BYTES = 64 * 2 ** 20;

/** A series' measured peak ÷ live-value estimate at its longest measured sequence. */
interface ArenaRatio {
  readonly seqLen: number;
  readonly ratio: number;
}

/** Keeps the ratio of the longest measured sequence per series (clamped to [1, 4]: noise guards). */
function noteArena(arena: Map<string, ArenaRatio>, p: BenchPoint, estimate: number | undefined, m: Measurement): void {
  if (m.status !== 'ok' || m.peakMemoryBytes === null || estimate === undefined || estimate < ARENA_REFERENCE_BYTES) return;
  const known = arena.get(seriesKey(p));
  if (known && known.seqLen > p.seqLen) return;
  arena.set(seriesKey(p), { seqLen: p.seqLen, ratio: Math.min(4, Math.max(1, m.peakMemoryBytes / estimate)) });
}

/** A point's state from its journalled processes. */
function resumed(entries: readonly ProcessEntry[] | undefined, oomSeries: Set<string>): PointState {
  const sorted = [...(entries ?? [])].sort((a, b) => a.round - b.round);
  const st: PointState = { ms: sorted.map((e) => e.measurement), final: sorted.some((e) => e.measurement.status !== 'ok') };
  if (sorted[0]) [st.estimate, st.flops, st.graphHash] = [sorted[0].estimate, sorted[0].flops, sorted[0].graphHash ?? null];
  const failed = sorted.find((e) => e.measurement.status === 'oom' || e.measurement.status === 'skipped');
  if (failed) oomSeries.add(seriesKey(failed.point));
  return st;
}

function record(st: PointState, p: BenchPoint, round: number, m: Measurement, hooks: RunHooks, oomSeries: Set<string>, arena: Map<string, ArenaRatio>): void {
  st.ms.push(m);
  noteArena(arena, p, st.estimate, m);
  if (m.status !== 'ok') st.final = true;
  if (m.status === 'oom' || (m.status === 'skipped' && oomSeries.has(seriesKey(p)))) oomSeries.add(seriesKey(p));
  hooks.onProcess?.({ key: pointKey(p), round, point: p, estimate: st.estimate ?? 0, flops: st.flops ?? 0, graphHash: st.graphHash ?? null, measurement: m });
}

/** The point's cost, and the measurement that decides it without running (unsupported, after an oom, over the budget). */
function precheck(
  p: BenchPoint,
  plan: BenchPlan,
  afterOom: boolean,
  arena?: ArenaRatio,
): { estimate: number; flops: number; graphHash: string | null; decided?: Measurement } {
  const why = unsupported(p);
  if (why) return { estimate: 0, flops: 0, graphHash: null, decided: notMeasured('skipped', why) };
  const graph = pointGraph(p);
  const estimate = estimateMemory(graph);
  const flops = graphFlops(graph);
  const graphHash = pointFingerprint(p, graph);
  if (afterOom) return { estimate, flops, graphHash, decided: notMeasured('skipped', 'a shorter sequence of this series ran out of memory') };
  if (estimate > plan.memoryBudgetBytes)
    return { estimate, flops, graphHash, decided: notMeasured('oom', `estimated ${estimate} bytes exceed the memory budget of ${plan.memoryBudgetBytes}`) };
  const predicted = arena ? Math.round(estimate * arena.ratio) : estimate;
  if (arena && predicted > plan.memoryBudgetBytes) {
    const why = `predicted peak ${predicted} bytes (live values ${estimate} × ${arena.ratio.toFixed(2)}, the peak ÷ estimate measured at L=${arena.seqLen}) exceeds the memory budget of ${plan.memoryBudgetBytes}`;
    return { estimate, flops, graphHash, decided: notMeasured('oom', why) };
  }
  return { estimate, flops, graphHash };
}
