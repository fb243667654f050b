/**
 * Exact MSE of the positive (FAVOR+) and trigonometric estimators of SM(x, y) = exp(xᵀy) with
 * `orthogonal` projections (src/kernels/projection.ts): ⌊m/d⌋ Haar-orthogonal d×d blocks plus the
 * first m mod d rows of one more, every row rescaled to an independent χ_d norm. Each row is then
 * marginally N(0, I_d), so the estimate (1/m)Σ f(ω_i) is unbiased and its MSE is its variance:
 *
 *   MSE = (m·V₁ + P·C) / m²,   P = Σ_blocks k_b(k_b − 1) = ⌊m/d⌋·d(d−1) + (m mod d)(m mod d − 1),
 *
 * V₁ = Var f(ω) (one row; m·MSE_iid(m), the paper's Lemma 2) and C = Cov(f(ω_i), f(ω_j)) for two
 * distinct rows of one block; rows of different blocks are independent. With m ≤ d this is the
 * quantity the paper's Theorem 2 bounds (Choromanski et al., "Rethinking Attention with
 * Performers", ICLR 2021).
 *
 * Closed form of C. Write ω_i = r_i u_i, ω_j = r_j u_j: r_i, r_j i.i.d. χ_d, and (s, t) =
 * (u_iᵀa/‖a‖, u_jᵀa/‖a‖) the first two coordinates of a uniform point on S^{d−1}, all independent.
 * Expanding exp (or cos) in powers, with E[r^{2p}] = 2^p (d/2)_p (χ_d moments) and
 * E[s^{2p} t^{2q}] = (½)_p (½)_q / (d/2)_{p+q} (sphere moments: G. B. Folland, "How to integrate a
 * polynomial over a sphere", Amer. Math. Monthly 108 (2001) 446–448; odd powers vanish), gives
 *   E[exp(A r_i s + A r_j t)] = Σ_{p,q} (A²/2)^{p+q}/(p! q!) · (d/2)_p (d/2)_q / (d/2)_{p+q}
 *                              = ₁F₁(d; d/2; A²/2),
 * summing over p + q = n with the Chu–Vandermonde identity Σ_p C(n,p)(a)_p(a)_{n−p} = (2a)_n
 * (DLMF 15.4.24); likewise E[cos(A r_i s)·cos(A r_j t)] = ₁F₁(d; d/2; −A²/2). Hence, with
 * λ = ‖x+y‖², μ = ‖x−y‖² and ρ_n = (d)_n / ((d/2)_n 2^n) = Π_{k<n} (d+k)/(d+2k) ∈ (0, 1],
 *   positive: C = SM² · [e^{−λ} ₁F₁(d; d/2; λ/2) − 1] = SM² · Σ_{n≥2} Pois(n; λ)(ρ_n − 1) ≤ 0,
 *   trig:     C = e^{‖x‖²+‖y‖²} · [₁F₁(d; d/2; −μ/2) − e^{−μ}] = e^{‖x‖²+‖y‖²} · Σ_{n≥2} (−μ)^n/n! (ρ_n − 1).
 * (The n = 2 term, C_pos ≈ −SM²·λ²/(2(d + 2)) for small λ, is the leading order of the Theorem 2
 * bound's correction −2/(d+2)·(SM − e^{−(‖x‖²+‖y‖²)/2})².) The closed form is derived here, not
 * taken from the paper; `withinBlockCovarianceQuadrature` checks it by integrating the same
 * expectation numerically, without the series.
 *
 * Numerics: the series are summed until the next term's bound is below 1e-17 of the partial sum
 * (all terms of the positive series are ≤ 0, so there is no cancellation; its Poisson weights are
 * formed in log space, so large λ cannot overflow a partial term). For μ > 8 the alternating trig
 * series would cancel, so ₁F₁ is taken through Kummer's transformation (DLMF 13.2.39),
 * ₁F₁(d; d/2; −μ/2) = e^{−μ/2} ₁F₁(−d/2; d/2; μ/2), a finite sum for even d. No quadrature is
 * involved; on the cases of test/orthogonal-mse.test.ts (d = 2…16, ‖x ± y‖² up to ≈ 12, both
 * branches) C agrees with the quadrature to ≤ 2e-11·(|C| + V₁), the quadrature's own accuracy.
 */
import type { PairGeometry } from './closed-forms.ts';

export type OrthogonalEstimator = 'positive' | 'trig';

const SERIES_TOL = 1e-17;
const MAX_TERMS = 100_000;

/** P = Σ_blocks k_b(k_b − 1): ordered pairs of distinct rows that share an orthogonal block. */
export function withinBlockPairs(m: number, d: number): number {
  const rest = m % d;
  return Math.floor(m / d) * d * (d - 1) + rest * (rest - 1);
}

/** V₁ = Var f(ω) for one N(0, I_d) row (equals m · msePos / mseTrig at any m). */
export function singleRowVariance(kind: OrthogonalEstimator, g: PairGeometry): number {
  if (kind === 'positive') return Math.exp(2 * g.xy) * Math.expm1(g.xx + g.yy + 2 * g.xy);
  return (Math.exp(g.xx + g.yy) * Math.expm1(-(g.xx + g.yy - 2 * g.xy)) ** 2) / 2;
}

/** e^{−λ} ₁F₁(d; d/2; λ/2) − 1 = Σ_{n≥2} Pois(n; λ)(ρ_n − 1) (every term ≤ 0). */
function positiveSeries(lambda: number, d: number): number {
  if (lambda <= 0) return 0;
  let rho = 1; // ρ_n
  let logP = -lambda; // log Pois(n; λ)
  let sum = 0;
  for (let n = 0; n < MAX_TERMS; n++) {
    const p = Math.exp(logP);
    sum += p * (rho - 1);
    if (n > lambda && n >= 2 && p <= SERIES_TOL * Math.abs(sum)) return sum;
    rho *= (d + n) / (d + 2 * n);
    logP += Math.log(lambda / (n + 1));
  }
  throw new Error(`positive series did not converge (λ = ${lambda}, d = ${d})`);
}

/** ₁F₁(d; d/2; −μ/2) − e^{−μ}: direct series for μ ≤ 8, Kummer's transformation above. */
function trigSeries(mu: number, d: number): number {
  if (mu <= 0) return 0;
  let sum = 0;
  if (mu <= 8) {
    let rho = 1;
    let term = 1; // (−μ)^n / n!
    for (let n = 0; n < MAX_TERMS; n++) {
      sum += term * (rho - 1);
      if (n > mu && n >= 2 && Math.abs(term) <= SERIES_TOL * Math.abs(sum)) return sum;
      rho *= (d + n) / (d + 2 * n);
      term *= -mu / (n + 1);
    }
  } else {
    let term = 1; // (−d/2)_k / (d/2)_k · (μ/2)^k / k!
    for (let k = 0; k < MAX_TERMS; k++) {
      sum += term;
      if ((term === 0 || k > mu / 2 + d) && Math.abs(term) <= SERIES_TOL * Math.abs(sum)) return Math.exp(-mu / 2) * sum - Math.exp(-mu);
      term *= ((k - d / 2) / (d / 2 + k)) * (mu / 2 / (k + 1));
    }
  }
  throw new Error(`trig series did not converge (μ = ${mu}, d = ${d})`);
}

/** C = Cov(f(ω_i), f(ω_j)) for two distinct rows of one orthogonal block (d ≥ 2), closed form. */
export function withinBlockCovariance(kind: OrthogonalEstimator, g: PairGeometry, d: number): number {
  if (kind === 'positive') return Math.exp(2 * g.xy) * positiveSeries(g.xx + g.yy + 2 * g.xy, d);
  return Math.exp(g.xx + g.yy) * trigSeries(g.xx + g.yy - 2 * g.xy, d);
}

/**
 * Exact MSE of the estimate of SM(x, y) from m `orthogonal` rows in dimension d:
 * (m·V₁ + P·C)/m² (see the file comment). m = 1, or d = 1, has no within-block pairs and gives
 * the i.i.d. value; m ≤ d is one partial (or full) block, m > d several.
 */
export function mseOrthogonalExact(kind: OrthogonalEstimator, g: PairGeometry, m: number, d: number): number {
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(d) || d < 1) throw new RangeError(`m and d must be positive integers (m = ${m}, d = ${d})`);
  const pairs = withinBlockPairs(m, d);
  const cov = pairs > 0 ? pairs * withinBlockCovariance(kind, g, d) : 0;
  return (m * singleRowVariance(kind, g) + cov) / (m * m);
}

/** n-point Gauss–Legendre nodes and weights on [0, 1] (Newton on P_n, as in Numerical Recipes' gauleg). */
export function gaussLegendre(n: number): { x: Float64Array; w: Float64Array } {
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 1;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * z * p1 - (k - 1) * p0) / k];
      dp = (n * (z * p1 - p0)) / (z * z - 1); // P_n'(z), p1 = P_n, p0 = P_{n−1}
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x[i] = (1 - z) / 2;
    x[n - 1 - i] = (1 + z) / 2;
    w[i] = w[n - 1 - i] = 1 / ((1 - z * z) * dp * dp);
  }
  return { x, w };
}

/** ln of the χ_d density's normaliser 2^{d/2−1} Γ(d/2), d a positive integer. */
function chiLogNorm(d: number): number {
  let lg = d % 2 === 0 ? 0 : 0.5 * Math.log(Math.PI); // ln Γ(1) or ln Γ(½)
  for (let a = d % 2 === 0 ? 1 : 0.5; a < d / 2 - 1e-9; a++) lg += Math.log(a);
  return (d / 2 - 1) * Math.LN2 + lg;
}

/**
 * The same C by quadrature of the sketch's integral, an independent check of the closed form:
 * E[f_i f_j] = e^{∓(‖x‖²+‖y‖²)}·E[g(A s) g(A t)], g = M (χ_d moment generating function, A = ‖x+y‖)
 * or Φ(c) = E[cos(c r)] (A = ‖x−y‖). (s, t) = ρ(cos θ, sin θ) with ρ² ~ Beta(1, (d−2)/2) and θ
 * uniform; ρ² = 1 − v² makes the radial weight (d−2)v^{d−3} dv on [0, 1], a polynomial (ρ = 1 when
 * d = 2). Rules: `order` Gauss–Legendre nodes in v, a 4⌈order/2⌉-point periodic trapezoid rule in θ
 * (spectrally accurate), and 2·order Gauss–Legendre nodes in r on [0, r* + 12], r* the mode of
 * e^{A r}·χ_d(r) (its log is concave with curvature ≥ 1, so the mass cut off is < e^{−72}), the
 * density taken in log space. C is a difference of two terms of size E[f_i f_j], so its error is
 * measured against |C| + V₁: at the default order 32 the rule agrees with order 64 to ≤ 1e-9 of that
 * on the test's cases (order 16 can be off by 1e-4 of a tiny C at d = 16).
 */
export function withinBlockCovarianceQuadrature(kind: OrthogonalEstimator, g: PairGeometry, d: number, order = 32): number {
  if (d < 2) throw new RangeError('two rows of one block need d ≥ 2');
  const a = Math.sqrt(Math.max(0, kind === 'positive' ? g.xx + g.yy + 2 * g.xy : g.xx + g.yy - 2 * g.xy));
  const rMax = (a + Math.sqrt(a * a + 4 * (d - 1))) / 2 + 12;
  const rq = gaussLegendre(2 * order);
  const r = rq.x.map((u) => u * rMax);
  const logW = rq.x.map((u, k) => Math.log(rq.w[k]! * rMax) + (d - 1) * Math.log(u * rMax) - (u * rMax) ** 2 / 2 - chiLogNorm(d));
  const gFn = (c: number) => {
    let s = 0;
    for (let k = 0; k < r.length; k++) s += kind === 'positive' ? Math.exp(c * r[k]! + logW[k]!) : Math.exp(logW[k]!) * Math.cos(c * r[k]!);
    return s;
  };
  const nTheta = 4 * Math.ceil(order / 2);
  const ring = (rho: number) => {
    const vals = Array.from({ length: nTheta }, (_, j) => gFn(a * rho * Math.cos((2 * Math.PI * j) / nTheta)));
    // sin θ_j = cos θ_{j − nθ/4}: reuse the cosine ring.
    return vals.reduce((s, v, j) => s + v * vals[(j - nTheta / 4 + nTheta) % nTheta]!, 0) / nTheta;
  };
  let e = 0;
  if (d === 2) e = ring(1);
  else {
    const vq = gaussLegendre(order);
    vq.x.forEach((v, k) => (e += vq.w[k]! * (d - 2) * v ** (d - 3) * ring(Math.sqrt(1 - v * v))));
  }
  const scale = kind === 'positive' ? -(g.xx + g.yy) : g.xx + g.yy;
  return Math.exp(scale) * e - Math.exp(2 * g.xy);
}
