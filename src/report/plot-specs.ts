/**
 * Vega-Lite specs in the paper's conventions, built from results documents (pure data → spec).
 * - bench: log2 L vs log2 seconds, softmax kernels dashed, others solid, identity ("OPT") as
 *   black crosses, a red cross where a series runs out of memory; one panel per pass.
 * - error: mean error vs m on a log axis with ±std bands, one colour per kernel/projection.
 * - utility: r(φ, l) as a heat map of log10 r, and the l = 1 slice on a log axis (Fig. 2).
 */
import type { BenchRecord } from '../bench/types.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { hasRole, isSoftmaxBaseline } from '../kernels/index.ts';

export type Spec = Record<string, unknown>;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface Caption {
  readonly title: string;
  readonly machine: string;
}

const header = (c: Caption) => ({ $schema: SCHEMA, title: { text: c.title, subtitle: c.machine }, config: { font: 'DejaVu Sans', axis: { grid: true } } });

export function benchSpec(records: readonly BenchRecord[], caption: Caption): Spec {
  const multiBatch = new Set(records.map((r) => r.batch)).size > 1;
  const name = (r: BenchRecord) => `${r.kernel}${multiBatch ? ` B=${r.batch}` : ''}`;
  const ok = records.filter((r) => r.status === 'ok' && r.medianMs !== null);
  const rows = ok.map((r) => ({
    series: name(r), kernel: r.kernel, pass: r.pass, log2L: Math.log2(r.seqLen), log2s: Math.log2(r.medianMs! / 1000),
    style: hasRole(r.kernel, 'opt') ? 'opt' : isSoftmaxBaseline(r.kernel) ? 'baseline' : 'linear',
  }));
  // Where a series hits oom: a cross at that L, at the height of its last measured point.
  const oom = records.filter((r) => r.status === 'oom').flatMap((r) => {
    const last = ok.filter((o) => name(o) === name(r) && o.pass === r.pass && o.seqLen < r.seqLen).sort((a, b) => b.seqLen - a.seqLen)[0];
    return last ? [{ series: name(r), pass: r.pass, log2L: Math.log2(r.seqLen), log2s: Math.log2(last.medianMs! / 1000), style: 'oom' }] : [];
  });
  const x = { field: 'log2L', type: 'quantitative', title: 'log2 L (sequence length)', scale: { zero: false } };
  const y = { field: 'log2s', type: 'quantitative', title: 'log2 seconds', scale: { zero: false } };
  const head = header(caption);
  return {
    ...head,
    title: { ...head.title, subtitle: [caption.machine, 'dashed: exact softmax · solid: linear attention · black ×: OPT (identity) · red ×: out of memory'] },
    data: { values: [...rows, ...oom] },
    facet: { column: { field: 'pass', type: 'nominal', title: null } },
    spec: {
      width: 320, height: 260,
      layer: [
        {
          transform: [{ filter: "datum.style === 'baseline' || datum.style === 'linear'" }],
          mark: { type: 'line', point: true },
          encoding: {
            x, y, color: { field: 'series', type: 'nominal', title: 'kernel' },
            strokeDash: { field: 'style', type: 'nominal', scale: { domain: ['baseline', 'linear'], range: [[6, 4], [1, 0]] }, legend: null },
          },
        },
        { transform: [{ filter: "datum.style === 'opt'" }], mark: { type: 'point', shape: 'cross', size: 90, color: 'black', filled: true }, encoding: { x, y, tooltip: { field: 'series' } } },
        { transform: [{ filter: "datum.style === 'oom'" }], mark: { type: 'point', shape: 'cross', size: 160, color: '#d62728', filled: true }, encoding: { x, y, tooltip: { field: 'series' } } },
      ],
    },
  };
}

export function errorSpec(records: readonly ErrorRecord[], caption: Caption): Spec {
  const rows = records.map((r) => ({
    series: `${r.kernel} ${r.featureType}`, metric: r.metric, m: r.features, mean: r.mean,
    lo: Math.max(r.mean - r.std, r.min, Number.MIN_VALUE), hi: r.mean + r.std,
  }));
  const x = { field: 'm', type: 'quantitative', title: 'random features m' };
  return {
    ...header(caption),
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 340, height: 260,
      layer: [
        { mark: { type: 'errorband', opacity: 0.2 }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'error (mean ± std over seeds)' }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal', title: 'kernel, projection' } } },
        { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'series', type: 'nominal' } } },
      ],
    },
  };
}

export function utilitySpec(rows: readonly { angle: number; norm: number; ratio: number }[], caption: Caption): Spec {
  const values = rows.filter((r) => Number.isFinite(r.ratio) && r.ratio > 0).map((r) => ({ ...r, log10r: Math.log10(r.ratio) }));
  const norms = [...new Set(values.map((r) => r.norm))];
  const one = norms.reduce((best, n) => (Math.abs(n - 1) < Math.abs(best - 1) ? n : best), norms[0] ?? 1);
  return {
    ...header(caption),
    data: { values },
    hconcat: [
      {
        title: 'log10 r(φ, l) = MSE(trig) / MSE(pos)', width: 320, height: 260,
        mark: 'rect',
        encoding: {
          x: { field: 'angle', type: 'quantitative', bin: { maxbins: 60 }, title: 'angle φ (radians)' },
          y: { field: 'norm', type: 'quantitative', bin: { maxbins: 40 }, title: 'l = ‖x‖ = ‖y‖' },
          color: { aggregate: 'mean', field: 'log10r', type: 'quantitative', title: 'log10 r', scale: { scheme: 'viridis' } },
        },
      },
      {
        title: `slice l = ${one.toFixed(2)}`, width: 320, height: 260,
        transform: [{ filter: `datum.norm === ${one}` }],
        mark: 'line',
        encoding: { x: { field: 'angle', type: 'quantitative', title: 'angle φ (radians)' }, y: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'r(φ, 1)' } },
      },
    ],
  };
}
