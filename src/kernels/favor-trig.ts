import type { GraphBuilder } from '../onnx/builder.ts';
import type { Value } from '../onnx/ir.ts';
import { mseTrig } from '../reference/closed-forms.ts';
import { CAUSAL_SHIFT_HEADROOM, trigRows } from '../reference/features.ts';
import { mseOrthogonalExact } from '../reference/orthogonal-mse.ts';
import { maskedColumn, softmaxProjection } from './features.ts';
import { type Features, linearAttention } from './linear.ts';
import type { KernelContext, KernelSpec } from './types.ts';

/** Trigonometric random features: unbiased but can be negative (docs/formulas.md §2). */
export const favorTrigKernel: KernelSpec = {
  name: 'favor-trig',
  role: 'linear',
  description: 'trigonometric random features exp(‖x‖²/2)/√m·[cos Wx, sin Wx]: unbiased, can be negative',
  formula:
    'φ(x) = m^(-1/2)·[cos(Wx), sin(Wx)]·exp(‖x‖²/2 − s), x = input·d^(-1/4), no ε; queries: s = ‖x‖²/2 (the factor cancels); ' +
    'keys: s = max of ‖x‖²/2 over the sequence (bidirectional) or the first token’s ‖x‖²/2 with the exponent capped at 60 (causal, leak-free); ' +
    'denominator guard R += 2ε·(|R| ≤ ε), ε = 1e-6',
  projection: true,
  featureWidth: (c) => 2 * c.features,
  supportsCausal: true,
  supportsBackward: true,
  estimator: {
    pairTerm: (wx, wy, xx, yy) => Math.exp((xx + yy) / 2) * Math.cos(wx - wy),
    mse: mseTrig,
    orthogonalMse: (g, m, d) => mseOrthogonalExact('trig', g, m, d),
    signed: true,
  },
  reference: (q, k, ctx) => ({ q: trigRows(q, ctx, 'query'), k: trigRows(k, ctx, 'key') }),
  build(b, ctx) {
    return linearAttention(b, trigFeatures(b, ctx.q, ctx, 'query'), trigFeatures(b, ctx.k, ctx, 'key'), ctx);
  },
};

function trigFeatures(b: GraphBuilder, x: Value, ctx: KernelContext, role: 'query' | 'key'): Features {
  const { proj, diag } = softmaxProjection(b, x, ctx);
  // [cos Wx, sin Wx] as two blocks, never concatenated.
  const features = { blocks: [b.cos(proj), b.sin(proj)], eps: 0, scale: ctx.config.features ** -0.5 };
  // A query's factor exp(‖q‖²/2) multiplies its numerator and its normaliser alike: it cancels,
  // so queries carry none (and no query norm can overflow).
  if (role === 'query') return features;
  // Keys: exp(‖k‖²/2 − s), one factor per token, carried as a row scale (not multiplied into L×2m
  // features). Bidirectional: s = the largest ‖k‖²/2 of the sequence (exponents ≤ 0). Causal:
  // s = the first key's (leak-free), and exponents are capped at the headroom favor-pos uses, so a
  // later key with a far larger norm saturates instead of overflowing float32 to ∞ and NaN.
  const shift = b.stopGradient(ctx.config.causal ? b.slice(diag, [2], [0], [1]) : b.reduceMax(ctx.keyMask ? maskedColumn(b, diag, ctx.keyMask) : diag, [2, 3]));
  const exponent = b.sub(diag, shift);
  const capped = ctx.config.causal ? b.sub(exponent, b.relu(b.sub(exponent, b.scalar(CAUSAL_SHIFT_HEADROOM)))) : exponent;
  return { ...features, rowScale: b.exp(capped) };
}
