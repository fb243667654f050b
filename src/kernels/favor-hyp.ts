import { SOFTMAX_FEATURE_EPS } from '../defaults.ts';
import { mseHyp } from '../reference/closed-forms.ts';
import { logitBound, softmaxPositiveRows } from '../reference/features.ts';
import type { Value } from '../onnx/ir.ts';
import { positiveFeatures, softmaxProjection } from './features.ts';
import { linearAttention } from './linear.ts';
import type { KernelSpec } from './types.ts';

/** Hyperbolic positive features: [exp(Wx), exp(−Wx)], 2m features from m projections. */
export const favorHypKernel: KernelSpec = {
  name: 'favor-hyp',
  role: 'linear',
  description: 'hyperbolic positive features exp(±Wx − ‖x‖²/2)/√(2m): 2m features, lower variance',
  formula: 'φ(x) = (2m)^(-1/2)·(exp([Wx, −Wx] − ‖x‖²/2 − s) + ε), x = input·d^(-1/4), ε = 1e-6; shifts s as favor-pos, over all 2m features',
  projection: true,
  featureWidth: (c) => 2 * c.features,
  supportsCausal: true,
  supportsBackward: true,
  estimator: {
    pairTerm: (wx, wy, xx, yy) => ((Math.exp(wx + wy) + Math.exp(-wx - wy)) / 2) * Math.exp(-(xx + yy) / 2),
    mse: mseHyp,
    signed: false,
  },
  reference: (q, k, ctx) => softmaxPositiveRows(q, k, ctx, [1, -1], ctx.eps ?? SOFTMAX_FEATURE_EPS),
  build(b, ctx) {
    const bound = logitBound(ctx.projection!.host, ctx.shape.dim);
    const opts = {
      causal: ctx.config.causal,
      eps: SOFTMAX_FEATURE_EPS,
      ratio: (2 * ctx.config.features) ** -0.5,
      bound,
      signs: [1, -1] as const,
      keyMask: ctx.keyMask,
    };
    // [e^{Wx}, e^{−Wx}] as two blocks from the one product x·Wᵀ: no Neg or Concat over L×m.
    const features = (x: Value, role: 'query' | 'key') => {
      const { proj, diag } = softmaxProjection(b, x, ctx);
      return positiveFeatures(b, proj, diag, role, opts);
    };
    return linearAttention(b, features(ctx.q, 'query'), features(ctx.k, 'key'), ctx);
  },
};
