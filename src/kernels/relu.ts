import { RELU_FEATURE_EPS } from '../defaults.ts';
import { reluRows } from '../reference/features.ts';
import { linearAttention } from './linear.ts';
import type { KernelSpec } from './types.ts';

/** Deterministic ReLU features: what Long Range Arena's "Performer" actually ran. */
export const reluKernel: KernelSpec = {
  name: 'relu',
  role: 'linear',
  description: 'deterministic ReLU(x) + ε features (d wide, no projection): LRA\'s "Performer"',
  formula: 'φ(x) = ReLU(x) + ε, x = input (no scaling), ε = 1e-3',
  projection: false,
  featureWidth: (_c, d) => d,
  supportsCausal: true,
  supportsBackward: true,
  reference: (q, k, { d, causal }) => ({ q: reluRows(q, { d, causal }, RELU_FEATURE_EPS), k: reluRows(k, { d, causal }, RELU_FEATURE_EPS) }),
  build(b, ctx) {
    const phi = (x: typeof ctx.q) => ({ blocks: [b.relu(x)], eps: RELU_FEATURE_EPS, scale: 1 });
    return linearAttention(b, phi(ctx.q), phi(ctx.k), ctx);
  },
};
