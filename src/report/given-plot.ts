/**
 * The figure of an error sweep on given inputs (`error --inputs`, experiment error-real): the output
 * MSE against m per layer/head group, beside each head's place on the regime map (mean ‖x+y‖²
 * after d^(-1/4) against the keys' anisotropy), so a reader sees whether the Gaussian regime map
 * predicted the winner.
 */
import type { HeadStats } from '../error/given.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { type Caption, DECADE_AXIS, kernelColor, type Spec } from './plot-specs.ts';

/** Registry kernels keep their colours; the host-side FAVOR# estimators (not in the registry) get their own. */
const HOST_COLORS: Record<string, string> = { sderf: '#000000', aderf: '#a0522d' };
const colorOf = (k: string) => HOST_COLORS[k] ?? kernelColor(k);

/** The input scales σ of the Gaussian regime map (experiment regime-map), drawn as reference lines. */
const REGIME_SIGMAS = [0.5, 0.7, 1, 1.5];

/** A kernel whose median MSE is this many times the median over kernels is left off the scale and named in the subtitle. */
const OFF_SCALE = 100;

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? (s[h] ?? Number.NaN) : ((s[h - 1] ?? 0) + (s[h] ?? 0)) / 2;
};

/**
 * Kernels whose errors are orders of magnitude above the rest (favor-trig on real heads: 10⁴–10⁷,
 * its denominators cross zero) would flatten every other line onto one; they are left off the
 * panels and their range is stated in the subtitle instead.
 */
export function offScaleKernels(values: readonly { kernel: string; mse: number }[]): Map<string, [number, number]> {
  const byKernel = new Map<string, number[]>();
  for (const v of values) byKernel.set(v.kernel, [...(byKernel.get(v.kernel) ?? []), v.mse]);
  const mid = median([...byKernel.values()].map(median));
  const off = new Map<string, [number, number]>();
  for (const [k, xs] of byKernel) if (median(xs) > OFF_SCALE * mid) off.set(k, [Math.min(...xs), Math.max(...xs)]);
  return off;
}

export function givenErrorSpec(records: readonly ErrorRecord[], heads: readonly HeadStats[], caption: Caption): Spec {
  const all = records
    .filter((r) => r.status === 'ok' && r.mean > 0)
    .map((r) => ({ group: r.group ?? '', kernel: r.kernel, projection: r.featureType, m: r.features, mse: r.mean, estimator: r.estimator }));
  const off = offScaleKernels(all);
  const values = all.filter((v) => !off.has(v.kernel));
  const kernels = [...new Set(values.map((v) => v.kernel))];
  const metric = records[0]?.target === 'kernel' ? 'kernel-level MSE (256 pairs per head)' : 'output MSE (token rows)';
  const offLine = [...off].map(([k, [lo, hi]]) => `${k} off the scale (${lo.toExponential(1)} to ${hi.toExponential(1)})`).join('; ');
  // Gaussian Q, K ~ N(0, σ²) at head dimension d, scaled by d^(-1/4): E‖x+y‖² = 2σ²√d.
  const dim = records[0]?.dim ?? 0;
  const sigmas = dim > 0 ? REGIME_SIGMAS.map((sigma) => ({ sigma: `σ = ${sigma}`, sum2: 2 * sigma * sigma * Math.sqrt(dim) })) : [];
  const sum2s = [...heads.map((h) => h.meanSum2), ...sigmas.map((s) => s.sum2)].filter((x) => x > 0);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: caption.title,
      subtitle: [
        caption.machine,
        `${metric}, mean over seeds; each seed draws only the projection${offLine ? `; ${offLine}` : ''}`,
        ...(sigmas.length
          ? [`right: each head's inputs; grey lines: where Gaussian inputs of scale σ at d = ${dim} fall (E‖x+y‖² = 2σ²√d), the regime map's σ`]
          : []),
      ],
      anchor: 'start',
    },
    config: { font: 'DejaVu Sans', axis: { grid: true, gridOpacity: 0.5 } },
    hconcat: [
      {
        data: { values },
        facet: { field: 'group', type: 'nominal', title: 'layer.head' },
        columns: 4,
        spec: {
          width: 200,
          height: 160,
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'm', type: 'quantitative', title: 'random features m', scale: { type: 'log', base: 2 } },
            y: { field: 'mse', type: 'quantitative', title: metric, scale: { type: 'log' }, axis: DECADE_AXIS },
            color: { field: 'kernel', type: 'nominal', scale: { domain: kernels, range: kernels.map(colorOf) } },
            strokeDash: { field: 'projection', type: 'nominal', legend: { symbolType: 'stroke', symbolStrokeColor: '#333333' } },
          },
        },
      },
      {
        data: { values: heads.map((h) => ({ ...h, anisotropy: Number.isFinite(h.anisotropy) ? h.anisotropy : null })) },
        width: 240,
        height: 200,
        title: 'regime position of each head',
        layer: [
          {
            data: { values: sigmas },
            mark: { type: 'rule', color: '#999999', strokeDash: [3, 3] },
            encoding: { x: { field: 'sum2', type: 'quantitative' } },
          },
          {
            data: { values: sigmas },
            mark: { type: 'text', color: '#666666', angle: 270, align: 'right', baseline: 'bottom', dx: -4, y: 4 },
            encoding: { x: { field: 'sum2', type: 'quantitative' }, text: { field: 'sigma' } },
          },
          {
            mark: { type: 'point', filled: true },
            encoding: {
              x: {
                field: 'meanSum2',
                type: 'quantitative',
                title: 'mean ‖x+y‖² after d^(-1/4)',
                scale: { type: 'log', ...(sum2s.length ? { domain: [Math.min(...sum2s) / 1.3, Math.max(...sum2s) * 1.3] } : {}) },
              },
              y: { field: 'anisotropy', type: 'quantitative', title: 'key covariance λmax/λmin', scale: { type: 'log' } },
            },
          },
          {
            mark: { type: 'text', dx: 6, align: 'left' },
            encoding: { x: { field: 'meanSum2', type: 'quantitative' }, y: { field: 'anisotropy', type: 'quantitative' }, text: { field: 'group' } },
          },
        ],
      },
    ],
  };
}
