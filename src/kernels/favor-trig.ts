import type { GraphBuilder } from '../onnx/builder.ts';
import type { Value } from '../onnx/ir.ts';
import { mseTrig } from '../reference/closed-forms.ts';
import { trigRows } from '../reference/features.ts';
import { softmaxProjection } from './features.ts';
import { type Features, linearAttention } from './linear.ts';
import type { KernelContext, KernelSpec } from './types.ts';

/** Trigonometric random features: unbiased but can be negative (docs/formulas.md §2). */
export const favorTrigKernel: KernelSpec = {
  name: 'favor-trig',
  role: 'linear',
  description: 'trigonometric random features exp(‖x‖²/2)/√m·[cos Wx, sin Wx]: unbiased, can be negative',
  formula:
    'φ(x) = m^(-1/2)·[cos(Wx), sin(Wx)]·exp(‖x‖²/2 − s), x = input·d^(-1/4), no ε; s = max of ‖x‖²/2 over the sequence ' +
    '(bidirectional) or the first token’s ‖x‖²/2 (causal, leak-free); denominator guard R += 2ε·(|R| ≤ ε), ε = 1e-6',
  projection: true,
  featureWidth: (c) => 2 * c.features,
  supportsCausal: true,
  supportsBackward: true,
  estimator: {
    pairTerm: (wx, wy, xx, yy) => Math.exp((xx + yy) / 2) * Math.cos(wx - wy),
    mse: mseTrig,
    signed: true,
  },
  reference: (q, k, ctx) => ({ q: trigRows(q, ctx), k: trigRows(k, ctx) }),
  build(b, ctx) {
    return linearAttention(b, trigFeatures(b, ctx.q, ctx), trigFeatures(b, ctx.k, ctx), ctx.v, ctx.config);
  },
};

function trigFeatures(b: GraphBuilder, x: Value, ctx: KernelContext): Features {
  const { proj, diag } = softmaxProjection(b, x, ctx);
  // The shift is common to every token of the sequence, so it cancels in the normalisation.
  const shift = ctx.config.causal ? b.slice(diag, [2], [0], [1]) : b.reduceMax(diag, [2, 3]);
  // exp(‖x‖²/2 − s) is one factor per token: carried as a row scale, not multiplied into L×2m features.
  const rowScale = b.exp(b.sub(diag, b.stopGradient(shift)));
  // [cos Wx, sin Wx] as two blocks, never concatenated.
  return { blocks: [b.cos(proj), b.sin(proj)], eps: 0, scale: ctx.config.features ** -0.5, rowScale };
}
