import { SADERF_PSI_EPS, SOFTMAX_FEATURE_EPS } from '../defaults.ts';
import { oprfRows, rescaleRows } from '../reference/features.ts';
import { attentionPhi, mseOprf, oprfA, saderfPsi } from '../reference/oprf.ts';
import { fittedPairTerm } from './favor-opr.ts';
import { oprfAttention } from './oprf.ts';
import type { EstimatorFit, KernelSpec } from './types.ts';

/** FAVOR#'s SADERF fit: Ψ from the coordinates' mean squares, then FAVOR++'s A on (Ψ⊙x, y/Ψ). */
export function saderfFit(x: number[][], y: number[][], d: number): EstimatorFit {
  const psi = saderfPsi(x, y, SADERF_PSI_EPS);
  const [xh, yh] = rescaleRows(x, y, psi);
  return { a: oprfA(attentionPhi(xh, yh), d), psi };
}

/** FAVOR#: simplified asymmetric dense-exponential features (Likhosherstov et al. 2023; docs/formulas.md §6). */
export const favorSadeKernel: KernelSpec = {
  name: 'favor-sade',
  role: 'linear',
  description: 'FAVOR# (SADERF): per-coordinate rescaling Ψ of queries and keys, then FAVOR++ features, O(L m d)',
  formula:
    'x̂ = Ψ⊙x, ŷ = y/Ψ with Ψ_l = ((mean_j y_jl² + ε)/(mean_i x_il² + ε))^(1/4) per (batch, head) (causal: the first token’s, leak-free), ε = 1e-6, ' +
    'x = input·d^(-1/4); then favor-opr’s features of x̂ and ŷ (x̂ᵀŷ = xᵀy); Ψ, A, B constants for gradients',
  projection: true,
  featureWidth: (c) => c.features,
  supportsCausal: true,
  supportsBackward: true,
  estimator: {
    pairTerm: fittedPairTerm,
    // Ψ depends on the coordinates, not on the pair's geometry: only a fit (from `error`) has it,
    // and the geometry passed is then that of the rescaled pair.
    mse: (g, m, d, fit) => (d === undefined || fit === undefined ? NaN : mseOprf(g, m, d, fit.a)),
    fit: saderfFit,
    signed: false,
  },
  reference: (q, k, ctx) => oprfRows(q, k, ctx, saderfFit, ctx.eps ?? SOFTMAX_FEATURE_EPS),
  build: (b, ctx) => oprfAttention(b, ctx, { psi: true }),
};
