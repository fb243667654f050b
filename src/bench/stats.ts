/** Statistics over timing samples: pure functions (tinybench's formulas). */

/** Linear-interpolated quantile of sorted samples (type 7, as numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

// Two-sided 97.5% quantiles of Student's t for df = 1..30; beyond, the normal 1.96.
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export interface SampleStats {
  readonly medianMs: number;
  readonly meanMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
  readonly minMs: number;
  /** Relative margin of error of the mean at 95% (t · s/√n / mean), as tinybench reports it. */
  readonly rme: number | null;
}

export function summarize(samples: readonly number[]): SampleStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : NaN;
  const t = T975[n - 2] ?? 1.96;
  return {
    medianMs: quantile(sorted, 0.5),
    meanMs: mean,
    p10Ms: quantile(sorted, 0.1),
    p90Ms: quantile(sorted, 0.9),
    minMs: sorted[0]!,
    rme: n > 1 ? (t * Math.sqrt(variance / n)) / mean : null,
  };
}

/** Least-squares slope and intercept of y on x. */
export function linearFit(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Standard normal upper tail P(Z > z) (Abramowitz–Stegun 7.1.26 via erfc; |error| < 1.5e-7). */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * One-sided Mann–Whitney U test that `b` tends to be larger than `a` (normal approximation with
 * tie and continuity corrections; fine from ~5 samples each). Returns U of b and the p-value.
 */
export function mannWhitneyGreater(a: readonly number[], b: readonly number[]): { u: number; p: number } {
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    i = j + 1;
  }
  const n1 = a.length;
  const n2 = b.length;
  const rankSumB = all.reduce((s, x, i) => s + (x.g === 1 ? ranks[i]! : 0), 0);
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return { u, p: 1 };
  const z = (u - (n1 * n2) / 2 - 0.5) / sigma;
  return { u, p: normalUpperTail(z) };
}
