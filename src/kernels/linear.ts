/**
 * Linear attention given feature maps: Att ≈ D̂⁻¹ (Q′ ((K′)ᵀ [V 1])) (PAPER.md §1, §4).
 * A ones column appended to V makes one product yield numerator and normaliser together.
 */
import { DENOMINATOR_EPS } from '../defaults.ts';
import type { GraphBuilder } from '../onnx/builder.ts';
import type { Value } from '../onnx/ir.ts';
import type { KernelConfig } from './types.ts';

/** out = num[..., :d] / guard(num[..., d]); guard: R += 2ε·(|R| ≤ ε) (PAPER.md §3). */
export function normalize(b: GraphBuilder, num: Value): Value {
  const d = num.shape.at(-1)! - 1;
  const numer = b.slice(num, [-1], [0], [d]);
  const den = b.slice(num, [-1], [d], [d + 1]);
  const small = b.lessOrEqual(b.abs(den), b.scalar(DENOMINATOR_EPS));
  const guarded = b.where(small, b.add(den, b.scalar(2 * DENOMINATOR_EPS)), den);
  return b.div(numer, guarded);
}

/** [V 1]: V with a ones column, [B, H, L, d+1]. */
function withOnes(b: GraphBuilder, v: Value): Value {
  return b.concat([v, b.fill([...v.shape.slice(0, -1), 1], 1)], -1);
}

/**
 * Features φ = scale · rowScale ⊙ (value + eps), kept factored so the graph never spends a full
 * pass over an L×r tensor on adding ε or multiplying by a scale: a key's row scale multiplies
 * its row of [V 1], a query's row scale its row of the numerator.
 */
export interface Features {
  readonly value: Value;
  readonly eps: number;
  readonly scale: number;
  /** Per-token factor [B, H, L, 1], or none. */
  readonly rowScale?: Value;
}

/** [V 1] with each key's row scale applied: K′ᵀ[V 1] is then E_kᵀ(r ⊙ [V 1]). */
const keyRows = (b: GraphBuilder, fk: Features, vp: Value) => (fk.rowScale ? b.mul(vp, fk.rowScale) : vp);
/** The numerator with each query's row scale applied. */
const queryRows = (b: GraphBuilder, fq: Features, num: Value) => (fq.rowScale ? b.mul(num, fq.rowScale) : num);

/** value + ε materialised (the causal strategies need it); the scale is applied to the result. */
function withEps(b: GraphBuilder, f: Features): Value {
  return f.eps ? b.add(f.value, b.scalar(f.eps)) : f.value;
}

/**
 * Q′ (K′ᵀ [V 1]): O(L r d) time, O(r d) extra memory. With φ = s·(E + ε):
 * K′ᵀ[V 1] = s_k·(E_kᵀ[V 1] + ε_k·1ᵀ[V 1]) and Q′·S = s_q·(E_q S + ε_q·1ᵀS): the ε terms are
 * rank-1 corrections of the small r×(d+1) state, and the scales multiply that state.
 */
function bidirectional(b: GraphBuilder, fq: Features, fk: Features, vp: Value): Value {
  const rows = keyRows(b, fk, vp);
  let kv = b.matMul(b.transposeLast(fk.value), rows);
  if (fk.eps) kv = b.add(kv, b.mul(b.reduceSum(rows, [2]), b.scalar(fk.eps)));
  if (fq.scale * fk.scale !== 1) kv = b.mul(kv, b.scalar(fq.scale * fk.scale));
  const num = b.matMul(fq.value, kv);
  return queryRows(b, fq, fq.eps ? b.add(num, b.mul(b.reduceSum(kv, [2]), b.scalar(fq.eps))) : num);
}

/** Row i is Q′_i · Σ_{j≤i} K′_j [V 1]_jᵀ via CumSum of outer products: O(L r d) memory. */
function prefix(b: GraphBuilder, fq: Value, fk: Value, vp: Value): Value {
  const outer = b.mul(b.unsqueeze(fk, [-1]), b.unsqueeze(vp, [-2]));
  const sums = b.cumSum(outer, 2);
  return b.squeeze(b.matMul(b.unsqueeze(fq, [-2]), sums), [-2]);
}

/**
 * Blocks of C tokens: an exact masked product inside each block plus the running r×(d+1) state of
 * all earlier blocks (an exclusive CumSum over blocks). Any L: the sequence is padded at the end,
 * which only touches positions ≥ L, which are dropped.
 */
function chunked(b: GraphBuilder, fq: Value, fk: Value, vp: Value, chunkSize: number): Value {
  const [B, H, L] = fq.shape as [number, number, number];
  const e = vp.shape[3]!;
  const C = Math.min(chunkSize, L);
  const nc = Math.ceil(L / C);
  const pad = nc * C - L;
  const padded = (x: Value) => (pad ? b.concat([x, b.fill([B, H, pad, x.shape[3]!], 0)], 2) : x);
  const blocks = (x: Value) => b.reshape(padded(x), [B, H, nc, C, x.shape[3]!]);
  const qc = blocks(fq);
  const kc = blocks(fk);
  const vc = blocks(vp);
  const mask = b.constant(lowerTriangle(C), [C, C]);
  const intra = b.matMul(b.mul(b.matMul(qc, b.transposeLast(kc)), mask), vc);
  const states = b.cumSum(b.matMul(b.transposeLast(kc), vc), 2, { exclusive: true });
  const num = b.reshape(b.add(intra, b.matMul(qc, states)), [B, H, nc * C, e]);
  return pad ? b.slice(num, [2], [0], [L]) : num;
}

function lowerTriangle(c: number): Float64Array {
  const m = new Float64Array(c * c);
  for (let i = 0; i < c; i++) for (let j = 0; j <= i; j++) m[i * c + j] = 1;
  return m;
}

/** Normalised linear attention of features fq, fk [B, H, L, r] over v [B, H, L, d]. */
export function linearAttention(b: GraphBuilder, fq: Features, fk: Features, v: Value, config: KernelConfig): Value {
  const vp = withOnes(b, v);
  if (!config.causal) return normalize(b, bidirectional(b, fq, fk, vp));
  const [q, k, rows] = [withEps(b, fq), withEps(b, fk), keyRows(b, fk, vp)];
  const num = queryRows(b, fq, config.causalImpl === 'prefix' ? prefix(b, q, k, rows) : chunked(b, q, k, rows, config.chunkSize));
  // Both scales multiply every entry of num: one pass over L×(d+1) instead of two over L×r.
  const scale = fq.scale * fk.scale;
  return normalize(b, scale !== 1 ? b.mul(num, b.scalar(scale)) : num);
}
