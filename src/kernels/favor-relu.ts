import { RELU_FEATURE_EPS } from '../defaults.ts';
import { reluRows } from '../reference/features.ts';
import { requireProjection } from './features.ts';
import { linearAttention } from './linear.ts';
import type { KernelSpec } from './types.ts';

/** Generalized attention with f = ReLU of a random projection: not a softmax estimator. */
export const favorReluKernel: KernelSpec = {
  name: 'favor-relu',
  role: 'linear',
  description: 'generalized attention: ReLU(Wx)/√m + ε (random projection, not a softmax estimator)',
  formula: 'φ(x) = ReLU(m^(-1/2)·W x) + ε, x = input (no d^(-1/4) scaling, as the reference code), ε = 1e-3',
  projection: true,
  featureWidth: (c) => c.features,
  supportsCausal: true,
  supportsBackward: true,
  reference: (q, k, ctx) => ({ q: reluRows(q, ctx, ctx.eps ?? RELU_FEATURE_EPS), k: reluRows(k, ctx, ctx.eps ?? RELU_FEATURE_EPS) }),
  build(b, ctx) {
    const w = requireProjection(ctx);
    const wt = b.mul(b.transpose(w.value, [1, 0]), b.scalar(ctx.config.features ** -0.5));
    const phi = (x: typeof ctx.q) => ({ blocks: [b.relu(b.matMul(x, wt))], eps: RELU_FEATURE_EPS, scale: 1 });
    return linearAttention(b, phi(ctx.q), phi(ctx.k), ctx);
  },
};
