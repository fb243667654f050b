/**
 * Float64 reference mathematics of FAVOR++ (OPRF, optimised positive random features) and FAVOR#
 * (dense-exponential random features, DERF: SADERF, plus ADERF and SDERF host-side) for the softmax
 * kernel SM(x, y) = exp(xᵀy) (docs/formulas.md §8). Sources: Likhosherstov et al., "Chefs' Random
 * Tables: Non-Trigonometric Random Features", NeurIPS 2022, arXiv 2205.15317 (GERF/OPRF, §3);
 * Likhosherstov et al., "FAVOR#: Sharp Attention Kernel Approximations via New Classes of Positive
 * Random Features", 2023, arXiv 2302.00787 (DERF, §4). Every closed form below is re-derived in
 * docs/formulas.md §8 and checked against Monte Carlo in test/oprf-reference.test.ts.
 *
 * Conventions: x = q·d^(-1/4), y = k·d^(-1/4) (already scaled), rows [L][d], ω ~ N(0, I_d).
 * OPRF feature: f(ω, x) = D·exp(A‖ω‖² + B ωᵀx − ‖x‖²/2), B = √(1−4A), D = (1−4A)^(d/4), A < 1/8;
 * E[f(ω,x) f(ω,y)] = SM(x, y) for every such A. With ρ = 1/(1−8A) and s = ‖x+y‖², the second moment is
 *   S₂(A) = ((1−4A)²/(1−8A))^(d/2) · exp(2xᵀy + ρ s) = SM² · (1 + 16A²/(1−8A))^(d/2) · e^(ρ s),
 * the same value as (1−4A)^d (1−8A)^(−d/2) exp(2(1−4A)/(1−8A)·s − ‖x‖² − ‖y‖²) (§8); log S₂ is affine in s.
 */
import type { PairGeometry } from './closed-forms.ts';
import type { Rows } from './features.ts';

type Matrix = number[][];
/** The estimator families the FAVOR# objective compares, each at its own optimum. */
export type Family = 'posrf' | 'oprf' | 'saderf' | 'aderf' | 'sderf';

/** ε of the SADERF 0/0 guard that meanLogSecondMoment uses (absolute, in units of x², y²). */
const SADERF_EPS = 1e-12;

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const sq = (a: readonly number[]) => dot(a, a);
const meanOf = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const meanRow = (x: Rows): number[] => x[0]!.map((_, c) => meanOf(x.map((r) => r[c]!)));
const identity = (d: number): Matrix => Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
const transpose = (m: Matrix): Matrix => m[0]!.map((_, j) => m.map((r) => r[j]!));
const matMul = (a: Matrix, b: Matrix): Matrix => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const apply = (m: Matrix, x: Rows): Rows => x.map((r) => m.map((row) => dot(row, r)));
/** √((2φ+d)² + 8dφ), shared by every form of ρ* and A*. */
const root = (phi: number, d: number) => Math.sqrt((2 * phi + d) ** 2 + 8 * d * phi);

/**
 * ρ* = 2d / (√((2φ+d)² + 8dφ) + 2φ + d) ∈ (0, 1]: the root in (0, 1] of 2φρ² + (2φ+d)ρ − d = 0, where
 * d/dρ log S₂ = 0 (docs/formulas.md §8; Chefs' Random Tables §3). Rationalised from the reference code's
 * (√(…) − 2φ − d)/(4φ): no 0/0 at φ = 0 (ρ* = 1) and no cancellation for φ ≫ d. Decreasing in φ ≥ 0.
 */
export function oprfRho(phi: number, d: number): number {
  return (2 * d) / (root(phi, d) + 2 * phi + d);
}

/**
 * A* = (1 − 1/ρ*)/8 = (d − 2φ − √((2φ+d)² + 8dφ))/(16d) ≤ 0 (docs/formulas.md §8). Evaluated as
 * −φ·(1 + 2(φ+3d)/(d + √(…)))/(8d), using d − √(…) = −4φ(φ+3d)/(d + √(…)): relative accuracy for every
 * φ ≥ 0 and exactly +0 at φ = 0 (FAVOR+). The leading `0 −` keeps the sign of that zero positive.
 */
export function oprfA(phi: number, d: number): number {
  return 0 - (phi * (1 + (2 * (phi + 3 * d)) / (d + root(phi, d)))) / (8 * d);
}

/**
 * A* through the reference code's algebra (tensorflow/models kernel_attention.py `expplus`):
 * ρ = (√((2φ+d)² + 8dφ) − 2φ − d)/(4φ), A = (1 − 1/ρ)/8. NaN at φ = 0 and cancellation for φ ≪ d or
 * φ ≫ d; for tests of oprfA only.
 */
export function oprfAVerbatim(phi: number, d: number): number {
  const rho = (root(phi, d) - 2 * phi - d) / (4 * phi);
  return (1 - 1 / rho) / 8;
}

/**
 * log S₂(A) = 2xᵀy + (d/2)·log(1 + 16A²/(1−8A)) + ‖x+y‖²/(1−8A) for one product f(ω,x)·f(ω,y)
 * (docs/formulas.md §8). Requires A < 1/8 (finite second moment); RangeError otherwise.
 */
export function oprfLogSecondMoment(g: PairGeometry, a: number, d: number): number {
  if (!(a < 0.125)) throw new RangeError(`OPRF needs A < 1/8 for a finite second moment, got ${a}`);
  const s = g.xx + g.yy + 2 * g.xy;
  return 2 * g.xy + (d / 2) * Math.log1p((16 * a * a) / (1 - 8 * a)) + s / (1 - 8 * a);
}

/**
 * S₂(A) = E[(f(ω,x) f(ω,y))²] = (1−4A)^d (1−8A)^(−d/2) exp(2(1−4A)/(1−8A)·‖x+y‖² − ‖x‖² − ‖y‖²)
 * (docs/formulas.md §8), formed in the log domain so no factor overflows on its own. A < 1/8.
 */
export function oprfSecondMoment(g: PairGeometry, a: number, d: number): number {
  return Math.exp(oprfLogSecondMoment(g, a, d));
}

/**
 * MSE of the m-row i.i.d. OPRF estimate: (S₂ − SM²)/m = SM²·expm1((d/2)log(1 + 16A²/(1−8A)) + ‖x+y‖²/(1−8A))/m
 * (docs/formulas.md §8). At A = 0 this is exp(2xᵀy)·(exp(‖x+y‖²) − 1)/m = msePos (closed-forms.ts).
 */
export function mseOprf(g: PairGeometry, m: number, d: number, a: number): number {
  return (Math.exp(2 * g.xy) * Math.expm1(oprfLogSecondMoment(g, a, d) - 2 * g.xy)) / m;
}

/**
 * φ = mean_i‖x_i‖² + mean_j‖y_j‖² + 2μ_xᵀμ_y = mean_ij ‖x_i + y_j‖², each mean over its own length
 * (docs/formulas.md §8). log S₂ is affine in ‖x+y‖², so A*(φ, d) minimises mean_ij log S₂ exactly.
 */
export function attentionPhi(x: Rows, y: Rows): number {
  return meanOf(x.map(sq)) + meanOf(y.map(sq)) + 2 * dot(meanRow(x), meanRow(y));
}

/**
 * SADERF scales Ψ_l = ((mean_j y_jl² + ε)/(mean_i x_il² + ε))^(1/4); features use x̂ = Ψx, ŷ = Ψ⁻¹y
 * (docs/formulas.md §8; FAVOR# §4). ε > 0 guards 0/0 (a coordinate zero in both: Ψ_l = 1). For any
 * ε ≥ 0, Ψ_l² lies between 1 and the exact optimum m2/m1, so Σ_l(Ψ_l² m1_l + m2_l/Ψ_l²) ≤ Σ_l(m1_l + m2_l)
 * still holds: SADERF never does worse than OPRF. Identical per-coordinate statistics give Ψ = 1 exactly.
 */
export function saderfPsi(x: Rows, y: Rows, eps: number): number[] {
  const mx = meanRow(x.map((r) => r.map((v) => v * v)));
  const my = meanRow(y.map((r) => r.map((v) => v * v)));
  return mx.map((m1, l) => ((my[l]! + eps) / (m1 + eps)) ** 0.25);
}

/**
 * One projection row's raw OPRF estimate of SM(x, y): D²·exp(2A‖ω‖² + B(ωᵀx + ωᵀy) − (‖x‖² + ‖y‖²)/2),
 * B = √(1−4A), D² = (1−4A)^(d/2); wx = ωᵀx, wy = ωᵀy, xx = ‖x‖², yy = ‖y‖², ww = ‖ω‖² (docs/formulas.md §8).
 * Unbiased for exp(xᵀy) for every A < 1/4 (finite variance needs A < 1/8).
 */
export function oprfPairTerm(wx: number, wy: number, xx: number, yy: number, ww: number, a: number, d: number): number {
  return Math.exp((d / 2) * Math.log1p(-4 * a) + 2 * a * ww + Math.sqrt(1 - 4 * a) * (wx + wy) - (xx + yy) / 2);
}

/** Symmetric eigen-decomposition m = Q diag(values) Qᵀ by cyclic Jacobi rotations; Q's columns are eigenvectors. */
export function symmetricEigen(m: Matrix): { values: number[]; vectors: Matrix } {
  const a = m.map((r) => [...r]);
  const q = identity(a.length);
  const d = a.length;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) off += a[i]![j]! ** 2;
    if (off <= 1e-30 * (a.reduce((s, r, i) => s + r[i]! ** 2, 0) + 1e-300)) break;
    for (let p = 0; p < d; p++)
      for (let r = p + 1; r < d; r++) {
        if (a[p]![r] === 0) continue;
        const theta = (a[r]![r]! - a[p]![p]!) / (2 * a[p]![r]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        rotate(a, q, p, r, c, t * c);
      }
  }
  return { values: a.map((r, i) => r[i]!), vectors: q };
}

/** A ← JᵀAJ, Q ← QJ for the Jacobi rotation J in the (p, r) plane. */
function rotate(a: Matrix, q: Matrix, p: number, r: number, c: number, s: number): void {
  const d = a.length;
  for (let k = 0; k < d; k++) {
    const [akp, akr] = [a[k]![p]!, a[k]![r]!];
    a[k]![p] = c * akp - s * akr;
    a[k]![r] = s * akp + c * akr;
  }
  for (let k = 0; k < d; k++) {
    const [apk, ark] = [a[p]![k]!, a[r]![k]!];
    a[p]![k] = c * apk - s * ark;
    a[r]![k] = s * apk + c * ark;
  }
  for (let k = 0; k < d; k++) {
    const [qkp, qkr] = [q[k]![p]!, q[k]![r]!];
    q[k]![p] = c * qkp - s * qkr;
    q[k]![r] = s * qkp + c * qkr;
  }
}

/** Square SVD k = U diag(sigma) Vᵀ by one-sided (Hestenes) Jacobi; k must be nonsingular. */
export function svd(k: Matrix): { u: Matrix; sigma: number[]; v: Matrix } {
  const d = k.length;
  const w = k.map((r) => [...r]); // columns rotate to U·diag(σ)
  const v = identity(d);
  for (let sweep = 0, rotated = true; rotated && sweep < 100; sweep++) {
    rotated = false;
    for (let p = 0; p < d; p++)
      for (let r = p + 1; r < d; r++) {
        const [al, be, ga] = [w.reduce((s, x) => s + x[p]! ** 2, 0), w.reduce((s, x) => s + x[r]! ** 2, 0), w.reduce((s, x) => s + x[p]! * x[r]!, 0)];
        if (Math.abs(ga) <= 1e-15 * Math.sqrt(al * be)) continue;
        rotated = true;
        const zeta = (be - al) / (2 * ga);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        for (const m of [w, v]) for (const row of m) [row[p], row[r]] = [c * row[p]! - c * t * row[r]!, c * t * row[p]! + c * row[r]!];
      }
  }
  const sigma = Array.from({ length: d }, (_, j) => Math.sqrt(w.reduce((s, x) => s + x[j]! ** 2, 0)));
  return { u: w.map((row) => row.map((x, j) => x / sigma[j]!)), sigma, v };
}

/** M = L⁻¹Σ_i x_i x_iᵀ (uncentred second moment). */
const secondMoment = (x: Rows): Matrix => x[0]!.map((_, a) => x[0]!.map((_, b) => meanOf(x.map((r) => r[a]! * r[b]!))));

/**
 * SDERF optimum (FAVOR# §4; docs/formulas.md §8): M3 = M1 + M2 + μ1μ2ᵀ + μ2μ1ᵀ = Q diag(λ) Qᵀ and
 * a_l = A*(λ_l, 1) per eigen-axis (1-D OPRF). Q's columns are the axes; the feature is
 * Π(1−4a_l)^(1/4)·exp(Σ a_l ω_l² + Σ √(1−4a_l) ω_l (Qᵀx)_l − ‖x‖²/2).
 */
export function sderfParameters(x: Rows, y: Rows): { q: Matrix; a: number[]; lambda: number[] } {
  const [m1, m2, mu1, mu2] = [secondMoment(x), secondMoment(y), meanRow(x), meanRow(y)];
  const m3 = m1.map((r, i) => r.map((v, j) => v + m2[i]![j]! + mu1[i]! * mu2[j]! + mu2[i]! * mu1[j]!));
  const { values, vectors } = symmetricEigen(m3);
  return { q: vectors, a: values.map((l) => oprfA(Math.max(l, 0), 1)), lambda: values };
}

/**
 * mean_ij log S₂ of the SDERF with axes Q (columns) and per-axis a_l < 1/8 (docs/formulas.md §8):
 * log S₂ = 2xᵀy + Σ_l [½·log(1 + 16a_l²/(1−8a_l)) + z_l²/(1−8a_l)], z = Qᵀ(x + y).
 * Q = I, a_l = A gives OPRF. Any Q and a are valid (unbiased); sderfParameters gives the minimiser.
 */
export function sderfObjective(x: Rows, y: Rows, q: Matrix, a: readonly number[]): number {
  const c = a.reduce((s, al) => s + 0.5 * Math.log1p((16 * al * al) / (1 - 8 * al)), 0);
  const qt = transpose(q);
  let sum = 0;
  for (const xi of x)
    for (const yj of y) {
      const z = qt.map((row) =>
        dot(
          row,
          xi.map((v, k) => v + yj[k]!),
        ),
      );
      sum += 2 * dot(xi, yj) + c + z.reduce((s, zl, l) => s + (zl * zl) / (1 - 8 * a[l]!), 0);
    }
  return sum / (x.length * y.length);
}

/**
 * ADERF optimum (FAVOR# §4; docs/formulas.md §8): M_k = Q_k Λ_k Q_kᵀ (both nonsingular, so L ≥ d),
 * Λ1^(1/2) Q1ᵀ Q2 Λ2^(1/2) = U Σ Vᵀ, E = Σ^(1/2) Uᵀ Λ1^(−1/2) Q1ᵀ, E^(−ᵀ) = Σ^(1/2) Vᵀ Λ2^(−1/2) Q2ᵀ.
 * Then x̂ = Ex, ŷ = E^(−ᵀ)y keep x̂ᵀŷ = xᵀy and tr(EM1Eᵀ) = tr(E^(−ᵀ)M2E⁻¹) = Σ_l σ_l, the minimum
 * over invertible E of mean‖x̂‖² + mean‖ŷ‖². E is unique only up to a left rotation (OPRF is invariant).
 */
export function aderfTransform(x: Rows, y: Rows): { e: Matrix; eInvT: Matrix; sigma: number[] } {
  const [e1, e2] = [symmetricEigen(secondMoment(x)), symmetricEigen(secondMoment(y))];
  if (Math.min(...e1.values, ...e2.values) <= 0) throw new RangeError('ADERF needs nonsingular M1 and M2 (L ≥ d, full rank)');
  const half = (e: typeof e1, p: number) => e.vectors.map((r) => r.map((v, l) => v * e.values[l]! ** p)); // Q Λ^p
  const { u, sigma, v } = svd(matMul(transpose(half(e1, 0.5)), half(e2, 0.5)));
  const side = (o: Matrix, e: typeof e1) =>
    matMul(
      transpose(o).map((r, l) => r.map((x) => x * Math.sqrt(sigma[l]!))),
      transpose(half(e, -0.5)),
    );
  return { e: side(u, e1), eInvT: side(v, e2), sigma };
}

/** mean_ij log S₂ of OPRF with the attention A*(φ) on the given (possibly transformed) rows. */
function oprfObjective(x: Rows, y: Rows): number {
  const d = x[0]!.length;
  const a = oprfA(attentionPhi(x, y), d);
  let sum = 0;
  for (const xi of x) for (const yj of y) sum += oprfLogSecondMoment({ xy: dot(xi, yj), xx: sq(xi), yy: sq(yj) }, a, d);
  return sum / (x.length * y.length);
}

/**
 * The FAVOR# objective L̄ = (L_x L_y)⁻¹ Σ_ij log S₂(x_i, y_j), S₂ = Var + SM², at each family's optimum
 * (docs/formulas.md §8; FAVOR# §4): posrf A = 0; oprf A*(attentionPhi); saderf Ψ (ε = 1e-12) then OPRF;
 * aderf E from aderfTransform then OPRF; sderf sderfParameters. Nesting gives
 * aderf ≤ saderf ≤ oprf ≤ posrf and sderf ≤ oprf; sderf against (s)aderf depends on the data.
 */
export function meanLogSecondMoment(x: Rows, y: Rows, family: Family): number {
  const d = x[0]!.length;
  switch (family) {
    case 'posrf':
      return sderfObjective(x, y, identity(d), new Array<number>(d).fill(0));
    case 'oprf':
      return oprfObjective(x, y);
    case 'saderf': {
      const psi = saderfPsi(x, y, SADERF_EPS);
      return oprfObjective(
        x.map((r) => r.map((v, l) => v * psi[l]!)),
        y.map((r) => r.map((v, l) => v / psi[l]!)),
      );
    }
    case 'aderf': {
      const { e, eInvT } = aderfTransform(x, y);
      return oprfObjective(apply(e, x), apply(eInvT, y));
    }
    case 'sderf': {
      const { q, a } = sderfParameters(x, y);
      return sderfObjective(x, y, q, a);
    }
  }
}
