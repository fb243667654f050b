/**
 * `performer error --estimator exact`: the estimator itself, evaluated on the host in float64.
 * The same projection draw as the graph (seed s), the same data-dependent fits (FAVOR++'s A,
 * FAVOR#'s Ψ, from the kernel's float64 feature map), and no ε: the feature map's stabiliser
 * shifts (a positive factor per query row, one per head for the keys) then cancel exactly in the
 * row normalisation, so what is left is the random-feature estimate of softmax attention and
 * float64 rounding. The graph (`graph`, the default) adds ε = 1e-6 after its shifts and runs in
 * float32: where the features span many e-folds that floor, not the estimator, sets its error
 * (docs/formulas.md §3, "ε and the exact estimator").
 *
 * Cost per case and seed: the features, L × m × d, and the normalised linear attention in
 * O(L × m × d_v) (prefix sums when causal), never the L × L matrix.
 */
import { getKernel } from '../kernels/index.ts';
import { type FeatureType, projectionMatrix } from '../kernels/projection.ts';
import type { FeatureRows } from '../reference/features.ts';
import { rowsOf } from '../reference/linear-attention.ts';

export interface ExactCase {
  readonly kernel: string;
  readonly featureType: FeatureType | 'none';
  readonly features: number;
}

export interface ExactShape {
  readonly seqLen: number;
  readonly dim: number;
  /** Width of v (default d); V = I_L with valueDim = L gives the attention matrix. */
  readonly valueDim?: number;
  readonly causal: boolean;
}

/**
 * A case's float64 feature rows of one head at seed `seed` (the projection the graph draws from the
 * same seed), with ε = `eps` added to every feature: 0 for the exact estimator, undefined for the
 * kernel's deployed ε (what the graph adds). q, k [L, d] row-major, raw (unscaled) inputs.
 */
export function caseFeatures(c: ExactCase, seed: number, shape: ExactShape, q: Float64Array, k: Float64Array, eps: number | undefined): FeatureRows {
  const { seqLen: L, dim: d, causal } = shape;
  const kernel = getKernel(c.kernel);
  if (!kernel.reference) throw new Error(`kernel ${c.kernel} has no float64 feature map`);
  const w = kernel.projection ? projectionMatrix(c.features, d, c.featureType === 'none' ? 'iid' : c.featureType, seed) : undefined;
  return kernel.reference(rowsOf(q, 0, L, d), rowsOf(k, 0, L, d), { ...(w ? { w } : {}), d, causal, ...(eps === undefined ? {} : { eps }) });
}

/**
 * D̂⁻¹ φ(Q)(φ(K)ᵀ[V 1]) of one head in float64 from feature rows, in O(L × m × d_v): the key sums
 * once (bidirectional) or as prefix sums (causal). v [L, valueDim] row-major. No denominator
 * guard: a denominator of 0 (a signed kernel's) gives a non-finite output, which the sweep
 * reports as `invalid`.
 */
export function linearAttention64(f: FeatureRows, v: Float64Array, shape: ExactShape): Float64Array {
  const { seqLen: L, causal } = shape;
  const dv = shape.valueDim ?? shape.dim;
  const m = f.k[0]!.length;
  // S = Σ_j φ(k_j) ⊗ [v_j 1] (all keys, or the prefix j ≤ i when causal): [m, dv + 1].
  const width = dv + 1;
  const s = new Float64Array(m * width);
  const addKey = (j: number) => {
    const phi = f.k[j]!;
    for (let r = 0; r < m; r++) {
      const p = phi[r]!;
      const row = r * width;
      for (let c = 0; c < dv; c++) s[row + c]! += p * v[j * dv + c]!;
      s[row + dv]! += p;
    }
  };
  if (!causal) for (let j = 0; j < L; j++) addKey(j);
  const out = new Float64Array(L * dv);
  const acc = new Float64Array(width);
  for (let i = 0; i < L; i++) {
    if (causal) addKey(i);
    acc.fill(0);
    const phi = f.q[i]!;
    for (let r = 0; r < m; r++) {
      const p = phi[r]!;
      const row = r * width;
      for (let c = 0; c < width; c++) acc[c]! += p * s[row + c]!;
    }
    for (let c = 0; c < dv; c++) out[i * dv + c] = acc[c]! / acc[dv]!;
  }
  return out;
}

/** The exact estimator's output of one head: {@link caseFeatures} at ε = 0, then {@link linearAttention64}. */
export function exactOutput(c: ExactCase, seed: number, shape: ExactShape, q: Float64Array, k: Float64Array, v: Float64Array): Float64Array {
  return linearAttention64(caseFeatures(c, seed, shape, q, k, 0), v, shape);
}
