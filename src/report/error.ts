/** Error-sweep and leak-probe records → table rows and CSV columns. */
import type { LeakRecord } from '../error/leak.ts';
import { pairedLogRatio } from '../stats/significance.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { toMarkdown } from './formats.ts';
import { renderTable } from './terminal.ts';
import { estimatorOf } from '../results/keys.ts';

export const ERROR_COLUMNS = ['kernel', 'featureType', 'features', 'target', 'estimator', 'metric', 'seqLen', 'dim', 'causal', 'causalImpl', 'chunkSize', 'inputScale', 'seeds', 'ep', 'status', 'mean', 'std', 'min', 'max', 'theoryMse', 'theoryRelMse', 'theoryBound', 'bias', 'nonPositiveDenominators'] as const satisfies readonly (keyof ErrorRecord)[];

const num = (x: number | null) => (x === null ? '–' : Number.isFinite(x) ? x.toExponential(3) : String(x));

/** Head and rows of the error table (terminal and Markdown). */
export function errorTable(records: readonly ErrorRecord[]): { head: string[]; rows: string[][] } {
  const head = ['kernel', 'features', 'm', 'σ', 'estimator', 'metric', 'mean', 'std', 'min', 'max', 'theory MSE', 'Thm 2 bound', 'bias', 'D ≤ 0'];
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);
  const rows = records.map((r) => [r.kernel, r.featureType, String(r.features), String(r.inputScale), estimatorOf(r), r.metric, num(r.mean), num(r.std), num(r.min), num(r.max), num(r.theoryMse), num(r.theoryBound ?? null), pct(r.bias), pct(r.nonPositiveDenominators)]);
  return { head, rows };
}

export const LEAK_COLUMNS = ['kernel', 'causalImpl', 'seqLen', 'position', 'maxChange', 'maxOutput'] as const satisfies readonly (keyof LeakRecord)[];

/** The causal leak probe's table. */
export function leakTable(records: readonly LeakRecord[]): string {
  return renderTable(['kernel', 'strategy', 'L', 'i', 'max |Δ out| at ≤ i', 'max |out|'], records.map((r) => [r.kernel, r.causalImpl ?? '–', r.seqLen, r.position, r.maxChange.toExponential(2), r.maxOutput.toFixed(3)]));
}

/**
 * Each case against the same case of `baseline` (same projection type, m, σ, estimator path, metric), on paired
 * seeds: both saw the same inputs and projection seeds. Ratio = geometric mean over seeds of
 * case/baseline with its 95% interval (t on the log-ratios) and the one-sided paired p-values;
 * "lower"/"higher" where p < alpha, else "inconclusive".
 */
export function pairedErrorTable(records: readonly ErrorRecord[], baseline: string, alpha = 0.05, markdown = false): string {
  const same = (a: ErrorRecord, b: ErrorRecord) => a.featureType === b.featureType && a.features === b.features && a.inputScale === b.inputScale && estimatorOf(a) === estimatorOf(b) && a.metric === b.metric && a.seeds === b.seeds;
  const rows: string[][] = [];
  for (const r of records.filter((x) => x.kernel !== baseline)) {
    const base = records.find((x) => x.kernel === baseline && same(x, r));
    const t = base && pairedLogRatio(base.perSeed, r.perSeed, alpha);
    if (!t) continue;
    const verdict = t.pFaster < alpha ? 'lower' : t.pSlower < alpha ? 'higher' : 'inconclusive';
    const p = (x: number) => (x < 1e-4 ? x.toExponential(1) : x.toFixed(4));
    rows.push([r.kernel, r.featureType, String(r.features), String(r.inputScale), estimatorOf(r), r.metric, String(r.seeds), t.ratio.toPrecision(3), `${t.lo.toPrecision(3)}–${t.hi.toPrecision(3)}`, p(t.pFaster), p(t.pSlower), verdict]);
  }
  if (!rows.length) return `no case has a paired ${baseline} case (same projection, m, σ, metric and seeds)`;
  const head = ['kernel', 'features', 'm', 'σ', 'estimator', 'metric', 'seeds', `÷ ${baseline} (geo. mean)`, '95% CI', 'p (lower)', 'p (higher)', `vs ${baseline}`];
  return markdown ? toMarkdown(head, rows) : renderTable(head, rows);
}
