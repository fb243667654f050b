/**
 * FAVOR#'s full estimators SDERF and ADERF on the host, in float64 without ε, for the untimed
 * sweeps on given inputs (`error --inputs --kernels sderf,aderf`, targets kernel and output).
 * Both are an invertible transform of queries and keys, u = T_q x and v = T_k y with uᵀv = xᵀy,
 * followed by a per-axis OPRF with parameters a_l ≤ 0 (ESTIMATORS.md §3; src/reference/oprf.ts):
 *   log f(ω, u) = ¼Σ_l log(1−4a_l) + Σ_l a_l ω_l² + Σ_l √(1−4a_l) ω_l u_l − ‖u‖²/2,
 *   K̂(x, y) = (1/m) Σ_r f(ω_r, u) f(ω_r, v),  E K̂ = exp(xᵀy).
 * SDERF: T_q = T_k = Qᵀ (eigenvectors of M3), a_l = A*(λ_l, 1). ADERF: T_q = E, T_k = E^(−ᵀ),
 * a_l = A*(φ̂, d) with φ̂ = mean‖û+v̂‖² of the transformed rows. Parameters are fitted per (batch,
 * head) from that sequence's token rows (target output) or from a head's pairs (target kernel).
 */
import { attentionPhi, aderfTransform, oprfA, sderfParameters } from '../reference/oprf.ts';
import type { HostEstimator } from './targets.ts';

type Rows = number[][];

/** A fitted DERF: the query and key transforms (d × d, row-major rows) and the per-axis a_l. */
export interface DerfFit {
  readonly tq: Rows;
  readonly tk: Rows;
  readonly a: readonly number[];
}

const apply = (t: Rows, x: readonly number[]) => t.map((row) => row.reduce((s, v, k) => s + v * x[k]!, 0));
const transpose = (m: Rows): Rows => m[0]!.map((_, j) => m.map((r) => r[j]!));

/**
 * The estimator's parameters from queries x and keys y (scaled rows).
 * @throws RangeError for ADERF when a second-moment matrix is singular (fewer rows than d, or rank-deficient)
 */
export function fitDerf(kind: HostEstimator, x: Rows, y: Rows): DerfFit {
  const d = x[0]!.length;
  if (kind === 'sderf') {
    const { q, a } = sderfParameters(x, y);
    const qt = transpose(q);
    return { tq: qt, tk: qt, a };
  }
  const { e, eInvT } = aderfTransform(x, y);
  const a = oprfA(
    Math.max(
      0,
      attentionPhi(
        x.map((r) => apply(e, r)),
        y.map((r) => apply(eInvT, r)),
      ),
    ),
    d,
  );
  return { tq: e, tk: eInvT, a: new Array<number>(d).fill(a) };
}

/** log f(ω_r, u) for every row r of w [m × d] (flat), u already transformed. */
function logFeatures(fit: DerfFit, w: Float64Array, u: readonly number[]): Float64Array {
  const d = u.length;
  const m = w.length / d;
  const c = fit.a.reduce((s, al) => s + 0.25 * Math.log1p(-4 * al), 0);
  const b = fit.a.map((al) => Math.sqrt(1 - 4 * al));
  const uu = u.reduce((s, t) => s + t * t, 0);
  const out = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    let s = c - uu / 2;
    for (let l = 0; l < d; l++) {
      const wl = w[r * d + l]!;
      s += fit.a[l]! * wl * wl + b[l]! * wl * u[l]!;
    }
    out[r] = s;
  }
  return out;
}

/** The raw estimate K̂(x, y) with projection w [m × d] (flat). */
export function derfEstimate(fit: DerfFit, w: Float64Array, x: readonly number[], y: readonly number[]): number {
  const fx = logFeatures(fit, w, apply(fit.tq, x));
  const fy = logFeatures(fit, w, apply(fit.tk, y));
  let s = 0;
  for (let r = 0; r < fx.length; r++) s += Math.exp(fx[r]! + fy[r]!);
  return s / fx.length;
}

/**
 * The second moment of one product f(ω, u)·f(ω, v), ω ~ N(0, I): the axes are independent 1-D
 * OPRFs (ESTIMATORS.md §1 at d = 1), S₂ = Π_l (1−4a_l)(1−8a_l)^(−½) exp(2(1−4a_l)/(1−8a_l)(u_l+v_l)² − u_l² − v_l²).
 * The i.i.d. MSE of K̂ with m rows is (S₂ − SM²)/m.
 */
export function derfSecondMoment(fit: DerfFit, x: readonly number[], y: readonly number[]): number {
  const u = apply(fit.tq, x);
  const v = apply(fit.tk, y);
  let log = 0;
  fit.a.forEach((al, l) => {
    const s = u[l]! + v[l]!;
    log += Math.log1p(-4 * al) - 0.5 * Math.log1p(-8 * al) + ((2 * (1 - 4 * al)) / (1 - 8 * al)) * s * s - u[l]! ** 2 - v[l]! ** 2;
  });
  return Math.exp(log);
}

/**
 * Attention outputs of token rows x (queries), y (keys), v (values) through the estimator's
 * features, bidirectional: out_i = Σ_j φ(x_i)·φ(y_j) v_j / Σ_j φ(x_i)·φ(y_j). Query features
 * are shifted by their row's max log and key features by the global max (both cancel exactly).
 */
export function derfAttention(fit: DerfFit, w: Float64Array, x: Rows, y: Rows, v: Rows): Rows {
  const d = v[0]!.length;
  const lk = y.map((r) => logFeatures(fit, w, apply(fit.tk, r)));
  const m = lk[0]!.length;
  const top = Math.max(...lk.map((r) => Math.max(...r)));
  const kv = Array.from({ length: m }, () => new Float64Array(d));
  const z = new Float64Array(m);
  lk.forEach((row, j) => {
    for (let r = 0; r < m; r++) {
      const f = Math.exp(row[r]! - top);
      z[r]! += f;
      for (let l = 0; l < d; l++) kv[r]![l]! += f * v[j]![l]!;
    }
  });
  return x.map((xi) => {
    const lq = logFeatures(fit, w, apply(fit.tq, xi));
    const shift = Math.max(...lq);
    const out = new Array<number>(d).fill(0);
    let den = 0;
    for (let r = 0; r < m; r++) {
      const f = Math.exp(lq[r]! - shift);
      den += f * z[r]!;
      for (let l = 0; l < d; l++) out[l]! += f * kv[r]![l]!;
    }
    return out.map((t) => t / den);
  });
}
