/**
 * Float64 feature maps of the linear kernels, written with plain loops: the one reference that
 * tests, the error sweep's sign census and the per-pair estimators use. Each kernel file picks
 * its blocks here (KernelSpec.reference); the formulas, ε and stabiliser shifts are the ones
 * docs/formulas.md §2-§3 give and the kernel files document.
 */

/**
 * Headroom of the causal key shift: exponents are at most this, so e^60·L·|v| stays far below
 * float32's 3.4e38 for any L a machine can hold.
 */
export const CAUSAL_SHIFT_HEADROOM = 60;

/**
 * Upper bound of any logit wᵀy − ‖y‖²/2 over y: it equals ‖w‖²/2 − ‖y − w‖²/2 ≤ ‖w‖²/2.
 * Returns max over rows of ‖w_i‖²/2 (data-independent, known when the graph is built).
 */
export function logitBound(w: Float64Array, d: number): number {
  let best = -Infinity;
  for (let i = 0; i < w.length / d; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += w[i * d + c]! ** 2;
    best = Math.max(best, s / 2);
  }
  return best;
}

/** Rows of one (batch, head): [L][width]. */
export type Rows = number[][];

/** Query and key features of one (batch, head). */
export interface FeatureRows {
  readonly q: Rows;
  readonly k: Rows;
}

/** Everything a float64 feature map needs besides the rows. */
export interface ReferenceContext {
  /** Projection W [m, d] (row-major), for kernels that draw one. */
  readonly w?: Float64Array;
  readonly d: number;
  readonly causal: boolean;
  /**
   * ε added to each feature: undefined, the kernel's deployed ε (what its graph adds); 0, the
   * estimator itself (`performer error --estimator exact`), whose shifts then cancel exactly.
   */
  readonly eps?: number;
}

/** A kernel's float64 feature map: raw q and k rows in, φ(q) and φ(k) rows out. */
export type ReferenceFeatureMap = (q: Rows, k: Rows, ctx: ReferenceContext) => FeatureRows;

/** x·scale·Wᵀ per row: [L][m]. */
export function project(x: Rows, w: Float64Array, d: number, scale: number): Rows {
  const m = w.length / d;
  return x.map((row) => Array.from({ length: m }, (_, f) => row.reduce((s, xc, c) => s + xc * scale * w[f * d + c]!, 0)));
}

const sq = (row: readonly number[]) => row.reduce((s, x) => s + x * x, 0);

/** ‖x‖²/2 of each row after the d^(-1/4) scaling. */
export const halfSquaredNorms = (x: Rows, d: number): number[] => x.map((r) => (sq(r) * d ** -0.5) / 2);

/**
 * Positive features ratio·(exp(logit − ‖x‖²/2 − shift) + ε) from raw logits (before −‖x‖²/2).
 * Query shift: max over features per token. Key shift: max over features and sequence, or when
 * causal max(first token's largest logit, max‖w‖²/2 − headroom), as the graphs do.
 */
export function positiveRows(
  rawQ: Rows,
  rawK: Rows,
  diagQ: readonly number[],
  diagK: readonly number[],
  o: { causal: boolean; ratio: number; bound: number; eps: number; softmaxQueries?: boolean },
): FeatureRows {
  // One block: softmax of the raw logits (the graph's Softmax node; ‖x‖²/2 and the shift are
  // per-token factors that cancel). Several blocks (favor-hyp's ±): shift by the row max.
  const single = o.softmaxQueries === true;
  const q = rawQ.map((row, i) => {
    const max = Math.max(...row);
    if (single) {
      const sum = row.reduce((a, p) => a + Math.exp(p - max), 0);
      return row.map((p) => o.ratio * (Math.exp(p - max) / sum + o.eps));
    }
    return row.map((p) => o.ratio * (Math.exp(p - diagQ[i]! - max) + o.eps));
  });
  const shift = o.causal
    ? Math.max(Math.max(...rawK[0]!.map((p) => p - diagK[0]!)), o.bound - CAUSAL_SHIFT_HEADROOM)
    : rawK.flat().reduce((a, b) => Math.max(a, b), -Infinity);
  const k = rawK.map((row, j) => row.map((p) => o.ratio * (Math.exp(p - diagK[j]! - shift) + o.eps)));
  return { q, k };
}

/** favor-pos (signs [1]) and favor-hyp (signs [1, −1]) features. */
export function softmaxPositiveRows(q: Rows, k: Rows, ctx: ReferenceContext, signs: readonly number[], eps: number): FeatureRows {
  const { w, d, causal } = ctx;
  const m = w!.length / d;
  const logits = (x: Rows) => project(x, w!, d, d ** -0.25).map((r) => signs.flatMap((s) => r.map((p) => s * p)));
  const ratio = (signs.length * m) ** -0.5;
  return positiveRows(logits(q), logits(k), halfSquaredNorms(q, d), halfSquaredNorms(k, d), {
    causal,
    ratio,
    bound: logitBound(w!, d),
    eps,
    softmaxQueries: signs.length === 1,
  });
}

/**
 * Trigonometric features m^(-1/2)·[cos Wx, sin Wx]·exp(‖x‖²/2 − s). Queries: s = their own
 * ‖x‖²/2 (the factor cancels in the normalisation). Keys: s = the largest ‖x‖²/2 of the sequence,
 * or when causal the first token's with the exponent capped at the headroom. Positive factors, so
 * signs are exact and nothing overflows where the unshifted exp(‖x‖²/2) would.
 */
export function trigRows(x: Rows, ctx: ReferenceContext, role: 'query' | 'key'): Rows {
  const { w, d, causal } = ctx;
  const m = w!.length / d;
  const dg = halfSquaredNorms(x, d);
  const shift = causal ? dg[0]! : Math.max(...dg);
  const factor = (i: number) => (role === 'query' ? 1 : Math.exp(Math.min(dg[i]! - shift, causal ? CAUSAL_SHIFT_HEADROOM : Infinity)));
  return project(x, w!, d, d ** -0.25).map((r, i) => [...r.map(Math.cos), ...r.map(Math.sin)].map((f) => f * m ** -0.5 * factor(i)));
}

/** ReLU(x·scale·Wᵀ) + ε (projected) or ReLU(x) + ε (no projection). */
export function reluRows(x: Rows, ctx: ReferenceContext, eps: number): Rows {
  const proj = ctx.w ? project(x, ctx.w, ctx.d, (ctx.w.length / ctx.d) ** -0.5) : x;
  return proj.map((r) => r.map((p) => Math.max(p, 0) + eps));
}

/** elu(x) + 1. */
export const eluRows = (x: Rows): Rows => x.map((r) => r.map((v) => (v > 0 ? v + 1 : Math.exp(v))));

/** FAVOR#'s rescaling of one pair of rows: (Ψ⊙x, y/Ψ), which keeps xᵀy; no Ψ: unchanged. */
export function rescalePair(x: readonly number[], y: readonly number[], psi: readonly number[] | undefined): [number[], number[]] {
  return psi ? [x.map((v, c) => v * psi[c]!), y.map((v, c) => v / psi[c]!)] : [[...x], [...y]];
}

/** (Ψ⊙x_i)_i and (y_j/Ψ)_j for every row of two sequences. */
export function rescaleRows(x: Rows, y: Rows, psi: readonly number[] | undefined): [Rows, Rows] {
  if (!psi) return [x, y];
  return [x.map((r) => r.map((v, c) => v * psi[c]!)), y.map((r) => r.map((v, c) => v / psi[c]!))];
}

/** The scaled rows x = input·d^(-1/4) of one head. */
export const scaleRows = (x: Rows, d: number): Rows => x.map((r) => r.map((v) => v * d ** -0.25));

/**
 * FAVOR++ (and, with Ψ, FAVOR#'s SADERF) positive features (docs/formulas.md §6): the logits
 * B·wᵀx̂ + A‖w‖² − ‖x̂‖²/2 with A, B, Ψ fitted by `fit` to the scaled rows, over the whole
 * sequences (bidirectional) or the first token only (causal, so no later token changes them).
 * The factor D cancels in attention's normalisation and is left out, as the graph does. Shifts
 * as favor-pos, with the causal key bound (1 − 2A)·max‖w‖²/2.
 */
export function oprfRows(q: Rows, k: Rows, ctx: ReferenceContext, fit: (x: Rows, y: Rows, d: number) => EstimatorFit, eps: number): FeatureRows {
  const { w, d, causal } = ctx;
  const m = w!.length / d;
  const x = scaleRows(q, d);
  const y = scaleRows(k, d);
  const f = causal ? fit(x.slice(0, 1), y.slice(0, 1), d) : fit(x, y, d);
  const [xh, yh] = rescaleRows(x, y, f.psi);
  const bScale = Math.sqrt(1 - 4 * f.a);
  const ww = Array.from({ length: m }, (_, r) => sq(Array.from(w!.subarray(r * d, (r + 1) * d))));
  const logits = (z: Rows) => project(z, w!, d, bScale).map((row) => row.map((p, r) => p + f.a * ww[r]!));
  const half = (z: Rows) => z.map((r) => sq(r) / 2);
  const bound = (1 - 2 * f.a) * logitBound(w!, d);
  return positiveRows(logits(xh), logits(yh), half(xh), half(yh), { causal, ratio: m ** -0.5, bound, eps, softmaxQueries: true });
}

/**
 * Data-dependent parameters of an estimator, fitted per (batch, head) to that head's queries and
 * keys as the graph fits them: FAVOR++'s A and FAVOR#'s per-coordinate Ψ (docs/formulas.md §6).
 */
export interface EstimatorFit {
  /** A ≤ 0 of f(ω, x) = D·exp(A‖ω‖² + Bωᵀx − ‖x‖²/2); 0 is FAVOR+. */
  readonly a: number;
  /** Ψ [d]: the estimator sees (Ψ⊙x, y/Ψ), which keeps xᵀy. */
  readonly psi?: readonly number[];
}

/**
 * The raw estimate of SM(x, y) = exp(xᵀy) from projection rows W [m, d]: the mean over rows of
 * the estimator's per-row term, without ε or max shifts (what the closed forms of §5 and §6
 * describe). With a fit carrying Ψ, the pair is first mapped to (Ψ⊙x, y/Ψ).
 */
export function estimateSoftmaxKernel(
  pairTerm: (wx: number, wy: number, xx: number, yy: number, ww: number, fit: EstimatorFit | undefined, d: number) => number,
  w: Float64Array,
  d: number,
  x0: readonly number[],
  y0: readonly number[],
  fit?: EstimatorFit,
): number {
  const [x, y] = rescalePair(x0, y0, fit?.psi);
  const m = w.length / d;
  const xx = sq(x);
  const yy = sq(y);
  let sum = 0;
  for (let f = 0; f < m; f++) {
    let wx = 0;
    let wy = 0;
    let ww = 0;
    for (let c = 0; c < d; c++) {
      wx += w[f * d + c]! * x[c]!;
      wy += w[f * d + c]! * y[c]!;
      ww += w[f * d + c]! ** 2;
    }
    sum += pairTerm(wx, wy, xx, yy, ww, fit, d);
  }
  return sum / m;
}
