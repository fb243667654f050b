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

export function givenErrorSpec(records: readonly ErrorRecord[], heads: readonly HeadStats[], caption: Caption): Spec {
  const values = records
    .filter((r) => r.status === 'ok' && r.mean > 0)
    .map((r) => ({ group: r.group ?? '', kernel: r.kernel, projection: r.featureType, m: r.features, mse: r.mean, estimator: r.estimator }));
  const kernels = [...new Set(values.map((v) => v.kernel))];
  const metric = records[0]?.target === 'kernel' ? 'kernel-level MSE (256 pairs per head)' : 'output MSE (token rows)';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: caption.title, subtitle: [caption.machine, `${metric}, mean over seeds; each seed draws only the projection`], anchor: 'start' },
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
            strokeDash: { field: 'projection', type: 'nominal' },
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
            mark: { type: 'point', filled: true },
            encoding: {
              x: { field: 'meanSum2', type: 'quantitative', title: 'mean ‖x+y‖² after d^(-1/4)', scale: { type: 'log' } },
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
