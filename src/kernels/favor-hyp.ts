import { SOFTMAX_FEATURE_EPS } from '../defaults.ts';
import type { Value } from '../onnx/ir.ts';
import { logitBound, positiveFeatures, softmaxProjection } from './features.ts';
import { linearAttention } from './linear.ts';
import type { KernelSpec } from './types.ts';

/** Hyperbolic positive features: [exp(Wx), exp(−Wx)], 2m features from m projections. */
export const favorHypKernel: KernelSpec = {
  name: 'favor-hyp',
  description: 'hyperbolic positive features exp(±Wx − ‖x‖²/2)/√(2m): 2m features, lower variance',
  formula:
    'φ(x) = (2m)^(-1/2)·(exp([Wx, −Wx] − ‖x‖²/2 − s) + ε), x = input·d^(-1/4), ε = 1e-6; shifts s as favor-pos, over all 2m features',
  projection: true,
  featureWidth: (c) => 2 * c.features,
  supportsCausal: true,
  supportsBackward: true,
  linear: true,
  build(b, ctx) {
    const bound = logitBound(ctx.projection!.host, ctx.shape.dim);
    const opts = { causal: ctx.config.causal, eps: SOFTMAX_FEATURE_EPS, ratio: (2 * ctx.config.features) ** -0.5, bound, signs: [1, -1] as const };
    // [e^{Wx}, e^{−Wx}] as two blocks from the one product x·Wᵀ: no Neg or Concat over L×m.
    const features = (x: Value, role: 'query' | 'key') => {
      const { proj, diag } = softmaxProjection(b, x, ctx);
      return positiveFeatures(b, proj, diag, role, opts);
    };
    return linearAttention(b, features(ctx.q, 'query'), features(ctx.k, 'key'), ctx.v, ctx.config);
  },
};
