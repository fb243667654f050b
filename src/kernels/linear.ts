/**
 * Linear attention given feature maps: Att ≈ D̂⁻¹ (Q′ ((K′)ᵀ [V 1])) (docs/formulas.md §1, §4).
 * A ones column appended to V makes one product K′ᵀ[V 1] yield numerator and normaliser state.
 */
import { DENOMINATOR_EPS } from '../defaults.ts';
import { GraphError } from '../errors.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import type { Value } from '../onnx/ir.ts';
import type { KernelContext } from './types.ts';

/**
 * numer / guard(den); guard: R += 2ε·(|R| ≤ ε) (docs/formulas.md §3), written as that sum with a
 * cast mask rather than a Where of two branches: the same numbers (R + 0 is R), and the gradient
 * reaches R through one Add instead of two Wheres and a sum (ONNX Runtime's Where with a scalar
 * branch walks its broadcast element by element).
 */
export function normalize(b: GraphBuilder, numer: Value, den: Value): Value {
  const small = b.cast(b.lessOrEqual(b.abs(den), b.scalar(DENOMINATOR_EPS)), den.dtype);
  const guarded = b.add(den, b.mul(small, b.scalar(2 * DENOMINATOR_EPS)));
  return b.div(numer, guarded);
}

/** Splits x [.., d+1] into its first d columns and its last one. */
function splitLast(b: GraphBuilder, x: Value): [Value, Value] {
  const d = x.shape.at(-1)! - 1;
  return [b.slice(x, [-1], [0], [d]), b.slice(x, [-1], [d], [d + 1])];
}

/** [V 1]: V with a ones column, [B, H, L, d+1]. */
function withOnes(b: GraphBuilder, v: Value): Value {
  return b.concat([v, b.fill([...v.shape.slice(0, -1), 1], 1)], -1);
}

/**
 * Features φ = scale · rowScale ⊙ ([block₁ … block_n] + eps), kept factored so the graph never
 * spends a full pass over an L×r tensor on adding ε, multiplying by a scale, or concatenating
 * blocks: a key's row scale multiplies its row of [V 1], a query's row scale its row of the
 * numerator, and each block of query features meets the same block of key features in its own
 * product (φ(q)ᵀφ(k) = Σ_i φ_i(q)ᵀφ_i(k)), so favor-hyp's [e^{Wx}, e^{−Wx}] and favor-trig's
 * [cos Wx, sin Wx] are never concatenated.
 */
export interface Features {
  /** Feature blocks [B, H, L, r_i]; query and key features have the same block widths. */
  readonly blocks: readonly Value[];
  readonly eps: number;
  readonly scale: number;
  /** Per-token factor [B, H, L, 1], or none. */
  readonly rowScale?: Value;
}

/** [V 1] with each key's row scale applied: K′ᵀ[V 1] is then E_kᵀ(r ⊙ [V 1]). */
const keyRows = (b: GraphBuilder, fk: Features, vp: Value) => (fk.rowScale ? b.mul(vp, fk.rowScale) : vp);
/** The numerator with each query's row scale applied. */
const queryRows = (b: GraphBuilder, fq: Features, num: Value) => (fq.rowScale ? b.mul(num, fq.rowScale) : num);

const sum = (b: GraphBuilder, xs: readonly Value[]) => xs.reduce((acc, x) => b.add(acc, x));

/** block + ε materialised (the causal strategies need it); the scale is applied to the result. */
function withEps(b: GraphBuilder, f: Features): Value[] {
  return f.blocks.map((x) => (f.eps ? b.add(x, b.scalar(f.eps)) : x));
}

/**
 * Q′ (K′ᵀ [V 1]): O(L r d) time, O(r d) extra memory. With φ = s·(E + ε):
 * K′ᵀ[V 1] = s_k·(E_kᵀ[V 1] + ε_k·1ᵀ[V 1]) and Q′·S = s_q·(E_q S + ε_q·1ᵀS): the ε terms are
 * rank-1 corrections of the small r×(d+1) state, and the scales multiply that state.
 * The query side is two products, E_q·S[:, :d] and E_q·S[:, d]: ONNX Runtime's CPU GEMM packs
 * a right operand in 16-column panels, so one product with d+1 = 65 columns costs about 5/4 of
 * one with 64 (L = 16384, m = 256, 8 heads, per-node profile: 88–92 ms against 69 + 10 ms).
 * The key side keeps the ones column: there a 65-column product beats 64 columns plus a
 * ReduceSum over E_k (98 ms against 112 ms). The reverse pass joins the two again (autodiff's
 * joinedProducts and joinedPieces).
 */
function bidirectional(b: GraphBuilder, fq: Features, fk: Features, vp: Value): [Value, Value] {
  const rows = keyRows(b, fk, vp);
  const colSums = fk.eps ? b.mul(b.reduceSum(rows, [2]), b.scalar(fk.eps)) : undefined;
  const parts = fk.blocks.map((ek, i) => {
    let kv = b.matMul(b.transposeLast(ek), rows);
    if (colSums) kv = b.add(kv, colSums);
    if (fq.scale * fk.scale !== 1) kv = b.mul(kv, b.scalar(fq.scale * fk.scale));
    const corrections = fq.eps ? splitLast(b, b.mul(b.reduceSum(kv, [2]), b.scalar(fq.eps))) : undefined;
    return splitLast(b, kv).map((x, j) => {
      const out = b.matMul(fq.blocks[i]!, x);
      return corrections ? b.add(out, corrections[j]!) : out;
    });
  });
  return [0, 1].map((j) =>
    queryRows(
      b,
      fq,
      sum(
        b,
        parts.map((p) => p[j]!),
      ),
    ),
  ) as [Value, Value];
}

/** Row i is Q′_i · Σ_{j≤i} K′_j [V 1]_jᵀ via CumSum of outer products: O(L r d) memory. */
function prefix(b: GraphBuilder, fq: readonly Value[], fk: readonly Value[], vp: Value): Value {
  return sum(
    b,
    fq.map((q, i) => {
      const sums = b.cumSum(b.mul(b.unsqueeze(fk[i]!, [-1]), b.unsqueeze(vp, [-2])), 2);
      return b.squeeze(b.matMul(b.unsqueeze(q, [-2]), sums), [-2]);
    }),
  );
}

/**
 * Blocks of C tokens: an exact masked product inside each block plus the running r×(d+1) state of
 * all earlier blocks (an exclusive CumSum over blocks). Any L: the sequence is padded at the end,
 * which only touches positions ≥ L, which are dropped.
 */
function chunked(b: GraphBuilder, fq: readonly Value[], fk: readonly Value[], vp: Value, chunkSize: number): Value {
  const [B, H, L] = vp.shape as [number, number, number];
  const e = vp.shape[3]!;
  const C = Math.min(chunkSize, L);
  const nc = Math.ceil(L / C);
  const pad = nc * C - L;
  const padded = (x: Value) => (pad ? b.concat([x, b.fill([B, H, pad, x.shape[3]!], 0)], 2) : x);
  const blocks = (x: Value) => b.reshape(padded(x), [B, H, nc, C, x.shape[3]!]);
  const qc = fq.map(blocks);
  const kc = fk.map(blocks);
  const vc = blocks(vp);
  const mask = b.constant(lowerTriangle(C), [C, C]);
  const scores = sum(
    b,
    qc.map((q, i) => b.matMul(q, b.transposeLast(kc[i]!))),
  );
  const intra = b.matMul(b.mul(scores, mask), vc);
  const inter = qc.map((q, i) => b.matMul(q, b.cumSum(b.matMul(b.transposeLast(kc[i]!), vc), 2, { exclusive: true })));
  const num = b.reshape(sum(b, [intra, ...inter]), [B, H, nc * C, e]);
  return pad ? b.slice(num, [2], [0], [L]) : num;
}

function lowerTriangle(c: number): Float64Array {
  const m = new Float64Array(c * c);
  for (let i = 0; i < c; i++) for (let j = 0; j <= i; j++) m[i * c + j] = 1;
  return m;
}

/**
 * Normalised linear attention of features fq, fk (blocks [B, H, L, r_i]) over ctx.v [B, H, L, d].
 * A key mask zeroes padded keys' rows of [V 1], which removes their φ(k) from every sum (ε
 * included), as an additive −∞ removes them from softmax.
 */
export function linearAttention(b: GraphBuilder, fq: Features, fk: Features, ctx: Pick<KernelContext, 'v' | 'config' | 'keyMask'>): Value {
  const { config } = ctx;
  if (fq.blocks.length !== fk.blocks.length || fq.blocks.some((q, i) => q.shape.at(-1) !== fk.blocks[i]!.shape.at(-1))) {
    throw new GraphError('query and key features must have the same blocks');
  }
  const vp = ctx.keyMask ? b.mul(withOnes(b, ctx.v), ctx.keyMask) : withOnes(b, ctx.v);
  if (!config.causal) return normalize(b, ...bidirectional(b, fq, fk, vp));
  const [q, k, rows] = [withEps(b, fq), withEps(b, fk), keyRows(b, fk, vp)];
  const num = queryRows(b, fq, config.causalImpl === 'prefix' ? prefix(b, q, k, rows) : chunked(b, q, k, rows, config.chunkSize));
  // Both scales multiply every entry of num: one pass over L×(d+1) instead of two over L×r.
  const scale = fq.scale * fk.scale;
  return normalize(b, ...splitLast(b, scale !== 1 ? b.mul(num, b.scalar(scale)) : num));
}
