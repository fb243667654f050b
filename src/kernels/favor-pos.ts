import { SOFTMAX_FEATURE_EPS } from '../defaults.ts';
import { msePos, mseOrthogonalBound } from '../reference/closed-forms.ts';
import { logitBound, softmaxPositiveRows } from '../reference/features.ts';
import { mseOrthogonalExact } from '../reference/orthogonal-mse.ts';
import { positiveFeatures, softmaxProjection } from './features.ts';
import { linearAttention } from './linear.ts';
import type { KernelSpec } from './types.ts';

/** FAVOR+: positive random features, unbiased for the softmax kernel (docs/formulas.md §2-§3). */
export const favorPosKernel: KernelSpec = {
  name: 'favor-pos',
  role: 'linear',
  description: 'FAVOR+: positive random features exp(Wx − ‖x‖²/2)/√m, O(L m d)',
  formula:
    'φ(x) = m^(-1/2)·(exp(Wx − ‖x‖²/2 − s) + ε), x = input·d^(-1/4), ε = 1e-6; queries: s = ‖x‖²/2 + log Σ_r exp(Wx)_r (one Softmax node; a per-query factor cancels); ' +
    'keys: max over features and sequence (bidirectional) or max(first token’s largest logit, max‖w‖²/2 − 60) (causal, leak-free); ' +
    'out = D̂⁻¹ Q′(K′ᵀ[V 1]), denominator guard R += 2ε·(|R| ≤ ε)',
  projection: true,
  featureWidth: (c) => c.features,
  supportsCausal: true,
  supportsBackward: true,
  estimator: {
    pairTerm: (wx, wy, xx, yy) => Math.exp(wx + wy - (xx + yy) / 2),
    mse: msePos,
    orthogonalBound: mseOrthogonalBound,
    orthogonalMse: (g, m, d) => mseOrthogonalExact('positive', g, m, d),
    signed: false,
  },
  reference: (q, k, ctx) => softmaxPositiveRows(q, k, ctx, [1], ctx.eps ?? SOFTMAX_FEATURE_EPS),
  build(b, ctx) {
    const bound = logitBound(ctx.projection!.host, ctx.shape.dim);
    const opts = { causal: ctx.config.causal, eps: SOFTMAX_FEATURE_EPS, ratio: ctx.config.features ** -0.5, bound, keyMask: ctx.keyMask };
    const fq = softmaxProjection(b, ctx.q, ctx);
    const fk = softmaxProjection(b, ctx.k, ctx);
    const phiQ = positiveFeatures(b, fq.proj, fq.diag, 'query', opts);
    const phiK = positiveFeatures(b, fk.proj, fk.diag, 'key', opts);
    return linearAttention(b, phiQ, phiK, ctx);
  },
};
