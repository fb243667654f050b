/**
 * Paired statistics of training runs: every run label against a reference label on the same seeds
 * (same initial weights, batches and masks), and, for runs started with --init-from, the recovery
 * after the swap against the control.
 */
import { studentTCdf, studentTQuantile } from '../stats/significance.ts';
import type { TrainDocument, TrainRecord } from '../train/types.ts';

export interface PairedDifference {
  readonly label: string;
  readonly n: number;
  /** Mean of (label − reference) over paired seeds. */
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  /** Two-sided paired t-test p-value (H₀: mean difference 0); null with fewer than 2 pairs or no spread. */
  readonly p: number | null;
}

/**
 * Paired t on d_s = f(label, s) − f(reference, s) over seeds s both ran (Student 1908): mean, 95%
 * interval mean ± t(0.975, n−1)·sd/√n, two-sided p. Seeds are the pairing unit: one seed fixes the
 * initial weights, the batches and the masks for every label.
 */
export function pairedDifferences(records: readonly TrainRecord[], reference: string, f: (r: TrainRecord) => number, alpha = 0.05): PairedDifference[] {
  const by = (label: string) => new Map(records.filter((r) => r.kernel === label).map((r) => [r.seed, r]));
  const ref = by(reference);
  return [...new Set(records.map((r) => r.kernel))]
    .filter((l) => l !== reference)
    .map((label) => {
      const d = [...by(label)]
        .filter(([s]) => ref.has(s))
        .map(([s, r]) => f(r) - f(ref.get(s)!))
        .filter(Number.isFinite);
      const n = d.length;
      const mean = n ? d.reduce((a, b) => a + b, 0) / n : NaN;
      if (n < 2) return { label, n, mean, lo: NaN, hi: NaN, p: null };
      const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
      const se = sd / Math.sqrt(n);
      const t = studentTQuantile(1 - alpha / 2, n - 1);
      const p = se > 0 ? 2 * (1 - studentTCdf(Math.abs(mean / se), n - 1)) : null;
      return { label, n, mean, lo: mean - t * se, hi: mean + t * se, p };
    });
}

/** "+0.012 (−0.004 … +0.028), p = 0.12" with a verdict word: higher, lower or inconclusive at 5%. */
export function formatDifference(d: PairedDifference, digits = 3): { text: string; verdict: string } {
  const sign = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
  if (d.n === 0) return { text: 'no paired seed', verdict: '–' };
  if (d.n < 2) return { text: `${sign(d.mean)} (1 seed)`, verdict: 'inconclusive (1 seed)' };
  const text = `${sign(d.mean)} (${sign(d.lo)} … ${sign(d.hi)}), p = ${d.p === null ? '–' : d.p < 0.001 ? d.p.toExponential(1) : d.p.toFixed(3)}`;
  // No spread over seeds (every pair differs by the same amount): no test, say so.
  const verdict = d.p === null ? 'no spread: untested' : d.lo > 0 ? 'higher' : d.hi < 0 ? 'lower' : 'inconclusive';
  return { text, verdict };
}

export interface Recovery {
  readonly label: string;
  readonly seeds: number;
  /** Validation accuracy at step 0 (right after the swap), per seed. */
  readonly start: readonly number[];
  /** Per seed: the first evaluation within `within` of the control's validation accuracy at the same step; null if never. */
  readonly reached: readonly ({ step: number; seconds: number } | null)[];
}

/**
 * For a run started with --init-from: per label and seed, the step-0 accuracy and the first
 * evaluation whose validation accuracy is within `within` (1 point) of the control label's at the
 * same step and seed. The control's own row reaches it at step 0 by definition.
 */
export function recoveries(doc: TrainDocument, control: string, within = 0.01): Recovery[] {
  const ctl = new Map(doc.records.filter((r) => r.kernel === control).map((r) => [r.seed, new Map(r.curve.map((c) => [c.step, c.valAcc]))]));
  return [...new Set(doc.records.map((r) => r.kernel))].map((label) => {
    const rs = doc.records.filter((r) => r.kernel === label);
    return {
      label,
      seeds: rs.length,
      start: rs.map((r) => (r.curve[0]?.step === 0 ? r.curve[0].valAcc : NaN)),
      reached: rs.map((r) => {
        const c = ctl.get(r.seed);
        const hit = c && r.curve.find((p) => c.has(p.step) && p.valAcc >= c.get(p.step)! - within);
        return hit ? { step: hit.step, seconds: hit.seconds } : null;
      }),
    };
  });
}
