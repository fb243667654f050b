/**
 * Raw per-pair estimators of SM(x, y) = exp(xᵀy) in float64 (PAPER.md §2), without ε or
 * max shifts: what the closed forms of §5 describe. Used by `performer error --target kernel`.
 */
export type SoftmaxEstimator = 'favor-pos' | 'favor-trig' | 'favor-hyp';
export const SOFTMAX_ESTIMATORS: readonly SoftmaxEstimator[] = ['favor-pos', 'favor-trig', 'favor-hyp'];

/** Estimate of exp(xᵀy) from projection rows W [m, d]. */
export function estimateKernel(kind: SoftmaxEstimator, w: Float64Array, d: number, x: readonly number[], y: readonly number[]): number {
  const m = w.length / d;
  const xx = x.reduce((a, v) => a + v * v, 0);
  const yy = y.reduce((a, v) => a + v * v, 0);
  let sum = 0;
  for (let f = 0; f < m; f++) {
    let wx = 0;
    let wy = 0;
    for (let c = 0; c < d; c++) {
      wx += w[f * d + c]! * x[c]!;
      wy += w[f * d + c]! * y[c]!;
    }
    if (kind === 'favor-pos') sum += Math.exp(wx + wy - (xx + yy) / 2);
    else if (kind === 'favor-hyp') sum += (Math.exp(wx + wy) + Math.exp(-wx - wy)) / 2 * Math.exp(-(xx + yy) / 2);
    else sum += Math.exp((xx + yy) / 2) * Math.cos(wx - wy);
  }
  return sum / m;
}
