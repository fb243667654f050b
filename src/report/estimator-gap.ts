/**
 * Where the deployed estimator (`--estimator graph`: float32, ε = 1e-6 after the stabiliser
 * shifts, as the reference code) and the estimator itself (`exact`: float64, no ε) part ways:
 * per case, the paired geometric-mean ratio graph ÷ exact of the output MSE (docs/formulas.md §3).
 */
import { pairedLogRatio } from '../stats/significance.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { errorKey, estimatorOf } from '../results/keys.ts';
import { toMarkdown } from './formats.ts';

/** The graph and exact paths are said to differ where their MSE ratio leaves 1 ± this. */
export const GAP_THRESHOLD = 0.1;

export interface EstimatorGap {
  readonly kernel: string;
  readonly featureType: string;
  readonly features: number;
  readonly inputScale: number;
  readonly metric: string;
  readonly seeds: number;
  /** Geometric mean over seeds of graph ÷ exact, with its 95% interval. */
  readonly ratio: number;
  readonly lo: number;
  readonly hi: number;
  /** |ratio − 1| > GAP_THRESHOLD. */
  readonly differs: boolean;
}

/** One row per case measured on both paths with the same seeds. */
export function estimatorGaps(records: readonly ErrorRecord[]): EstimatorGap[] {
  const exact = new Map(records.filter((r) => estimatorOf(r) === 'exact').map((r) => [errorKey({ ...r, estimator: 'graph' }), r]));
  return records.flatMap((g) => {
    const e = estimatorOf(g) === 'graph' ? exact.get(errorKey(g)) : undefined;
    const t = e && pairedLogRatio(e.perSeed, g.perSeed, 0.05);
    if (!t) return [];
    const { kernel, featureType, features, metric, seeds } = g;
    return [
      {
        kernel,
        featureType,
        features,
        inputScale: g.inputScale,
        metric,
        seeds,
        ratio: t.ratio,
        lo: t.lo,
        hi: t.hi,
        differs: Math.abs(t.ratio - 1) > GAP_THRESHOLD,
      },
    ];
  });
}

/** The gaps as a Markdown table. */
export function gapTable(gaps: readonly EstimatorGap[]): string {
  const f = (x: number) => x.toPrecision(3);
  return toMarkdown(
    ['kernel', 'features', 'm', 'σ', 'metric', 'seeds', 'graph ÷ exact (geo. mean)', '95% CI', `differs by > ${100 * GAP_THRESHOLD}%`],
    gaps.map((g) => [g.kernel, g.featureType, g.features, g.inputScale, g.metric, g.seeds, f(g.ratio), `${f(g.lo)} – ${f(g.hi)}`, g.differs ? 'yes' : 'no']),
  );
}

export const GAP_NOTE = `Graph ÷ exact: the output MSE of the ONNX graph (float32, ε = 1e-6 added after the stabiliser shifts, as the reference code does) over that of the same estimator in float64 without ε (same seeds, projections and A/Ψ fits), geometric mean of per-seed ratios with a 95% interval. Where it leaves 1 ± ${GAP_THRESHOLD}, ε sets the measured error, not the estimator (docs/formulas.md §3).`;
