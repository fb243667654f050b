/**
 * Regression verdicts between two results files (bench: timings with a Mann–Whitney U test on the
 * raw samples; error: MSE ratios). A point is `slower` only when its ratio exceeds the threshold
 * AND the test says so at family-wise level alpha (Holm–Bonferroni over the points).
 */
import { mannWhitneyGreater } from './stats.ts';
import { errorKey, type ErrorLike, pointKey } from '../results/keys.ts';
import type { BenchRecord } from './types.ts';

export type Verdict = 'faster' | 'slower' | 'unchanged';

export interface Comparison {
  readonly key: string;
  readonly baseline: number;
  readonly current: number;
  /** current / baseline (> 1: slower, or a larger error). */
  readonly ratio: number;
  /** One-sided p-value that current is larger (null without samples). */
  readonly p: number | null;
  readonly verdict: Verdict;
}

export interface CompareOptions {
  readonly threshold: number;
  readonly alpha: number;
  readonly metric: 'median' | 'mean' | 'min';
}

const metricOf = (r: BenchRecord, m: CompareOptions['metric']) => (m === 'median' ? r.medianMs : m === 'mean' ? r.meanMs : r.minMs);

/**
 * Holm–Bonferroni over all points: which p-values stay significant with the family-wise error
 * rate ≤ alpha. Without it, 20 points tested at 5% each raise a false alarm in most runs.
 */
export function holm(ps: readonly (number | null)[], alpha: number): boolean[] {
  const order = ps.map((p, i) => ({ p, i })).filter((x): x is { p: number; i: number } => x.p !== null).sort((a, b) => a.p - b.p);
  const out = ps.map(() => false);
  for (const [k, { p, i }] of order.entries()) {
    if (p > alpha / (order.length - k)) break;
    out[i] = true;
  }
  return out;
}

export function compareBench(base: readonly BenchRecord[], cur: readonly BenchRecord[], o: CompareOptions): Comparison[] {
  const baseByKey = new Map(base.filter((r) => r.status === 'ok').map((r) => [pointKey(r), r]));
  const pairs = cur.flatMap((c) => {
    const b = baseByKey.get(pointKey(c));
    const [bv, cv] = [b && metricOf(b, o.metric), metricOf(c, o.metric)];
    if (!b || c.status !== 'ok' || bv == null || cv == null) return [];
    const tested = b.samplesMs.length > 1 && c.samplesMs.length > 1;
    return [{ key: pointKey(c), bv, cv, slowerP: tested ? mannWhitneyGreater(b.samplesMs, c.samplesMs).p : null, fasterP: tested ? mannWhitneyGreater(c.samplesMs, b.samplesMs).p : null }];
  });
  const slower = holm(pairs.map((x) => x.slowerP), o.alpha);
  const faster = holm(pairs.map((x) => x.fasterP), o.alpha);
  return pairs.map((x, i) => {
    const ratio = x.cv / x.bv;
    const verdict: Verdict = ratio > 1 + o.threshold && slower[i] ? 'slower' : ratio < 1 / (1 + o.threshold) && faster[i] ? 'faster' : 'unchanged';
    return { key: x.key, baseline: x.bv, current: x.cv, ratio, p: x.slowerP, verdict };
  });
}

export function compareErrors(base: readonly ErrorLike[], cur: readonly ErrorLike[], o: CompareOptions): Comparison[] {
  const byKey = new Map(base.map((r) => [errorKey(r), r]));
  return cur.flatMap((c) => {
    const b = byKey.get(errorKey(c));
    if (!b) return [];
    const ratio = c.mean / b.mean;
    const verdict: Verdict = ratio > 1 + o.threshold ? 'slower' : ratio < 1 / (1 + o.threshold) ? 'faster' : 'unchanged';
    return [{ key: errorKey(c), baseline: b.mean, current: c.mean, ratio, p: null, verdict }];
  });
}

/** Environment fields that make timings incomparable, with both values, where they differ. */
export function environmentDiff(a: Record<string, unknown>, b: Record<string, unknown>, optsA: Record<string, unknown>, optsB: Record<string, unknown>): string[] {
  const diffs: string[] = [];
  for (const k of ['onnxruntimeVersion', 'cpuModel', 'cores']) if (a[k] !== b[k]) diffs.push(`${k}: ${String(a[k])} vs ${String(b[k])}`);
  for (const k of ['ep', 'threads']) if (optsA[k] !== optsB[k]) diffs.push(`${k}: ${String(optsA[k])} vs ${String(optsB[k])}`);
  return diffs;
}
