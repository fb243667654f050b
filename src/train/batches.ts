/**
 * Batches for training and evaluation: the data order is a function of (seed, step) alone, so
 * every kernel trained with one seed sees the same batches, and a resumed run continues exactly.
 */
import { Rng } from '../kernels/projection.ts';
import type { HostTensor } from '../runtime/session.ts';
import { PAD, type Example } from './data/types.ts';

/** A permutation of 0..n−1 for one epoch of one seed (Fisher–Yates). */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const rng = new Rng(seed * 100_003 + epoch + 1);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** The training examples of step `step` (counted from 0): consecutive slices of the epochs' permutations. */
export function trainBatchIndices(n: number, batch: number, seed: number, step: number, cache = new Map<number, Int32Array>()): number[] {
  return Array.from({ length: batch }, (_, j) => {
    const pos = step * batch + j;
    const epoch = Math.floor(pos / n);
    if (!cache.has(epoch)) cache.set(epoch, epochOrder(n, seed, epoch));
    return cache.get(epoch)![pos % n]!;
  });
}

export interface Batch {
  readonly tokens: HostTensor;
  readonly mask: HostTensor;
  readonly labels: HostTensor;
  /** Examples in the batch that count (an evaluation's last batch repeats one to fill up). */
  readonly real: number;
  readonly targets: readonly number[];
}

/** Pads (or truncates) each example to seqLen; mask 1 on tokens, 0 on padding; one-hot labels. */
export function makeBatch(examples: readonly Example[], seqLen: number, classes: number, real = examples.length): Batch {
  const B = examples.length;
  const tokens = new BigInt64Array(B * seqLen).fill(BigInt(PAD));
  const mask = new Float32Array(B * seqLen);
  const labels = new Float32Array(B * classes);
  examples.forEach((e, b) => {
    const n = Math.min(e.tokens.length, seqLen);
    for (let i = 0; i < n; i++) {
      tokens[b * seqLen + i] = BigInt(e.tokens[i]!);
      mask[b * seqLen + i] = 1;
    }
    labels[b * classes + e.label] = 1;
  });
  return {
    tokens: { dtype: 'int64', dims: [B, seqLen], data: tokens },
    mask: { dtype: 'float32', dims: [B, seqLen], data: mask },
    labels: { dtype: 'float32', dims: [B, classes], data: labels },
    real,
    targets: examples.map((e) => e.label),
  };
}

/** Consecutive batches covering `examples` once; the last is filled up with its first example. */
export function evaluationBatches(examples: readonly Example[], batch: number, seqLen: number, classes: number, limit?: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < examples.length && (limit === undefined || out.length < limit); i += batch) {
    const part = examples.slice(i, i + batch);
    const real = part.length;
    while (part.length < batch) part.push(part[0]!);
    out.push(makeBatch(part, seqLen, classes, real));
  }
  return out;
}

/** Mean cross-entropy (float64, from logits) and accuracy of the first `real` rows. */
export function scoreLogits(logits: ArrayLike<number>, targets: readonly number[], classes: number, real: number): { loss: number; correct: number } {
  let loss = 0;
  let correct = 0;
  for (let b = 0; b < real; b++) {
    const row = Array.from({ length: classes }, (_, c) => logits[b * classes + c]!);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0));
    loss += lse - row[targets[b]!]!;
    if (row.indexOf(max) === targets[b]) correct++;
  }
  return { loss, correct };
}
