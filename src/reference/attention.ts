/**
 * Exact softmax attention in float64 (docs/formulas.md §1): the reference every measured error and test
 * compares against. Tensors are row-major Float64Array of shape [B, H, L, d].
 */
/** Sizes of one attention problem. */
export interface AttentionShape {
  readonly batch: number;
  readonly heads: number;
  readonly seqLen: number;
  readonly dim: number;
}

export interface ExactAttention {
  readonly out: Float64Array;
  /** Attention rows P [B, H, L, L] (softmax probabilities). */
  readonly probs: Float64Array;
}

/** out = softmax(QKᵀ/√d + M) V, M = −∞ above the diagonal when causal. */
export function exactAttention(q: Float64Array, k: Float64Array, v: Float64Array, shape: AttentionShape, causal: boolean): ExactAttention {
  const { batch: B, heads: H, seqLen: L, dim: d } = shape;
  const out = new Float64Array(B * H * L * d);
  const probs = new Float64Array(B * H * L * L);
  const scale = 1 / Math.sqrt(d);
  for (let bh = 0; bh < B * H; bh++) {
    const o = bh * L * d;
    for (let i = 0; i < L; i++) {
      const row = probs.subarray((bh * L + i) * L, (bh * L + i + 1) * L);
      const last = causal ? i : L - 1;
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q[o + i * d + c]! * k[o + j * d + c]!;
        row[j] = s * scale;
        max = Math.max(max, row[j]!);
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) sum += row[j] = Math.exp(row[j]! - max);
      for (let j = 0; j <= last; j++) {
        row[j]! /= sum;
        for (let c = 0; c < d; c++) out[o + i * d + c]! += row[j]! * v[o + j * d + c]!;
      }
    }
  }
  return { out, probs };
}

/** Closed-form gradients of sum(out · dO): dV = Pᵀ dO, dS = P ∘ (dO Vᵀ − rowsum), dQ = dS K/√d, dK = dSᵀ Q/√d. */
export function exactAttentionGrad(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  dOut: Float64Array,
  shape: AttentionShape,
  causal: boolean,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { batch: B, heads: H, seqLen: L, dim: d } = shape;
  const { probs } = exactAttention(q, k, v, shape, causal);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  const scale = 1 / Math.sqrt(d);
  const dp = new Float64Array(L);
  for (let bh = 0; bh < B * H; bh++) {
    const o = bh * L * d;
    for (let i = 0; i < L; i++) {
      const p = probs.subarray((bh * L + i) * L, (bh * L + i + 1) * L);
      let rowDot = 0;
      for (let j = 0; j < L; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += dOut[o + i * d + c]! * v[o + j * d + c]!;
        dp[j] = s;
        rowDot += s * p[j]!;
      }
      for (let j = 0; j < L; j++) {
        const ds = p[j]! * (dp[j]! - rowDot) * scale;
        for (let c = 0; c < d; c++) {
          dv[o + j * d + c]! += p[j]! * dOut[o + i * d + c]!;
          dq[o + i * d + c]! += ds * k[o + j * d + c]!;
          dk[o + j * d + c]! += ds * q[o + i * d + c]!;
        }
      }
    }
  }
  return { dq, dk, dv };
}
