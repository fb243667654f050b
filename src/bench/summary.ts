/** The lines under the bench table: crossover lengths L* and scaling exponents k. */
import { hasRole, isSoftmaxBaseline } from '../kernels/index.ts';
import { pairedLogRatio, studentTQuantile } from '../stats/significance.ts';
import { linearFit } from '../stats/descriptive.ts';
import { seriesKey } from '../results/keys.ts';
import type { BenchRecord, Crossover, Exponent } from './types.ts';

export type { Crossover, Exponent } from './types.ts';

const okTimes = (rs: readonly BenchRecord[]) => rs.filter((r) => r.status === 'ok' && r.medianMs !== null).sort((a, b) => a.seqLen - b.seqLen);

function groups(records: readonly BenchRecord[]): Map<string, BenchRecord[]> {
  const m = new Map<string, BenchRecord[]>();
  for (const r of records) m.set(seriesKey(r), [...(m.get(seriesKey(r)) ?? []), r]);
  return m;
}

type Crossing = Pick<Crossover, 'seqLen' | 'bound' | 'fasterShorter'>;

/**
 * Where log time ratios (< 0: the kernel is faster), ordered by L, cross 0 for the last time,
 * interpolated on log L: the length beyond which the kernel stays faster. A noisy dip below 0 at
 * a short length followed by a return above does not count as the crossover.
 */
function crossing(pts: readonly { seqLen: number; ratio: number }[]): Crossing {
  let i = pts.length - 1;
  while (i >= 0 && pts[i]!.ratio <= 0) i--;
  if (i < 0) return { seqLen: pts[0]!.seqLen, bound: 'below' };
  if (i === pts.length - 1) return { seqLen: pts[i]!.seqLen, bound: 'above', ...(pts.some((p) => p.ratio <= 0) ? { fasterShorter: true } : {}) };
  const [l0, l1] = [Math.log(pts[i]!.seqLen), Math.log(pts[i + 1]!.seqLen)];
  const [r0, r1] = [pts[i]!.ratio, pts[i + 1]!.ratio];
  return { seqLen: Math.exp(l0 + ((l1 - l0) * r0) / (r0 - r1)), bound: 'exact' };
}

/** Same point, any kernel (the key deriveRecords compares speed-ups on). */
const sibling = (p: BenchRecord) => [p.pass, p.causal, p.scope, p.seqLen, p.batch, p.heads, p.dim, p.ep, p.dtype].join('|');

/** The fastest softmax baseline at each point (by median), keyed by `sibling`. */
function bestSoftmax(records: readonly BenchRecord[]): Map<string, BenchRecord> {
  const soft = new Map<string, BenchRecord>();
  for (const r of records) {
    if (r.status !== 'ok' || r.medianMs === null || !isSoftmaxBaseline(r.kernel)) continue;
    const cur = soft.get(sibling(r));
    if (!cur || r.medianMs < cur.medianMs!) soft.set(sibling(r), r);
  }
  return soft;
}

/**
 * Each record's speed-up over the fastest softmax at its point, paired by round: the kernel's
 * r-th process median against the softmax's r-th (they ran in the same round), a paired t-interval
 * of the mean log ratio (n − 1 degrees of freedom): the geometric mean speed-up and its 95%
 * interval, [mean, lo, hi]. The mean can differ from the ratio of the medians.
 * Only where both have the same number (≥ 2) of process medians; the baseline itself has none.
 */
export function pairedSpeedups(records: readonly BenchRecord[]): Map<BenchRecord, [number, number, number]> {
  const soft = bestSoftmax(records);
  const out = new Map<BenchRecord, [number, number, number]>();
  for (const r of records) {
    const s = soft.get(sibling(r));
    if (r.status !== 'ok' || !s || s === r) continue;
    const t = pairedLogRatio(s.processMediansMs ?? [], r.processMediansMs ?? [], 0.05);
    if (t) out.set(r, [1 / t.ratio, 1 / t.hi, 1 / t.lo]);
  }
  return out;
}

/**
 * The crossover of each round: a series whose every point, and the fastest softmax at it, has the
 * same number (≥ 2) of process medians gets one crossing per round, reported as their range.
 */
function roundRange(pts: readonly BenchRecord[], records: readonly BenchRecord[]): Crossover['rounds'] {
  const soft = bestSoftmax(records);
  const n = pts[0]!.processMediansMs?.length ?? 0;
  const pairs = pts.map((r) => [r.processMediansMs ?? [], soft.get(sibling(r))?.processMediansMs ?? []] as const);
  if (n < 2 || pairs.some(([a, b]) => a.length !== n || b.length !== n)) return undefined;
  const rounds = Array.from({ length: n }, (_, i) => crossing(pts.map((r, j) => ({ seqLen: r.seqLen, ratio: Math.log(pairs[j]![0][i]! / pairs[j]![1][i]!) }))));
  const below = rounds.some((c) => c.bound === 'below');
  const above = rounds.some((c) => c.bound === 'above');
  const exact = rounds.filter((c) => c.bound === 'exact').map((c) => c.seqLen!);
  return {
    n,
    // No round crosses inside the grid: both ends null, and the side is the median's own bound.
    lo: below || !exact.length ? null : Math.min(...exact),
    hi: above || !exact.length ? null : Math.max(...exact),
    undetermined: below && above,
  };
}

/** For each linear kernel series: where log(t_kernel / t_best_softmax) crosses 0, and its range over rounds. */
export function crossovers(records: readonly BenchRecord[]): Crossover[] {
  const out: Crossover[] = [];
  for (const series of groups(records).values()) {
    const first = series[0]!;
    if (!hasRole(first.kernel, 'linear')) continue;
    const pts = okTimes(series).filter((r) => r.speedupVsSoftmax !== null);
    const base = { kernel: first.kernel, pass: first.pass, causal: first.causal, batch: first.batch };
    if (!pts.length) {
      out.push({ ...base, seqLen: null, bound: 'none' });
      continue;
    }
    const rounds = roundRange(pts, records);
    out.push({ ...base, ...crossing(pts.map((r) => ({ seqLen: r.seqLen, ratio: Math.log(1 / r.speedupVsSoftmax!) }))), ...(rounds ? { rounds } : {}) });
  }
  return out;
}

/** Least-squares slope of log t on log L per series (time ∝ L^k), over its ok points. */
export function exponents(records: readonly BenchRecord[]): Exponent[] {
  const out: Exponent[] = [];
  for (const series of groups(records).values()) {
    const pts = okTimes(series);
    if (pts.length < 2) continue;
    const { slope } = linearFit(
      pts.map((r) => Math.log(r.seqLen)),
      pts.map((r) => Math.log(r.medianMs!)),
    );
    out.push({ kernel: pts[0]!.kernel, pass: pts[0]!.pass, causal: pts[0]!.causal, batch: pts[0]!.batch, k: slope, points: pts.length });
  }
  return out;
}

/**
 * The 95% interval of a point's time across its processes (the unit of replication): a t-interval
 * of the mean log process median, n − 1 degrees of freedom, as [lo, hi] ms; null under 2 processes.
 */
export function processInterval(r: Pick<BenchRecord, 'processMediansMs'>): [number, number] | null {
  const xs = (r.processMediansMs ?? []).filter((x) => x > 0).map(Math.log);
  if (xs.length < 2) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  const half = studentTQuantile(0.975, xs.length - 1) * (sd / Math.sqrt(xs.length));
  return [Math.exp(mean - half), Math.exp(mean + half)];
}
