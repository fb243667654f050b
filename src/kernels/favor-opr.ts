import { SOFTMAX_FEATURE_EPS } from '../defaults.ts';
import { oprfRows } from '../reference/features.ts';
import { attentionPhi, mseOprf, oprfA, oprfPairTerm } from '../reference/oprf.ts';
import { oprfAttention } from './oprf.ts';
import type { EstimatorFacts, EstimatorFit, KernelSpec } from './types.ts';

const sumSq = (g: { xx: number; yy: number; xy: number }) => g.xx + g.yy + 2 * g.xy;

/** One projection row's raw estimate with the fit's A (inputs already rescaled by any Ψ): favor-opr's and favor-sade's. */
export const fittedPairTerm: EstimatorFacts['pairTerm'] = (wx, wy, xx, yy, ww, fit, d) => oprfPairTerm(wx, wy, xx, yy, ww, fit?.a ?? 0, d);

/** FAVOR++'s A fitted to one head's scaled rows: A*(φ), φ = mean‖x_i + y_j‖² (docs/formulas.md §6). */
export const oprfFit = (x: number[][], y: number[][], d: number): EstimatorFit => ({ a: oprfA(attentionPhi(x, y), d) });

/** FAVOR++: optimal positive random features (Likhosherstov et al. 2022; docs/formulas.md §6). */
export const favorOprKernel: KernelSpec = {
  name: 'favor-opr',
  role: 'linear',
  description: 'FAVOR++: optimal positive features D·exp(A‖w‖² + B·wᵀx − ‖x‖²/2)/√m, one data-fitted A ≤ 0 per head, O(L m d)',
  formula:
    'φ(x) = m^(-1/2)·(exp(B·Wx + A‖w‖² − ‖x‖²/2 − s) + ε), x = input·d^(-1/4), ε = 1e-6; per (batch, head) φ = mean‖x‖² + mean‖y‖² + 2·mean(x)ᵀmean(y) ' +
    '(causal: the first token’s ‖x₁+y₁‖², leak-free), 1/ρ = (√((2φ+d)² + 8dφ) + 2φ + d)/(2d), A = (1 − 1/ρ)/8, B = √(1 − 4A), constants for gradients; ' +
    'shifts s as favor-pos with the causal cap (1 − 2A)·max‖w‖²/2; D = (1 − 4A)^(d/4) cancels',
  projection: true,
  featureWidth: (c) => c.features,
  supportsCausal: true,
  supportsBackward: true,
  estimator: {
    pairTerm: fittedPairTerm,
    mse: (g, m, d, fit) => (d === undefined ? NaN : mseOprf(g, m, d, fit?.a ?? oprfA(sumSq(g), d))),
    fit: oprfFit,
    signed: false,
  },
  reference: (q, k, ctx) => oprfRows(q, k, ctx, oprfFit, ctx.eps ?? SOFTMAX_FEATURE_EPS),
  build: (b, ctx) => oprfAttention(b, ctx, { psi: false }),
};
