/**
 * Normalised linear attention in float64 with the explicit L×L matrix A_ij = φ(q_i)·φ(k_j):
 * independent of the graphs' product orderings, prefix sums and chunking.
 */
import { DENOMINATOR_EPS } from '../defaults.ts';
import type { AttentionShape } from './attention.ts';
import type { ReferenceFeatureMap, Rows } from './features.ts';

/** Rows of one (batch, head) of a [B, H, L, d] tensor, starting at element `offset`. */
export const rowsOf = (x: Float64Array, offset: number, L: number, d: number): Rows =>
  Array.from({ length: L }, (_, i) => Array.from(x.subarray(offset + i * d, offset + (i + 1) * d)));

/** D̂⁻¹ A V with the denominator guard R += 2ε·(|R| ≤ ε), for a kernel's float64 feature map. */
export function referenceLinearAttention(
  features: ReferenceFeatureMap,
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  shape: AttentionShape,
  w: Float64Array | undefined,
  causal: boolean,
): Float64Array {
  const { batch: B, heads: H, seqLen: L, dim: d } = shape;
  const out = new Float64Array(q.length);
  for (let bh = 0; bh < B * H; bh++) {
    const o = bh * L * d;
    const f = features(rowsOf(q, o, L, d), rowsOf(k, o, L, d), { ...(w ? { w } : {}), d, causal });
    for (let i = 0; i < L; i++) {
      let den = 0;
      const num = new Float64Array(d);
      for (let j = 0; j <= (causal ? i : L - 1); j++) {
        const a = f.q[i]!.reduce((acc, x, t) => acc + x * f.k[j]![t]!, 0);
        den += a;
        for (let c = 0; c < d; c++) num[c]! += a * v[o + j * d + c]!;
      }
      if (Math.abs(den) <= DENOMINATOR_EPS) den += 2 * DENOMINATOR_EPS;
      for (let c = 0; c < d; c++) out[o + i * d + c] = num[c]! / den;
    }
  }
  return out;
}
