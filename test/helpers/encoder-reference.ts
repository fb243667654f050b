/** Float64 reference of the encoder of src/model/encoder.ts with exact softmax attention, plain loops. */
import { LAYER_NORM_EPS, type ModelShape, type Param } from '../../src/model/encoder.ts';
import { exactAttention } from '../../src/reference/attention.ts';

type M = number[][];
const matmul = (a: M, w: Float64Array, cols: number): M =>
  a.map((row) => Array.from({ length: cols }, (_, j) => row.reduce((s, x, k) => s + x * w[k * cols + j]!, 0)));
const addRow = (a: M, v: Float64Array): M => a.map((row) => row.map((x, j) => x + v[j]!));
const add = (a: M, b: M): M => a.map((row, i) => row.map((x, j) => x + b[i]![j]!));
const layerNorm = (a: M, g: Float64Array, beta: Float64Array): M =>
  a.map((row) => {
    const mean = row.reduce((s, x) => s + x, 0) / row.length;
    const v = row.reduce((s, x) => s + (x - mean) ** 2, 0) / row.length;
    return row.map((x, j) => ((x - mean) / Math.sqrt(v + LAYER_NORM_EPS)) * g[j]! + beta[j]!);
  });

export function referenceLoss(s: ModelShape, params: readonly Param[], tokens: readonly number[][]): number {
  const P = new Map(params.map((p) => [p.name, p.data]));
  const D = s.dModel;
  const dh = D / s.heads;
  let total = 0;
  for (const seq of tokens) {
    let x: M = seq.map((t, i) => Array.from({ length: D }, (_, j) => P.get('embedding')![t * D + j]! + P.get('positions')![i * D + j]!));
    for (let l = 0; l < s.layers; l++) {
      const w = (n: string) => P.get(`layer${l}.${n}`)!;
      const [q, k, v] = ['wq', 'wk', 'wv'].map((n) => matmul(x, w(n), D));
      // [L, D] → [1, H, L, dh] row-major for the attention reference
      const split = (m: M) =>
        Float64Array.from({ length: s.heads * s.seqLen * dh }, (_, idx) => {
          const h = Math.floor(idx / (s.seqLen * dh));
          const i = Math.floor(idx / dh) % s.seqLen;
          return m[i]![h * dh + (idx % dh)]!;
        });
      const att = exactAttention(split(q!), split(k!), split(v!), { batch: 1, heads: s.heads, seqLen: s.seqLen, dim: dh }, false).out;
      const merged: M = x.map((_, i) => Array.from({ length: D }, (_, j) => att[(Math.floor(j / dh) * s.seqLen + i) * dh + (j % dh)]!));
      x = layerNorm(add(x, matmul(merged, w('wo'), D)), w('ln1.gamma'), w('ln1.beta'));
      const hidden = addRow(matmul(x, w('ff.w1'), s.dFf), w('ff.b1')).map((r) => r.map((z) => Math.max(z, 0)));
      x = layerNorm(add(x, addRow(matmul(hidden, w('ff.w2'), D), w('ff.b2'))), w('ln2.gamma'), w('ln2.beta'));
    }
    total += matmul(x, P.get('w_out')!, 1).reduce((acc, r) => acc + r[0]!, 0);
  }
  return total / (tokens.length * s.seqLen);
}
