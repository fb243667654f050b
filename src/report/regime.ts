/**
 * Where the paper's accuracy claims hold: "orthogonal < iid" and "positive < trig", each tested
 * per (σ, m) on paired seeds (both sides of a claim see the same inputs and seed), beside the
 * closed-form predictions. Feeds the regime map and Fig. 4's tables and figures.
 */
import { pairedLogRatio } from '../bench/significance.ts';
import type { Panel } from '../../experiments/index.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { BEYOND_ESTIMATORS, PAPER_ESTIMATORS } from '../kernels/index.ts';
import type { Spec } from './plot-specs.ts';
import { toMarkdown } from './formats.ts';
import { DECADE_AXIS } from './plot-specs.ts';

/** A claim: records of `better` should have a smaller error than those of `worse` (ratio < 1). */
export interface Claim {
  readonly id: Exclude<Panel['claim'], 'all'>;
  readonly label: string;
  readonly better: (r: ErrorRecord) => boolean;
  readonly worse: (r: ErrorRecord) => boolean;
}

const { positive, trig } = PAPER_ESTIMATORS;
const { oprf } = BEYOND_ESTIMATORS;

export const CLAIMS: readonly Claim[] = [
  {
    id: 'orthogonal<iid', label: `orthogonal / iid (${positive})`,
    better: (r) => r.kernel === positive && r.featureType === 'orthogonal', worse: (r) => r.kernel === positive && r.featureType === 'iid',
  },
  {
    id: 'positive<trig', label: `positive / trig (iid: ${positive} / ${trig})`,
    better: (r) => r.kernel === positive && r.featureType === 'iid', worse: (r) => r.kernel === trig && r.featureType === 'iid',
  },
  {
    id: 'oprf<positive', label: `${oprf} / ${positive} (orthogonal)`,
    better: (r) => r.kernel === oprf && r.featureType === 'orthogonal', worse: (r) => r.kernel === positive && r.featureType === 'orthogonal',
  },
];

export interface ClaimRow {
  readonly claim: Claim['id'];
  readonly label: string;
  readonly inputScale: number;
  readonly features: number;
  readonly seeds: number;
  /** Geometric mean over seeds of the per-seed ratio better/worse, with its 95% interval. */
  readonly ratio: number;
  readonly lo: number;
  readonly hi: number;
  /** One-sided paired t-test on the log-ratios: p that the ratio is not below 1. */
  readonly p: number;
  /** The closed forms' ratio of relative MSEs at these inputs (Lemma 2; orthogonal: the exact value), and Theorem 2's bound over iid. */
  readonly predicted: number | null;
  readonly predictedBound: number | null;
  readonly holds: boolean;
}

const ratioOf = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null && b > 0 ? a / b : null);

/** One row per claim, σ and m where both sides were measured on the same seeds (output MSE). */
export function claimRows(records: readonly ErrorRecord[], alpha = 0.05): ClaimRow[] {
  const mse = records.filter((r) => r.metric === 'mse' && r.perSeed?.length);
  const rows: ClaimRow[] = [];
  for (const claim of CLAIMS)
    for (const b of mse.filter(claim.better)) {
      const w = mse.find((r) => claim.worse(r) && r.inputScale === b.inputScale && r.features === b.features && r.seeds === b.seeds);
      const t = w && pairedLogRatio(w.perSeed, b.perSeed, alpha);
      if (!w || !t) continue;
      rows.push({
        claim: claim.id, label: claim.label, inputScale: b.inputScale, features: b.features, seeds: b.seeds,
        ratio: t.ratio, lo: t.lo, hi: t.hi, p: t.pFaster,
        predicted: ratioOf(b.theoryRelMse, w.theoryRelMse), predictedBound: ratioOf(b.theoryBound, w.theoryMse),
        holds: t.pFaster < alpha,
      });
    }
  return rows.sort((x, y) => x.claim.localeCompare(y.claim) || x.inputScale - y.inputScale || x.features - y.features);
}

const fmt = (x: number | null) => (x === null ? '–' : x.toPrecision(3));
const pfmt = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** The paired statistics as a Markdown table (per claim, σ and m). */
export function claimTable(rows: readonly ClaimRow[]): string {
  return toMarkdown(
    ['claim', 'σ', 'm', 'seeds', 'ratio (geo. mean)', '95% CI', 'paired p (ratio < 1)', 'closed form', 'Thm 2 bound / iid', 'holds (p < 0.05)'],
    rows.map((r) => [r.label, r.inputScale, r.features, r.seeds, fmt(r.ratio), `${fmt(r.lo)} – ${fmt(r.hi)}`, pfmt(r.p), fmt(r.predicted), fmt(r.predictedBound), r.holds ? 'yes' : 'no']),
  );
}

/** The regime map: measured ratios (with 95% intervals) and the closed forms over σ, one panel per m. */
export function regimeSpec(rows: readonly ClaimRow[], caption: { title: string; machine: string }): Spec {
  const values = rows.flatMap((r) => [
    { ...r, kind: 'measured', value: r.ratio },
    ...(r.predicted !== null ? [{ ...r, kind: 'closed form', value: r.predicted }] : []),
    ...(r.predictedBound !== null ? [{ ...r, kind: 'Theorem 2 bound', value: r.predictedBound }] : []),
  ]);
  const scales = rows.map((r) => r.inputScale);
  const x = { field: 'inputScale', type: 'quantitative', title: 'input scale σ (Q, K ~ N(0, σ²))', scale: { type: 'log', domain: [Math.min(...scales) * 0.9, Math.max(...scales) * 1.1], nice: false }, axis: { values: [...new Set(scales)], grid: false } };
  const y = { field: 'value', type: 'quantitative', title: 'MSE ratio (< 1: the claim holds)', scale: { type: 'log' }, axis: DECADE_AXIS };
  const color = { field: 'label', type: 'nominal', title: 'claim', legend: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: caption.title, subtitle: [caption.machine, 'points: measured output-MSE ratio, geometric mean over paired seeds with 95% CI; filled where paired p < 0.05 (the claim holds there)', 'solid: closed-form ratio of relative MSEs at these inputs; dashed: Theorem 2 bound over iid (m ≤ d); dotted: ratio 1'] },
    config: { font: 'DejaVu Sans', axis: { gridOpacity: 0.4 } },
    data: { values },
    facet: {
      row: { field: 'label', type: 'nominal', title: null, header: { labelLimit: 400, labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } },
      column: { field: 'features', type: 'ordinal', title: 'random features m' },
    },
    spec: {
      width: 260, height: 200,
      layer: [
        { mark: { type: 'rule', color: '#888', strokeDash: [2, 2] }, encoding: { y: { datum: 1 } } },
        { transform: [{ filter: "datum.kind === 'measured'" }], mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: null }, y2: { field: 'hi' }, color } },
        { transform: [{ filter: "datum.kind === 'measured'" }], mark: { type: 'point', size: 50 }, encoding: { x, y, color, fill: { condition: { test: 'datum.holds', field: 'label' }, value: 'white' }, shape: { value: 'circle' } } },
        { transform: [{ filter: "datum.kind === 'closed form'" }], mark: { type: 'line' }, encoding: { x, y, color } },
        { transform: [{ filter: "datum.kind === 'Theorem 2 bound'" }], mark: { type: 'line', strokeDash: [6, 4] }, encoding: { x, y, color } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

const inPanel = (p: Panel) => (r: ErrorRecord) => {
  if (r.inputScale !== p.inputScale || r.metric !== 'mse') return false;
  const c = CLAIMS.find((x) => x.id === p.claim);
  return !c || c.better(r) || c.worse(r);
};

/** Geometric mean over seeds and the band exp(mean ± std) of log values (what a log axis shows). */
function logBand(xs: readonly number[]) {
  const logs = xs.filter((x) => x > 0).map(Math.log);
  const m = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = logs.length > 1 ? Math.sqrt(logs.reduce((a, b) => a + (b - m) ** 2, 0) / (logs.length - 1)) : 0;
  return { gmean: Math.exp(m), lo: Math.exp(m - sd), hi: Math.exp(m + sd) };
}

/**
 * Fig. 4 as in the paper: MSE vs m, one panel per claim at the input scale where the regime map
 * shows it, each on its own log axis; the line is the geometric mean over seeds and the band
 * exp(mean ± std) of the log MSE (the mean ± std a log axis can draw).
 */
export function fig4Spec(records: readonly ErrorRecord[], panels: readonly Panel[], caption: { title: string; machine: string }): Spec {
  const values = panels.flatMap((p) => records.filter(inPanel(p)).map((r) => ({
    panel: `${p.title} (σ = ${p.inputScale})`, series: `${r.kernel} ${r.featureType}`, m: r.features,
    ...logBand((r.perSeed ?? [r.mean]).map((x) => (p.timesM ? x * r.features : x))),
  })));
  const yTitle = panels.some((p) => p.timesM) ? 'm · output MSE' : 'output MSE';
  const x = { field: 'm', type: 'quantitative', title: 'random features m' };
  const color = { field: 'series', type: 'nominal', title: 'kernel, projection', legend: { orient: 'bottom', labelLimit: 300 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: caption.title, subtitle: [caption.machine, 'line: geometric mean of the output MSE over seeds; band: exp(mean ± std) of its logarithm'] },
    config: { font: 'DejaVu Sans' },
    data: { values },
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: panels.map((p) => `${p.title} (σ = ${p.inputScale})`), header: { labelLimit: 0 } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 280, height: 240,
      layer: [
        { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, axis: DECADE_AXIS, title: yTitle }, y2: { field: 'hi' }, color } },
        // A point shape per series too: series that coincide (FAVOR# on isotropic inputs equals
        // FAVOR++) stay visible under each other.
        { mark: { type: 'line', point: { size: 45, filled: false } }, encoding: { x, y: { field: 'gmean', type: 'quantitative', scale: { type: 'log' } }, color, shape: { ...color } } },
      ],
    },
  };
}

/** The paired rows of each panel's claim, at the panel's input scale. */
export function panelRows(records: readonly ErrorRecord[], panels: readonly Panel[]): ClaimRow[] {
  const rows = claimRows(records);
  return panels.flatMap((p) => rows.filter((r) => r.inputScale === p.inputScale && (p.claim === 'all' || r.claim === p.claim)));
}
