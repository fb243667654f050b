/** Error-sweep and leak-probe records → table rows and CSV columns. */
import type { LeakRecord } from '../error/leak.ts';
import { pairedLogRatio } from '../stats/significance.ts';
import type { HeadStats } from '../error/given.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { toMarkdown } from './formats.ts';
import { renderTable } from './terminal.ts';
import { estimatorOf } from '../results/keys.ts';

export const ERROR_COLUMNS = [
  'kernel',
  'featureType',
  'features',
  'target',
  'estimator',
  'metric',
  'seqLen',
  'dim',
  'causal',
  'causalImpl',
  'chunkSize',
  'inputScale',
  'seeds',
  'ep',
  'status',
  'mean',
  'std',
  'min',
  'max',
  'theoryMse',
  'theoryRelMse',
  'theoryBound',
  'bias',
  'nonPositiveDenominators',
] as const satisfies readonly (keyof ErrorRecord)[];

const num = (x: number | null) => (x === null ? '–' : Number.isFinite(x) ? x.toExponential(3) : String(x));

/** CSV columns of given-input sweeps (`error --inputs`): the layer/head group first. */
export const GROUPED_ERROR_COLUMNS = ['group', ...ERROR_COLUMNS] as const satisfies readonly (keyof ErrorRecord)[];

/** Whether records come from given inputs (grouped by layer and head). */
export const grouped = (records: readonly ErrorRecord[]) => records.some((r) => r.group !== undefined);

/** Head and rows of the error table (terminal and Markdown); given inputs add the layer/head group and drop σ. */
export function errorTable(records: readonly ErrorRecord[]): { head: string[]; rows: string[][] } {
  const g = grouped(records);
  const head = [
    ...(g ? ['group'] : []),
    'kernel',
    'features',
    'm',
    ...(g ? [] : ['σ']),
    'estimator',
    'metric',
    'mean',
    'std',
    'min',
    'max',
    'theory MSE',
    'Thm 2 bound',
    'bias',
    'D ≤ 0',
  ];
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);
  const rows = records.map((r) => [
    ...(g ? [r.group ?? '–'] : []),
    r.kernel,
    r.featureType,
    String(r.features),
    ...(g ? [] : [String(r.inputScale)]),
    estimatorOf(r),
    r.metric,
    num(r.mean),
    num(r.std),
    num(r.min),
    num(r.max),
    num(r.theoryMse),
    num(r.theoryBound ?? null),
    pct(r.bias),
    pct(r.nonPositiveDenominators),
  ]);
  return { head, rows };
}

/** The per-head input statistics of given inputs (src/error/given.ts): what places a head on the regime map. */
export function inputStatsTable(heads: readonly HeadStats[], markdown = false): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toPrecision(4) : String(x));
  const head = ['group', 'tokens', 'mean ‖x‖²', 'mean ‖y‖²', 'mean ‖x+y‖²', 'key anisotropy', 'entropy (nats)', 'entropy ÷ log n', 'recorded out: max |Δ|'];
  const rows = heads.map((h) => [
    h.group,
    String(h.tokens),
    f(h.meanQ2),
    f(h.meanK2),
    f(h.meanSum2),
    f(h.anisotropy),
    f(h.entropy),
    f(h.entropyRatio),
    h.recordedMaxAbsDiff === null ? '–' : h.recordedMaxAbsDiff.toExponential(2),
  ]);
  return markdown ? toMarkdown(head, rows) : renderTable(head, rows);
}

export const LEAK_COLUMNS = ['kernel', 'causalImpl', 'seqLen', 'position', 'maxChange', 'maxOutput'] as const satisfies readonly (keyof LeakRecord)[];

/** The causal leak probe's table (terminal, or Markdown). */
export function leakTable(records: readonly LeakRecord[], markdown = false): string {
  const head = ['kernel', 'strategy', 'L', 'i', 'max |Δ out| at ≤ i', 'max |out|'];
  const rows = records.map((r) => [r.kernel, r.causalImpl ?? '–', String(r.seqLen), String(r.position), r.maxChange.toExponential(2), r.maxOutput.toFixed(3)]);
  return markdown ? toMarkdown(head, rows) : renderTable(head, rows);
}

/**
 * Each case against the same case of `baseline` (same projection type, m, σ, estimator path, metric), on paired
 * seeds: both saw the same inputs and projection seeds. Ratio = geometric mean over seeds of
 * case/baseline with its 95% interval (t on the log-ratios) and the one-sided paired p-values;
 * "lower"/"higher" where p < alpha, else "inconclusive".
 */
export function pairedErrorTable(records: readonly ErrorRecord[], baseline: string, alpha = 0.05, markdown = false): string {
  // Same estimator path where the baseline has it; given inputs otherwise pair across paths (the
  // host-side FAVOR# estimators, float64 without ε, against the graph kernels when only the graph ran),
  // on the same projections; the estimator column says which is which.
  const same = (a: ErrorRecord, b: ErrorRecord, path: boolean) =>
    a.group === b.group &&
    a.featureType === b.featureType &&
    a.features === b.features &&
    a.inputScale === b.inputScale &&
    (!path || estimatorOf(a) === estimatorOf(b)) &&
    a.metric === b.metric &&
    a.seeds === b.seeds;
  const rows: string[][] = [];
  const g = grouped(records);
  for (const r of records.filter((x) => x.kernel !== baseline)) {
    const base =
      records.find((x) => x.kernel === baseline && same(x, r, true)) ??
      (r.group !== undefined ? records.find((x) => x.kernel === baseline && same(x, r, false)) : undefined);
    const t = base && pairedLogRatio(base.perSeed, r.perSeed, alpha);
    if (!t) continue;
    const verdict = t.pFaster < alpha ? 'lower' : t.pSlower < alpha ? 'higher' : 'inconclusive';
    const p = (x: number) => (x < 1e-4 ? x.toExponential(1) : x.toFixed(4));
    rows.push([
      ...(g ? [r.group ?? '–'] : []),
      r.kernel,
      r.featureType,
      String(r.features),
      ...(g ? [] : [String(r.inputScale)]),
      estimatorOf(r),
      r.metric,
      String(r.seeds),
      t.ratio.toPrecision(3),
      `${t.lo.toPrecision(3)}–${t.hi.toPrecision(3)}`,
      p(t.pFaster),
      p(t.pSlower),
      verdict,
    ]);
  }
  if (!rows.length) return `no case has a paired ${baseline} case (same projection, m, σ, metric and seeds)`;
  const head = [
    ...(g ? ['group'] : []),
    'kernel',
    'features',
    'm',
    ...(g ? [] : ['σ']),
    'estimator',
    'metric',
    'seeds',
    `÷ ${baseline} (geo. mean)`,
    '95% CI',
    'p (lower)',
    'p (higher)',
    `vs ${baseline}`,
  ];
  return markdown ? toMarkdown(head, rows) : renderTable(head, rows);
}
