/**
 * Float64 references of the linear kernels, written with plain loops and the explicit L×L
 * attention matrix A_ij = φ(q_i)·φ(k_j) — independent of the graphs' product orderings, prefix
 * sums and chunking. Same formulas, ε and stabiliser shifts as the kernel files document.
 */
import { DENOMINATOR_EPS, RELU_FEATURE_EPS, SOFTMAX_FEATURE_EPS } from '../../src/defaults.ts';
import { CAUSAL_SHIFT_HEADROOM, logitBound } from '../../src/kernels/features.ts';
import type { AttentionShape } from '../../src/kernels/types.ts';

type Rows = number[][]; // [L][r]

function project(x: Rows, w: Float64Array, d: number, scale: number): Rows {
  const m = w.length / d;
  return x.map((row) => Array.from({ length: m }, (_, f) => row.reduce((s, xc, c) => s + xc * scale * w[f * d + c]!, 0)));
}

const sq = (row: number[]) => row.reduce((s, x) => s + x * x, 0);

/** φ for queries and keys of one (batch, head); `raw` are logits before the −‖x‖²/2. */
function positive(rawQ: Rows, rawK: Rows, diagQ: number[], diagK: number[], causal: boolean, ratio: number, bound: number) {
  const q = rawQ.map((row, i) => {
    const max = Math.max(...row);
    return row.map((p) => ratio * (Math.exp(p - diagQ[i]! - max) + SOFTMAX_FEATURE_EPS));
  });
  const shift = causal
    ? Math.max(Math.max(...rawK[0]!.map((p) => p - diagK[0]!)), bound - CAUSAL_SHIFT_HEADROOM)
    : rawK.flat().reduce((a, b) => Math.max(a, b), -Infinity);
  const k = rawK.map((row, j) => row.map((p) => ratio * (Math.exp(p - diagK[j]! - shift) + SOFTMAX_FEATURE_EPS)));
  return { q, k };
}

/** Feature maps of one (batch, head) for the named kernel. */
export function referenceFeatures(kernel: string, qx: Rows, kx: Rows, w: Float64Array | undefined, d: number, causal: boolean): { q: Rows; k: Rows } {
  const s = d ** -0.25;
  const m = w ? w.length / d : 0;
  const diag = (x: Rows) => x.map((r) => (sq(r) * s * s) / 2);
  switch (kernel) {
    case 'favor-pos':
      return positive(project(qx, w!, d, s), project(kx, w!, d, s), diag(qx), diag(kx), causal, m ** -0.5, logitBound(w!, d));
    case 'favor-hyp': {
      const hyp = (x: Rows) => project(x, w!, d, s).map((r) => [...r, ...r.map((p) => -p)]);
      return positive(hyp(qx), hyp(kx), diag(qx), diag(kx), causal, (2 * m) ** -0.5, logitBound(w!, d));
    }
    case 'favor-trig': {
      const trig = (x: Rows) => {
        const dg = diag(x);
        const shift = causal ? dg[0]! : Math.max(...dg);
        return project(x, w!, d, s).map((r, i) => [...r.map(Math.cos), ...r.map(Math.sin)].map((f) => f * m ** -0.5 * Math.exp(dg[i]! - shift)));
      };
      return { q: trig(qx), k: trig(kx) };
    }
    case 'favor-relu': {
      const f = (x: Rows) => project(x, w!, d, m ** -0.5).map((r) => r.map((p) => Math.max(p, 0) + RELU_FEATURE_EPS));
      return { q: f(qx), k: f(kx) };
    }
    case 'relu':
      return { q: qx.map((r) => r.map((x) => Math.max(x, 0) + RELU_FEATURE_EPS)), k: kx.map((r) => r.map((x) => Math.max(x, 0) + RELU_FEATURE_EPS)) };
    case 'elu': {
      const f = (x: Rows) => x.map((r) => r.map((v) => (v > 0 ? v + 1 : Math.exp(v))));
      return { q: f(qx), k: f(kx) };
    }
    default:
      throw new Error(`no reference for ${kernel}`);
  }
}

/** Normalised linear attention with the explicit A matrix and the denominator guard. */
export function referenceLinearAttention(
  kernel: string, q: Float64Array, k: Float64Array, v: Float64Array, shape: AttentionShape, w: Float64Array | undefined, causal: boolean,
): Float64Array {
  const { batch: B, heads: H, seqLen: L, dim: d } = shape;
  const out = new Float64Array(q.length);
  const rows = (x: Float64Array, o: number): Rows => Array.from({ length: L }, (_, i) => Array.from(x.subarray(o + i * d, o + (i + 1) * d)));
  for (let bh = 0; bh < B * H; bh++) {
    const o = bh * L * d;
    const f = referenceFeatures(kernel, rows(q, o), rows(k, o), w, d, causal);
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
