/**
 * Significance tests for a CI regression gate: pure functions, no dependencies.
 *
 * The unit of replication is the process: each benchmark point contributes one median per
 * process (ms) for the baseline and one per process for the current run. In-process iterations
 * are never treated as independent samples, since they share the process's JIT state, memory
 * layout and clock. Ratios are tested on the log scale, where timing noise is roughly
 * multiplicative and symmetric.
 */

/** Result of a ratio test between per-process medians of a baseline and a current run. */
export interface RatioTest {
  /** exp(mean(log cur) − mean(log base)): the geometric-mean ratio current / baseline. */
  ratio: number;
  /** Lower end of the two-sided (1 − alpha) confidence interval of the ratio. */
  lo: number;
  /** Upper end of the two-sided (1 − alpha) confidence interval of the ratio. */
  hi: number;
  /** Standard error of the log-ratio. */
  se: number;
  /** Degrees of freedom of the t reference distribution (may be non-integer for Welch). */
  df: number;
  /** One-sided p-value against "no change", for the alternative cur > base (a slowdown). */
  pSlower: number;
  /** One-sided p-value against "no change", for the alternative cur < base (a speedup). */
  pFaster: number;
  /** Number of values used on each side: [baseline, current]. */
  n: [number, number];
}

// ---------------------------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------------------------

// Lanczos approximation, g = 7, n = 9 (Lanczos 1964; coefficients as tabulated by Godfrey,
// relative error ~1e-15 for x > 0.5).
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos; reflection formula below 0.5). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const FPMIN = 1e-300;
const EPS = 1e-15;
// The continued fractions need O(√max(a, b)) terms; this covers df up to the normal cut-off.
const MAXIT = 200_000;

const guard = (v: number) => (Math.abs(v) < FPMIN ? FPMIN : v);

/** Continued fraction for the incomplete beta by the modified Lentz method (Numerical Recipes 6.4, betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 / guard(1 - (qab * x) / qap);
  let h = d;
  for (let m = 1; m <= MAXIT; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 / guard(1 + aa * d);
    c = guard(1 + aa / c);
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 / guard(1 + aa * d);
    c = guard(1 + aa / c);
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Stirling-series remainder ln Γ(x) − [(x − ½)·ln x − x + ½·ln 2π] for x ≥ 10 (A&S 6.1.41; error < 1e-14). */
function stirlingRemainder(x: number): number {
  const r = 1 / (x * x);
  return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r * (1 / 1680 - r / 1188)))) / x;
}

/**
 * ln B(a, b) without the cancellation of ln Γ(a) + ln Γ(b) − ln Γ(a + b) when one argument is
 * large (df/2 up to 5e8 here): Stirling with explicit remainders, as in R's lbeta.c.
 */
function logBeta(a: number, b: number): number {
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (q < 10) return logGamma(p) + logGamma(q) - logGamma(p + q);
  const lnRatio = Math.log1p(-p / (p + q)); // ln(q / (p + q))
  if (p >= 10) {
    const corr = stirlingRemainder(p) + stirlingRemainder(q) - stirlingRemainder(p + q);
    return -0.5 * Math.log(q) + 0.5 * Math.log(2 * Math.PI) + corr + (p - 0.5) * Math.log(p / (p + q)) + q * lnRatio;
  }
  const corr = stirlingRemainder(q) - stirlingRemainder(p + q);
  return logGamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * lnRatio;
}

/**
 * Regularized incomplete beta I_x(a, b) (Numerical Recipes 6.4, betai). y = 1 − x is passed in
 * separately so callers can supply it without cancellation when x is close to 1.
 */
function betaRegularized(a: number, b: number, x: number, y: number): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const lnX = x > 0.5 ? Math.log1p(-y) : Math.log(x);
  const lnY = y > 0.5 ? Math.log1p(-x) : Math.log(y);
  const front = Math.exp(a * lnX + b * lnY - logBeta(a, b));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, y)) / b;
}

/** Regularized upper incomplete gamma Q(a, x) (Numerical Recipes 6.2: gser below a + 1, gcf above). */
function gammaUpperRegularized(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnFront = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let n = 1; n <= MAXIT && Math.abs(del) >= Math.abs(sum) * EPS; n++) sum += del *= x / ++ap;
    return 1 - sum * Math.exp(lnFront);
  }
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAXIT; i++) {
    const an = -i * (i - a);
    b += 2;
    d = 1 / guard(an * d + b);
    c = guard(b + an / c);
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(lnFront) * h;
}

/** Standard normal upper tail P(Z > z) = Q(1/2, z²/2) / 2 for z ≥ 0 (Abramowitz–Stegun 7.1.2, 6.5.17). */
function normalUpper(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 1 - normalUpper(-z);
  return 0.5 * gammaUpperRegularized(0.5, (z * z) / 2);
}

// Beyond this df the t distribution is replaced by the normal: |t_p − z_p| ≈ z(1 + z²)/(4·df) < 1e-8.
const NORMAL_DF = 1e9;

/** Upper tail P(T > t) of Student's t: for t ≥ 0 it is I_x(df/2, 1/2) / 2 with x = df/(df + t²) (A&S 26.7.1). */
function studentTUpper(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (df >= NORMAL_DF) return normalUpper(t);
  const t2 = t * t;
  const half = 0.5 * betaRegularized(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
  return t >= 0 ? half : 1 - half;
}

/**
 * Cumulative distribution function P(T ≤ t) of Student's t with `df` degrees of freedom
 * (df > 0, not necessarily an integer), via the regularized incomplete beta function
 * (Abramowitz & Stegun 26.7.1; incomplete beta by Numerical Recipes' betacf continued fraction).
 * For df ≥ 1e9 the normal distribution is used (difference below 1e-8).
 */
export function studentTCdf(t: number, df: number): number {
  return studentTUpper(-t, df);
}

/**
 * Quantile (inverse CDF) of Student's t: the t with P(T ≤ t) = p, for 0 < p < 1 and df > 0
 * (returns ∓Infinity at p = 0 and 1, NaN outside). Bracketing by doubling, then bisection on the
 * tail probability min(p, 1 − p) until the bracket is below 1e-13 relative, so the result is
 * accurate to the precision of the CDF itself (~1e-12).
 */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1 || !(df > 0)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  const tail = Math.min(p, 1 - p);
  let lo = 0;
  let hi = 1;
  while (studentTUpper(hi, df) > tail) [lo, hi] = [hi, hi * 2];
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTUpper(mid, df) > tail) lo = mid;
    else hi = mid;
  }
  const t = 0.5 * (lo + hi);
  return p > 0.5 ? t : -t;
}

// ---------------------------------------------------------------------------------------------
// Ratio tests on log values
// ---------------------------------------------------------------------------------------------

const validSample = (xs: readonly number[]) => xs.length >= 2 && xs.every((x) => Number.isFinite(x) && x > 0);

function meanVar(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
}

/**
 * Builds a RatioTest from a mean log-difference, its standard error and df. With se = 0 (no spread)
 * the interval collapses to the ratio and the p-values are 0/1 by the sign of the difference (0.5
 * each when it is 0).
 */
function ratioTest(diff: number, se: number, df: number, alpha: number, n: [number, number]): RatioTest {
  const ratio = Math.exp(diff);
  if (se === 0) {
    const [pSlower, pFaster] = diff > 0 ? [0, 1] : diff < 0 ? [1, 0] : [0.5, 0.5];
    return { ratio, lo: ratio, hi: ratio, se, df, pSlower, pFaster, n };
  }
  const t = diff / se;
  const half = studentTQuantile(1 - alpha / 2, df) * se;
  return {
    ratio,
    lo: Math.exp(diff - half),
    hi: Math.exp(diff + half),
    se,
    df,
    pSlower: studentTUpper(t, df),
    pFaster: studentTUpper(-t, df),
    n,
  };
}

/**
 * The γ-trimmed mean and the winsorized variance term of Yuen's test for one sample:
 * g = ⌊γn⌋ values cut from each end, h = n − 2g kept; d = (n − 1)·s_w² / (h·(h − 1)), with s_w²
 * the sample variance after the g lowest (highest) values are set to the (g+1)-th lowest (highest).
 */
function trimmed(xs: readonly number[], trim: number): { mean: number; d: number; h: number } {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const g = Math.min(Math.floor(trim * n), Math.floor((n - 2) / 2));
  const h = n - 2 * g;
  const kept = s.slice(g, n - g);
  const mean = kept.reduce((a, b) => a + b, 0) / h;
  const w = s.map((x, i) => (i < g ? s[g]! : i >= n - g ? s[n - g - 1]! : x));
  return { mean, d: ((n - 1) * meanVar(w).variance) / (h * (h - 1)), h };
}

/** The trimming Yuen's tests use by default: 20% from each end (Wilcox 2012, §5.3). */
export const DEFAULT_TRIM = 0.2;

/**
 * The name the docs give the test that yuenLogRatio and pairedYuenLogRatio run, the tests behind
 * `performer compare` and `bench --against` (test/docs.test.ts checks README.md and docs/ use it).
 */
export const TEST_NAME = "Yuen's trimmed-means test";

/**
 * Yuen's trimmed-means test on log values (Yuen 1974; Wilcox, "Introduction to Robust
 * Estimation", 2012, §5.3): the difference of 20%-trimmed means of log cur and log base, with
 * se² = d_b + d_c from winsorized variances and df = (d_b + d_c)² / (d_b²/(h_b − 1) + d_c²/(h_c − 1)).
 * A process slowed by a busy neighbour falls in the trimmed tail instead of inflating the
 * variance, so the test keeps its power on a shared machine; with trim = 0 it is Welch's test.
 * Null unless both sides have ≥ 2 positive finite values.
 */
export function yuenLogRatio(base: readonly number[], cur: readonly number[], alpha: number, trim = DEFAULT_TRIM): RatioTest | null {
  checkAlpha(alpha);
  if (!validSample(base) || !validSample(cur)) return null;
  const b = trimmed(base.map(Math.log), trim);
  const c = trimmed(cur.map(Math.log), trim);
  const se2 = b.d + c.d;
  const df = se2 === 0 ? b.h + c.h - 2 : (se2 * se2) / ((b.d * b.d) / (b.h - 1) + (c.d * c.d) / (c.h - 1));
  return ratioTest(c.mean - b.mean, Math.sqrt(se2), df, alpha, [base.length, cur.length]);
}

/**
 * The paired version (Tukey–McLaughlin; Wilcox 2012, §5.9.6 for one sample): the 20%-trimmed
 * mean of the per-round log-ratios log(cur_i / base_i), se² = d, df = h − 1. Null unless both
 * sides have the same length ≥ 2 and all values are positive and finite.
 */
export function pairedYuenLogRatio(base: readonly number[], cur: readonly number[], alpha: number, trim = DEFAULT_TRIM): RatioTest | null {
  checkAlpha(alpha);
  if (base.length !== cur.length || !validSample(base) || !validSample(cur)) return null;
  const t = trimmed(
    cur.map((c, i) => Math.log(c / base[i]!)),
    trim,
  );
  return ratioTest(t.mean, Math.sqrt(t.d), t.h - 1, alpha, [base.length, cur.length]);
}

/**
 * Paired t test on d_i = log(cur_i / base_i), df = n − 1 (Student 1908): for designs where
 * baseline and current process i ran back to back (same machine state, shared "round" effects).
 * Returns null unless both sides have the same length ≥ 2 and all values are positive and finite.
 * se = 0 is handled as in ratioTest. Throws RangeError unless 0 < alpha < 1.
 */
export function pairedLogRatio(base: readonly number[], cur: readonly number[], alpha: number): RatioTest | null {
  checkAlpha(alpha);
  if (base.length !== cur.length || !validSample(base) || !validSample(cur)) return null;
  const d = meanVar(cur.map((c, i) => Math.log(c / base[i]!)));
  const n = base.length;
  return ratioTest(d.mean, Math.sqrt(d.variance / n), n - 1, alpha, [n, n]);
}

// ---------------------------------------------------------------------------------------------
// Power and multiple comparisons
// ---------------------------------------------------------------------------------------------

/**
 * Smallest slowdown ratio that the one-sided t test at level `alpha` detects with probability
 * `power`, given the standard error `se` of the log-ratio and its df:
 * exp((t_{1−alpha, df} + t_{power, df}) · se) (the usual shifted-t approximation to the
 * noncentral t power; e.g. Cohen 1988, ch. 2).
 */
export function minDetectableRatio(se: number, df: number, alpha: number, power = 0.8): number {
  return Math.exp((studentTQuantile(1 - alpha, df) + studentTQuantile(power, df)) * se);
}

const RUNS_CAP = 1000;

/**
 * Smallest per-side process count n' (n ≤ n' ≤ 1000, n = the smaller side of `test`) for which
 * minDetectableRatio(se·√(n/n'), df·n'/n, alpha, power) ≤ 1 + threshold, i.e. how many processes
 * per side would make a slowdown of `threshold` (0.05 = 5%) detectable. Returns 1000 when even that
 * is not enough. Binary search: the MDR decreases monotonically in n'.
 */
export function runsNeeded(test: RatioTest, threshold: number, alpha: number, power = 0.8): number {
  const n = Math.min(test.n[0], test.n[1]);
  const limit = 1 + threshold;
  const mdrAt = (m: number) => minDetectableRatio(test.se * Math.sqrt(n / m), (test.df * m) / n, alpha, power);
  if (n >= RUNS_CAP || mdrAt(n) <= limit) return n;
  if (mdrAt(RUNS_CAP) > limit) return RUNS_CAP;
  let lo = n; // fails
  let hi = RUNS_CAP; // passes
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mdrAt(mid) <= limit) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Per-hypothesis level of Holm's step-down procedure: the hypothesis with 0-based `rank` among
 * `count` tested p-values (sorted ascending) is compared with alpha / (count − rank).
 */
export function holmLevel(rank: number, count: number, alpha: number): number {
  return alpha / (count - rank);
}

/**
 * Holm–Bonferroni step-down (Holm 1979), controlling the family-wise error rate at `alpha`:
 * sort the tested p-values ascending, reject while p_(k) ≤ alpha / (m − k) (k 0-based), stop at the
 * first failure. Returns one flag per input; null or NaN entries are not tested (false) and do not
 * count towards m.
 */
export function holm(ps: readonly (number | null)[], alpha: number): boolean[] {
  const tested = ps.flatMap((p, i) => (p === null || Number.isNaN(p) ? [] : [{ p, i }])).sort((x, y) => x.p - y.p);
  const reject = ps.map(() => false);
  for (let k = 0; k < tested.length; k++) {
    const { p, i } = tested[k]!;
    if (p > holmLevel(k, tested.length, alpha)) break;
    reject[i] = true;
  }
  return reject;
}
