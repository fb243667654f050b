/**
 * Regression verdicts between two results files. Bench: the unit of replication is the process,
 * so each point's figure is tested over its per-process medians (or means, or minima), never over
 * the timed iterations of one process, which share its memory layout, arena and CPU frequency.
 * The test is Yuen's trimmed-means t on the logarithms (20% trimmed from each end, so a process
 * slowed by a busy neighbour cannot swamp the rest; the ratio current/baseline with its confidence
 * interval), or its paired form on per-round log-ratios when both files come from one interleaved
 * relative run. Holm–Bonferroni keeps the family-wise false-alarm rate at alpha over the points.
 * A point is `slower` only when its ratio exceeds 1 + threshold AND the test says so; it is
 * `unchanged` only when the data could have detected a slowdown of the threshold; otherwise it is
 * `inconclusive`, with the number of processes that would be needed.
 */
import { errorKey, type ErrorLike, pointKey } from '../results/keys.ts';
import { holm, minDetectableRatio, pairedYuenLogRatio, type RatioTest, runsNeeded, yuenLogRatio } from '../stats/significance.ts';
import { summarize } from '../stats/descriptive.ts';
import type { BenchRecord } from '../bench/types.ts';

export { holm } from '../stats/significance.ts';

export type Verdict = 'faster' | 'slower' | 'unchanged' | 'inconclusive' | 'invalid';

export interface Comparison {
  readonly key: string;
  readonly baseline: number | null;
  readonly current: number | null;
  /** current / baseline (> 1: slower, or a larger error). */
  readonly ratio: number | null;
  /** Two-sided (1 − alpha) confidence interval of the ratio (null without a test). */
  readonly lo: number | null;
  readonly hi: number | null;
  /** One-sided p-value that current is slower (null without a test). */
  readonly p: number | null;
  /** The smallest slowdown ratio this point could have detected (80% power, at the strictest Holm level). */
  readonly detectable: number | null;
  /** Processes per side (baseline, current). */
  readonly n: readonly [number, number];
  /** Inconclusive: the processes per side that would resolve the threshold. */
  readonly needed: number | null;
  readonly verdict: Verdict;
}

export interface CompareOptions {
  readonly threshold: number;
  readonly alpha: number;
  readonly metric: 'median' | 'mean' | 'min';
  /** Both files come from one relative run: pair their processes round by round. */
  readonly paired?: boolean;
}

/** Each process's figure of a record: its samples split by processSamples (old files: one process). */
export function processFigures(r: BenchRecord, metric: CompareOptions['metric']): number[] {
  const counts = r.processSamples?.length ? r.processSamples : [r.samplesMs.length];
  let at = 0;
  return counts.flatMap((n) => {
    const xs = r.samplesMs.slice(at, (at += n));
    if (!xs.length) return [];
    const s = summarize(xs);
    return [metric === 'median' ? s.medianMs : metric === 'mean' ? s.meanMs : s.minMs];
  });
}

const isInvalid = (r: BenchRecord) => r.status === 'invalid' || (r.status === 'ok' && (r.medianMs === null || !Number.isFinite(r.medianMs)));
const center = (xs: readonly number[]) => (xs.length ? summarize(xs).medianMs : null);

export function compareBench(base: readonly BenchRecord[], cur: readonly BenchRecord[], o: CompareOptions): Comparison[] {
  const usable = (r: BenchRecord) => r.status === 'ok' || r.status === 'invalid';
  const baseByKey = new Map(base.filter(usable).map((r) => [pointKey(r), r]));
  const pairs = cur.filter(usable).flatMap((c) => {
    const b = baseByKey.get(pointKey(c));
    if (!b) return [];
    const invalid = isInvalid(b) || isInvalid(c);
    const [bx, cx] = invalid ? [[], []] : [processFigures(b, o.metric), processFigures(c, o.metric)];
    const test = invalid ? null : o.paired ? pairedYuenLogRatio(bx, cx, o.alpha) : yuenLogRatio(bx, cx, o.alpha);
    return [{ key: pointKey(c), bx, cx, invalid, test }];
  });
  const slower = holm(
    pairs.map((x) => x.test?.pSlower ?? null),
    o.alpha,
  );
  const faster = holm(
    pairs.map((x) => x.test?.pFaster ?? null),
    o.alpha,
  );
  const strictest = o.alpha / Math.max(1, pairs.filter((x) => x.test).length);
  return pairs.map((x, i): Comparison => {
    const t = x.test;
    const detectable = t ? minDetectableRatio(t.se, t.df, strictest) : null;
    const verdict: Verdict = x.invalid
      ? 'invalid'
      : !t
        ? 'inconclusive'
        : slower[i] && t.ratio > 1 + o.threshold
          ? 'slower'
          : faster[i] && t.ratio < 1 / (1 + o.threshold)
            ? 'faster'
            : detectable! <= 1 + o.threshold
              ? 'unchanged'
              : 'inconclusive';
    return {
      key: x.key,
      baseline: center(x.bx),
      current: center(x.cx),
      ratio: t?.ratio ?? null,
      lo: t?.lo ?? null,
      hi: t?.hi ?? null,
      p: t?.pSlower ?? null,
      detectable,
      n: [x.bx.length, x.cx.length],
      needed: verdict === 'inconclusive' ? (t ? runsNeeded(t, o.threshold, strictest) : 2) : null,
      verdict,
    };
  });
}

/** Error records: deterministic numbers (fixed seeds, one thread), so a regression is a mean error grown beyond the threshold. */
export function compareErrors(base: readonly ErrorLike[], cur: readonly ErrorLike[], o: CompareOptions): Comparison[] {
  const byKey = new Map(base.map((r) => [errorKey(r), r]));
  const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);
  return cur.flatMap((c) => {
    const b = byKey.get(errorKey(c));
    if (!b) return [];
    const invalid = !finite(b.mean) || !finite(c.mean) || b.status === 'invalid' || c.status === 'invalid';
    const ratio = invalid ? null : c.mean / b.mean;
    const verdict: Verdict = ratio === null ? 'invalid' : ratio > 1 + o.threshold ? 'slower' : ratio < 1 / (1 + o.threshold) ? 'faster' : 'unchanged';
    return [
      {
        key: errorKey(c),
        baseline: finite(b.mean) ? b.mean : null,
        current: finite(c.mean) ? c.mean : null,
        ratio,
        lo: null,
        hi: null,
        p: null,
        detectable: null,
        n: [b.seeds ?? 1, c.seeds ?? 1] as const,
        needed: null,
        verdict,
      },
    ];
  });
}

/** Environment fields that make timings incomparable, with both values, where they differ. */
export function environmentDiff(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  optsA: Record<string, unknown>,
  optsB: Record<string, unknown>,
): string[] {
  const diffs: string[] = [];
  for (const k of ['onnxruntimeVersion', 'cpuModel', 'cores']) if (a[k] !== b[k]) diffs.push(`${k}: ${String(a[k])} vs ${String(b[k])}`);
  for (const k of ['ep', 'threads']) if (optsA[k] !== optsB[k]) diffs.push(`${k}: ${String(optsA[k])} vs ${String(optsB[k])}`);
  return diffs;
}

export type { RatioTest };
