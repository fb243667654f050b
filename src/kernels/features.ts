/**
 * Building blocks of the softmax-kernel feature maps (docs/formulas.md §2-§3), shared by favor-pos,
 * favor-hyp and favor-trig.
 */
import { GraphError } from '../errors.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import type { Value } from '../onnx/ir.ts';
import { CAUSAL_SHIFT_HEADROOM } from '../reference/features.ts';
import type { Features } from './linear.ts';
import type { KernelContext } from './types.ts';

/**
 * proj = x Wᵀ and diag = ‖x‖²/2 with x = input · d^(-1/4) (the √d of softmax folded into the
 * inputs). The scale is folded into the [d, m] operand, which ONNX Runtime constant-folds.
 */
export function softmaxProjection(b: GraphBuilder, input: Value, ctx: KernelContext): { proj: Value; diag: Value } {
  return { proj: b.matMul(input, scaledProjection(b, ctx)), diag: halfSquaredNorm(b, input, ctx) };
}

/** d^(-1/4)·Wᵀ, [d, m]: built from the projection initializer only, so it is constant-folded. */
export function scaledProjection(b: GraphBuilder, ctx: KernelContext): Value {
  return b.mul(b.transpose(requireProjection(ctx).value, [1, 0]), b.scalar(ctx.shape.dim ** -0.25));
}

/** ‖x‖²/2 with x = input · d^(-1/4), [.., L, 1]. */
export function halfSquaredNorm(b: GraphBuilder, input: Value, ctx: KernelContext): Value {
  return b.mul(b.reduceSum(b.mul(input, input), [-1]), b.scalar(ctx.shape.dim ** -0.5 / 2));
}

export function requireProjection(ctx: KernelContext): NonNullable<KernelContext['projection']> {
  if (!ctx.projection) throw new GraphError('kernel needs a projection matrix, but none was supplied');
  return ctx.projection;
}

/**
 * A per-token column [B, H, L, 1] with padded tokens pushed to −1e9, so a max over the sequence
 * sees real tokens only (the shifts then match an unpadded run's exactly).
 */
export function maskedColumn(b: GraphBuilder, column: Value, keyMask: Value): Value {
  return b.add(column, b.mul(b.sub(keyMask, b.scalar(1)), b.scalar(1e9)));
}

/**
 * Positive features exp(±logits − shift) + ε, scaled by `ratio` (docs/formulas.md §3): one block per sign
 * in `signs` ([1] for favor-pos; [1, −1] for favor-hyp's [e^{Wx}, e^{−Wx}], from one product).
 *
 * Queries: shift = max over all features of `±raw`, per token (cancels in the row normalisation).
 * Keys, bidirectional: shift = max of `±raw` over features and sequence, one per (batch, head),
 * as the reference code does.
 * Keys, causal: the reference's sequence-wide max lets later tokens change earlier outputs
 * (performer-pytorch #82). We shift by max(largest logit of the FIRST token, bound − 60), one
 * scalar per (batch, head) that no later token can change: outputs at positions ≤ i depend on
 * tokens ≤ i only, bit for bit. The bound term keeps every exponent ≤ 60 (no overflow). The
 * shift cancels exactly except through ε, which is thus relative to the first token's scale.
 * Every shift is a constant for differentiation, as in the reference code.
 */
export function positiveFeatures(
  b: GraphBuilder,
  raw: Value,
  diag: Value,
  role: 'query' | 'key',
  opts: { causal: boolean; eps: number; ratio: number; bound: number | Value; signs?: readonly (1 | -1)[]; keyMask?: Value | undefined },
): Features {
  const signs = opts.signs ?? [1];
  // One block of query features: exp(raw − ‖x‖²/2 − s) with any per-token s gives the same
  // attention (a query's factor cancels between numerator and normaliser), so take s = the row's
  // log-sum-exp of raw and let one Softmax node compute max, exp and sum in one pass; ‖x‖²/2 is
  // per-token too and drops out. ε then counts relative to the row's sum instead of its largest
  // feature (docs/formulas.md §3).
  if (role === 'query' && signs.length === 1) return { blocks: [b.softmax(raw, -1)], eps: opts.eps, scale: opts.ratio };
  // max of sign·x over `axes`: ReduceMax, or −ReduceMin for the negated block (no Neg pass).
  const maxOf = (x: Value, axes: number[]) => {
    const parts = signs.map((sg) => (sg === 1 ? b.reduceMax(x, axes) : b.neg(b.reduceMin(x, axes))));
    return parts.reduce((acc, p) => b.max(acc, p));
  };
  let shift: Value;
  if (role === 'query') shift = maxOf(raw, [-1]);
  else if (!opts.causal && opts.keyMask) shift = b.reduceMax(maskedColumn(b, maxOf(raw, [3]), opts.keyMask), [2]);
  else if (!opts.causal) shift = maxOf(raw, [2, 3]);
  else {
    const first = b.sub(maxOf(b.slice(raw, [2], [0], [1]), [2, 3]), b.slice(diag, [2], [0], [1]));
    const cap = typeof opts.bound === 'number' ? b.scalar(opts.bound - CAUSAL_SHIFT_HEADROOM) : b.sub(opts.bound, b.scalar(CAUSAL_SHIFT_HEADROOM));
    shift = b.max(first, cap);
  }
  // exp(±raw − diag − shift): the two offsets are added on the small [.., L, 1] column first, so
  // the L×m tensor sees one subtraction and one exponential per block.
  const offset = b.add(diag, b.stopGradient(shift));
  const negOffset = signs.includes(-1) ? b.neg(offset) : undefined;
  const blocks = signs.map((sg) => b.exp(sg === 1 ? b.sub(raw, offset) : b.sub(negOffset!, raw)));
  return { blocks, eps: opts.eps, scale: opts.ratio };
}
