/**
 * Regression verdicts between two results files (bench: timings with a Mann–Whitney U test on the
 * raw samples; error: MSE ratios). A point is `slower` only when its ratio exceeds the threshold
 * AND the test says so at level alpha: noise alone never fails a CI run.
 */
import { mannWhitneyGreater } from './stats.ts';
import { type BenchRecord, pointKey } from './types.ts';

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

export function compareBench(base: readonly BenchRecord[], cur: readonly BenchRecord[], o: CompareOptions): Comparison[] {
  const baseByKey = new Map(base.filter((r) => r.status === 'ok').map((r) => [pointKey(r), r]));
  const out: Comparison[] = [];
  for (const c of cur) {
    const b = baseByKey.get(pointKey(c));
    const [bv, cv] = [b && metricOf(b, o.metric), metricOf(c, o.metric)];
    if (!b || c.status !== 'ok' || bv == null || cv == null) continue;
    const ratio = cv / bv;
    const slowerP = b.samplesMs.length > 1 && c.samplesMs.length > 1 ? mannWhitneyGreater(b.samplesMs, c.samplesMs).p : null;
    const fasterP = b.samplesMs.length > 1 && c.samplesMs.length > 1 ? mannWhitneyGreater(c.samplesMs, b.samplesMs).p : null;
    const significant = (p: number | null) => p !== null && p < o.alpha;
    const verdict: Verdict = ratio > 1 + o.threshold && significant(slowerP) ? 'slower' : ratio < 1 / (1 + o.threshold) && significant(fasterP) ? 'faster' : 'unchanged';
    out.push({ key: pointKey(c), baseline: bv, current: cv, ratio, p: slowerP, verdict });
  }
  return out;
}

/** Error records keyed by what they measure; a regression is a mean error grown beyond the threshold. */
export interface ErrorLike {
  kernel: string;
  featureType: string;
  features: number;
  target: string;
  metric: string;
  seqLen: number;
  dim: number;
  causal: boolean;
  mean: number;
}

const errorKey = (r: ErrorLike) => [r.kernel, r.featureType, r.features, r.target, r.metric, r.seqLen, r.dim, r.causal].join('|');

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
