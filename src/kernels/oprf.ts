/**
 * FAVOR++'s optimal positive random features (OPRF; Likhosherstov et al. 2022, "Chefs' Random
 * Tables", §3) and FAVOR#'s simplified asymmetric dense-exponential features (SADERF; 2023, §4)
 * as attention graphs (docs/formulas.md §6). Shared by favor-opr and favor-sade.
 */
import { SADERF_PSI_EPS, SOFTMAX_FEATURE_EPS } from '../defaults.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import type { Value } from '../onnx/ir.ts';
import { positiveFeatures, requireProjection, scaledProjection } from './features.ts';
import { linearAttention } from './linear.ts';
import type { EstimatorFit, KernelContext } from './types.ts';

/** The mean over the sequence axis, [B, H, L, n] → [B, H, 1, n]. */
type MeanOver = (x: Value) => Value;

export interface OprfOptions {
  /** FAVOR#: rescale queries and keys per coordinate by Ψ first. */
  readonly psi: boolean;
  /**
   * Tests only: these A (and Ψ) for every head instead of the data's, so finite differences see
   * the same frozen constants the gradient treats them as; A = 0 without Ψ is FAVOR+.
   */
  readonly fixed?: EstimatorFit;
}

/**
 * OPRF attention. Per (batch, head), from the statistic φ of docs/formulas.md §6 (the sequences'
 * mean ‖x+y‖², or the first token's ‖x₁+y₁‖² when causal, so no later token changes A):
 * 1/ρ = (√((2φ+d)² + 8dφ) + 2φ + d)/(2d), A = (1 − 1/ρ)/8 ≤ 0, B = √(1 − 4A) = √((1 + 1/ρ)/2).
 * Logits B·wᵀx + A‖w‖² (− ‖x‖²/2 in the shift column) come from ONE product [x 1]·[B·W̃ᵀ; A‖w‖²],
 * so the per-row term costs no pass over the L×m tensor; the factor D cancels in the
 * normalisation. A, B and Ψ are constants for differentiation, as in the reference code.
 */
export function oprfAttention(b: GraphBuilder, ctx: KernelContext, opts: OprfOptions): Value {
  const { dim: d } = ctx.shape;
  const { causal, features: m } = ctx.config;
  const first = (x: Value) => (causal ? b.slice(x, [2], [0], [1]) : x);
  // Means over the sequence (or the first token), over real tokens only when padded.
  const mask = causal ? undefined : ctx.keyMask;
  const mean: MeanOver = mask ? (x) => b.div(b.reduceSum(b.mul(x, mask), [2]), b.reduceSum(mask, [2])) : (x) => b.reduceMean(x, [2]);
  const { q, k } = ctx;
  const fixed = opts.fixed;
  // FAVOR#'s Ψ rescales x̂ = Ψ⊙x and ŷ = y/Ψ. It is folded into the small per-head weights
  // (diag(Ψ)·W̃ᵀ) and into ‖x̂‖² = Σ_l Ψ_l² x_l² (from the squares Ψ is computed from), so no
  // L×d tensor is rescaled; the statistic's cross term Σ_l (Ψ_l μ_x,l)(μ_y,l/Ψ_l) needs no Ψ.
  let psi: Value | undefined;
  const sqQ = b.mul(q, q);
  const sqK = b.mul(k, k);
  if (opts.psi || fixed?.psi) {
    psi = fixed ? b.constant(fixed.psi ?? new Array<number>(d).fill(1), [1, 1, 1, d]) : b.stopGradient(saderfPsi(b, first(sqQ), first(sqK), d, mean));
  }
  const invPsi = psi && b.div(b.scalar(1), psi);
  const half = (sq: Value, scale?: Value) => b.mul(b.reduceSum(scale ? b.mul(sq, b.mul(scale, scale)) : sq, [-1]), b.scalar(d ** -0.5 / 2));
  const diagQ = half(sqQ, psi);
  const diagK = half(sqK, invPsi);
  const { a, bScale } = fixed
    ? { a: b.constant([fixed.a], [1, 1, 1, 1]), bScale: b.constant([Math.sqrt(1 - 4 * fixed.a)], [1, 1, 1, 1]) }
    : oprfParameters(b, b.stopGradient(statistic(b, first(q), first(k), first(diagQ), first(diagK), d, mean)), d);
  const w = requireProjection(ctx);
  const host = w.host;
  const norms = Array.from({ length: m }, (_, r) => host.subarray(r * d, (r + 1) * d).reduce((s, v) => s + v * v, 0));
  // [B·diag(Ψ^±1)·d^(-1/4)Wᵀ ; A‖w‖²]: [B, H, d+1, m], per head and tiny.
  const top = b.mul(scaledProjection(b, ctx), bScale);
  const bias = b.mul(b.constant(norms, [1, m]), a);
  const weights = (scale?: Value) => b.concat([scale ? b.mul(top, b.transposeLast(scale)) : top, bias], 2);
  const logits = (x: Value, scale?: Value) => b.matMul(b.concat([x, b.fill([...x.shape.slice(0, -1), 1], 1)], -1), weights(scale));
  // sup_y B·wᵀy + A‖w‖² − ‖y‖²/2 = (1 − 2A)‖w‖²/2: the causal key shift's overflow cap.
  const bound = b.mul(b.sub(b.scalar(1), b.mul(b.scalar(2), a)), b.scalar(Math.max(...norms) / 2));
  const o = { causal, eps: SOFTMAX_FEATURE_EPS, ratio: m ** -0.5, bound, keyMask: ctx.keyMask };
  const phiQ = positiveFeatures(b, logits(q, psi), diagQ, 'query', o);
  const phiK = positiveFeatures(b, logits(k, invPsi), diagK, 'key', o);
  return linearAttention(b, phiQ, phiK, ctx);
}

/** φ = mean‖x‖² + mean‖y‖² + 2·mean(x)ᵀmean(y) over the rows given, x = input·d^(-1/4): [B, H, 1, 1]. */
function statistic(b: GraphBuilder, q: Value, k: Value, diagQ: Value, diagK: Value, d: number, mean: MeanOver): Value {
  const squares = b.mul(b.add(mean(diagQ), mean(diagK)), b.scalar(2));
  const cross = b.reduceSum(b.mul(mean(q), mean(k)), [-1]);
  return b.add(squares, b.mul(cross, b.scalar(2 * d ** -0.5)));
}

/** A* and B = √(1 − 4A) from φ in the form without 0/0 at φ = 0 (docs/formulas.md §6). */
function oprfParameters(b: GraphBuilder, phi: Value, d: number): { a: Value; bScale: Value } {
  const twoPhiD = b.add(b.mul(phi, b.scalar(2)), b.scalar(d));
  const root = b.sqrt(b.add(b.mul(twoPhiD, twoPhiD), b.mul(phi, b.scalar(8 * d))));
  const invRho = b.mul(b.add(root, twoPhiD), b.scalar(1 / (2 * d)));
  const a = b.mul(b.sub(b.scalar(1), invRho), b.scalar(1 / 8));
  const bScale = b.sqrt(b.mul(b.add(b.scalar(1), invRho), b.scalar(0.5)));
  return { a, bScale };
}

/**
 * FAVOR#'s SADERF rescaling Ψ_l = ((mean_j y_jl² + ε)/(mean_i x_il² + ε))^(1/4) over the rows
 * given, with x = input·d^(-1/4): [B, H, 1, d]. ε guards coordinates that are zero throughout.
 */
function saderfPsi(b: GraphBuilder, sqQ: Value, sqK: Value, d: number, mean: MeanOver): Value {
  const meanSquare = (sq: Value) => b.add(b.mul(mean(sq), b.scalar(d ** -0.5)), b.scalar(SADERF_PSI_EPS));
  return b.sqrt(b.sqrt(b.div(meanSquare(sqK), meanSquare(sqQ))));
}
