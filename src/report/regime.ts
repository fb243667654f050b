/**
 * Where the paper's accuracy claims hold: "orthogonal < iid" and "positive < trig", each tested
 * per (σ, m) on paired seeds (both sides of a claim see the same inputs and seed), beside the
 * closed-form predictions. Feeds the regime map and Fig. 4's tables and figures.
 */
import { pairedLogRatio } from '../stats/significance.ts';
import type { Panel } from '../../experiments/index.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { BEYOND_ESTIMATORS, PAPER_ESTIMATORS } from '../kernels/index.ts';
import type { Spec } from './plot-specs.ts';
import { toMarkdown } from './formats.ts';
import { DECADE_AXIS } from './plot-specs.ts';
import { estimatorOf } from '../results/keys.ts';
import { estimatorGaps } from './estimator-gap.ts';

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
    id: 'orthogonal<iid',
    label: `orthogonal / iid (${positive})`,
    better: (r) => r.kernel === positive && r.featureType === 'orthogonal',
    worse: (r) => r.kernel === positive && r.featureType === 'iid',
  },
  {
    id: 'positive<trig',
    label: `positive / trig (iid: ${positive} / ${trig})`,
    better: (r) => r.kernel === positive && r.featureType === 'iid',
    worse: (r) => r.kernel === trig && r.featureType === 'iid',
  },
  {
    id: 'oprf<positive',
    label: `${oprf} / ${positive} (orthogonal)`,
    better: (r) => r.kernel === oprf && r.featureType === 'orthogonal',
    worse: (r) => r.kernel === positive && r.featureType === 'orthogonal',
  },
];

export interface ClaimRow {
  readonly claim: Claim['id'];
  readonly label: string;
  readonly inputScale: number;
  readonly features: number;
  readonly seeds: number;
  /** graph or exact: both sides of a claim come from the same path. */
  readonly estimator: string;
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
      const w = mse.find(
        (r) => claim.worse(r) && r.inputScale === b.inputScale && r.features === b.features && r.seeds === b.seeds && estimatorOf(r) === estimatorOf(b),
      );
      const t = w && pairedLogRatio(w.perSeed, b.perSeed, alpha);
      if (!w || !t) continue;
      rows.push({
        claim: claim.id,
        label: claim.label,
        inputScale: b.inputScale,
        features: b.features,
        seeds: b.seeds,
        estimator: estimatorOf(b),
        ratio: t.ratio,
        lo: t.lo,
        hi: t.hi,
        p: t.pFaster,
        predicted: ratioOf(b.theoryRelMse, w.theoryRelMse),
        predictedBound: ratioOf(b.theoryBound, w.theoryMse),
        holds: t.pFaster < alpha,
      });
    }
  return rows.sort(
    (x, y) => x.claim.localeCompare(y.claim) || x.inputScale - y.inputScale || x.features - y.features || y.estimator.localeCompare(x.estimator),
  );
}

/** The path a figure draws in full: exact where the records have it, else graph. */
export const primaryEstimator = (records: readonly { estimator?: string }[]): string => (records.some((r) => estimatorOf(r) === 'exact') ? 'exact' : 'graph');

/**
 * The measured (claim, σ, m) cells where either side's output MSE differs between the graph and exact
 * paths by more than 10% (estimator-gap.ts): there ε, not the estimator, sets the graph's numbers.
 */
export function gapCells(records: readonly ErrorRecord[]): { label: string; inputScale: number; features: number }[] {
  const gaps = estimatorGaps(records).filter((g) => g.metric === 'mse' && g.differs);
  const measured = new Set(claimRows(records).map((r) => `${r.claim}|${r.inputScale}|${r.features}`));
  return CLAIMS.flatMap((claim) => {
    const cells = new Map<string, { label: string; inputScale: number; features: number }>();
    for (const g of gaps) {
      const r = g as unknown as ErrorRecord;
      const cell = `${claim.id}|${g.inputScale}|${g.features}`;
      if ((claim.better(r) || claim.worse(r)) && measured.has(cell)) cells.set(cell, { label: claim.label, inputScale: g.inputScale, features: g.features });
    }
    return [...cells.values()];
  });
}

const fmt = (x: number | null) => (x === null ? '–' : x.toPrecision(3));
const pfmt = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** The paired statistics as a Markdown table (per claim, σ and m). */
export function claimTable(rows: readonly ClaimRow[]): string {
  return toMarkdown(
    ['claim', 'σ', 'm', 'estimator', 'seeds', 'ratio (geo. mean)', '95% CI', 'paired p (ratio < 1)', 'closed form', 'Thm 2 bound / iid', 'holds (p < 0.05)'],
    rows.map((r) => [
      r.label,
      r.inputScale,
      r.features,
      r.estimator,
      r.seeds,
      fmt(r.ratio),
      `${fmt(r.lo)} – ${fmt(r.hi)}`,
      pfmt(r.p),
      fmt(r.predicted),
      fmt(r.predictedBound),
      r.holds ? 'yes' : 'no',
    ]),
  );
}

/**
 * The regime map: measured ratios (with 95% intervals) and the closed forms over σ, one panel per
 * m. With both estimator paths, the exact one is drawn in full and the graph's ratio as a grey ×,
 * and `gaps` (gapCells) shade the σ where the two paths' MSE differ by more than 10%.
 */
export function regimeSpec(
  rows: readonly ClaimRow[],
  caption: { title: string; machine: string },
  gaps: readonly { label: string; inputScale: number; features: number }[] = [],
): Spec {
  const primary = primaryEstimator(rows);
  const both = rows.some((r) => r.estimator !== primary);
  const values = [
    ...rows.flatMap((r) =>
      r.estimator !== primary
        ? [{ ...r, kind: 'graph', value: r.ratio }]
        : [
            { ...r, kind: 'measured', value: r.ratio },
            ...(r.predicted !== null ? [{ ...r, kind: 'closed form', value: r.predicted }] : []),
            ...(r.predictedBound !== null ? [{ ...r, kind: 'Theorem 2 bound', value: r.predictedBound }] : []),
          ],
    ),
    ...gaps.map((g) => ({ ...g, kind: 'gap', x0: g.inputScale / 1.12, x1: g.inputScale * 1.12 })),
  ];
  const scales = rows.map((r) => r.inputScale);
  const xScale = { type: 'log', domain: [Math.min(...scales) * 0.85, Math.max(...scales) * 1.15], nice: false };
  const x = {
    field: 'inputScale',
    type: 'quantitative',
    title: 'input scale σ (Q, K ~ N(0, σ²))',
    scale: xScale,
    axis: { values: [...new Set(scales)], grid: false },
  };
  const y = { field: 'value', type: 'quantitative', title: 'MSE ratio (< 1: the claim holds)', scale: { type: 'log' }, axis: DECADE_AXIS };
  const color = { field: 'label', type: 'nominal', title: 'claim', legend: null };
  const paths = both
    ? [
        `points: the estimators in float64 without ε (--estimator exact); grey ×: the ONNX graph (float32, ε = 1e-6 after the shifts); shaded: the two paths' MSE differ by > 10%`,
      ]
    : [`points: --estimator ${primary}`];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: caption.title,
      subtitle: [
        caption.machine,
        ...paths,
        'measured output-MSE ratio, geometric mean over paired seeds with 95% CI; filled where paired p < 0.05 (the claim holds there)',
        'solid: closed-form ratio of relative MSEs at these inputs; dashed: Theorem 2 bound over iid (m ≤ d); dotted: ratio 1',
      ],
    },
    config: { font: 'DejaVu Sans', axis: { gridOpacity: 0.4 } },
    data: { values },
    facet: {
      row: {
        field: 'label',
        type: 'nominal',
        title: null,
        header: { labelLimit: 400, labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' },
      },
      column: { field: 'features', type: 'ordinal', title: 'random features m' },
    },
    spec: {
      width: 260,
      height: 200,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'gap'" }],
          mark: { type: 'rect', color: '#e8b4b4', opacity: 0.45 },
          encoding: { x: { field: 'x0', type: 'quantitative', scale: xScale, title: null }, x2: { field: 'x1' } },
        },
        { mark: { type: 'rule', color: '#888', strokeDash: [2, 2] }, encoding: { y: { datum: 1 } } },
        {
          transform: [{ filter: "datum.kind === 'measured'" }],
          mark: { type: 'errorbar', ticks: true },
          encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: null }, y2: { field: 'hi' }, color },
        },
        {
          transform: [{ filter: "datum.kind === 'measured'" }],
          mark: { type: 'point', size: 50 },
          encoding: { x, y, color, fill: { condition: { test: 'datum.holds', field: 'label' }, value: 'white' }, shape: { value: 'circle' } },
        },
        {
          transform: [{ filter: "datum.kind === 'graph'" }],
          mark: { type: 'point', shape: 'cross', size: 40, color: '#555', filled: true },
          encoding: { x, y },
        },
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
  const primary = primaryEstimator(records);
  const both = records.some((r) => estimatorOf(r) !== primary);
  const values = panels.flatMap((p) =>
    records.filter(inPanel(p)).map((r) => ({
      panel: `${p.title} (σ = ${p.inputScale})`,
      series: `${r.kernel} ${r.featureType}`,
      m: r.features,
      estimator: estimatorOf(r),
      primary: estimatorOf(r) === primary,
      ...logBand((r.perSeed ?? [r.mean]).map((x) => (p.timesM ? x * r.features : x))),
    })),
  );
  const yTitle = panels.some((p) => p.timesM) ? 'm · output MSE' : 'output MSE';
  const x = { field: 'm', type: 'quantitative', title: 'random features m' };
  const color = { field: 'series', type: 'nominal', title: 'kernel, projection', legend: { orient: 'bottom', labelLimit: 300 } };
  const paths = both
    ? ['solid: the estimators in float64 without ε (--estimator exact), with the band; dashed: the ONNX graph (float32, ε = 1e-6 after the shifts)']
    : [];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: caption.title,
      subtitle: [caption.machine, 'line: geometric mean of the output MSE over seeds; band: exp(mean ± std) of its logarithm', ...paths],
    },
    config: { font: 'DejaVu Sans' },
    data: { values },
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: panels.map((p) => `${p.title} (σ = ${p.inputScale})`), header: { labelLimit: 0 } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 280,
      height: 240,
      layer: [
        {
          transform: [{ filter: 'datum.primary' }],
          mark: { type: 'area', opacity: 0.2 },
          encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, axis: DECADE_AXIS, title: yTitle }, y2: { field: 'hi' }, color },
        },
        // A point shape per series too: series that coincide (FAVOR# on isotropic inputs equals
        // FAVOR++) stay visible under each other.
        {
          transform: [{ filter: 'datum.primary' }],
          mark: { type: 'line', point: { size: 45, filled: false } },
          encoding: { x, y: { field: 'gmean', type: 'quantitative', scale: { type: 'log' } }, color, shape: { ...color } },
        },
        {
          transform: [{ filter: '!datum.primary' }],
          mark: { type: 'line', strokeDash: [5, 3], strokeWidth: 1.2 },
          encoding: { x, y: { field: 'gmean', type: 'quantitative', scale: { type: 'log' } }, color },
        },
      ],
    },
  };
}

/** The paired rows of each panel's claim, at the panel's input scale. */
export function panelRows(records: readonly ErrorRecord[], panels: readonly Panel[]): ClaimRow[] {
  const rows = claimRows(records);
  return panels.flatMap((p) => rows.filter((r) => r.inputScale === p.inputScale && (p.claim === 'all' || r.claim === p.claim)));
}
