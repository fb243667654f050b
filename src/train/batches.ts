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
  /** The training graph's other inputs: `labels` (classification) or `targets` and `tmask` (language model). */
  readonly train: Record<string, HostTensor>;
  /** Examples in the batch that count (an evaluation's last batch repeats one to fill up). */
  readonly real: number;
  /** Summed loss (float64, from logits), correct predictions and predictions counted. */
  score(logits: ArrayLike<number>): { loss: number; correct: number; count: number };
}

/** Makes a batch from examples; `real` of them count. */
export type BatchMaker = (examples: readonly Example[], real?: number) => Batch;

/** Tokens padded (or truncated) to seqLen, with mask 1 on tokens and 0 on padding. */
function tokensAndMask(examples: readonly Example[], seqLen: number) {
  const B = examples.length;
  const tokens = new BigInt64Array(B * seqLen).fill(BigInt(PAD));
  const mask = new Float32Array(B * seqLen);
  examples.forEach((e, b) => {
    const n = Math.min(e.tokens.length, seqLen);
    for (let i = 0; i < n; i++) {
      tokens[b * seqLen + i] = BigInt(e.tokens[i]!);
      mask[b * seqLen + i] = 1;
    }
  });
  return { tokens: { dtype: 'int64', dims: [B, seqLen], data: tokens } as HostTensor, mask: { dtype: 'float32', dims: [B, seqLen], data: mask } as HostTensor };
}

/** Classification: one-hot labels [B, C]; one prediction per example. */
export function makeBatch(examples: readonly Example[], seqLen: number, classes: number, real = examples.length): Batch {
  const labels = new Float32Array(examples.length * classes);
  examples.forEach((e, b) => (labels[b * classes + e.label] = 1));
  const targets = examples.map((e) => e.label);
  return {
    ...tokensAndMask(examples, seqLen), train: { labels: { dtype: 'float32', dims: [examples.length, classes], data: labels } }, real,
    score: (logits) => ({ ...scoreLogits(logits, targets, classes, real), count: real }),
  };
}

/**
 * Language model: position i predicts token i + 1 (`targets` [B, L] int64, `tmask` 1 where a next
 * token exists); examples need seqLen + 1 tokens to fill a row.
 */
export function makeLmBatch(examples: readonly Example[], seqLen: number, vocab: number, real = examples.length): Batch {
  const B = examples.length;
  const targets = new BigInt64Array(B * seqLen).fill(BigInt(PAD));
  const tmask = new Float32Array(B * seqLen);
  examples.forEach((e, b) => {
    for (let i = 0; i + 1 < Math.min(e.tokens.length, seqLen + 1); i++) {
      targets[b * seqLen + i] = BigInt(e.tokens[i + 1]!);
      tmask[b * seqLen + i] = 1;
    }
  });
  return {
    ...tokensAndMask(examples, seqLen), real,
    train: { targets: { dtype: 'int64', dims: [B, seqLen], data: targets }, tmask: { dtype: 'float32', dims: [B, seqLen], data: tmask } },
    score: (logits) => {
      let loss = 0;
      let correct = 0;
      let count = 0;
      for (let p = 0; p < real * seqLen; p++) {
        if (!tmask[p]) continue;
        const s = scoreRow(logits, p * vocab, vocab, Number(targets[p]));
        loss += s.loss;
        correct += s.correct;
        count++;
      }
      return { loss, correct, count };
    },
  };
}

/** Consecutive batches covering `examples` once; the last is filled up with its first example. */
export function evaluationBatches(examples: readonly Example[], batch: number, make: BatchMaker, limit?: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < examples.length && (limit === undefined || out.length < limit); i += batch) {
    const part = examples.slice(i, i + batch);
    const real = part.length;
    while (part.length < batch) part.push(part[0]!);
    out.push(make(part, real));
  }
  return out;
}

/** Summed cross-entropy (float64, from logits) and correct predictions of the first `real` rows. */
export function scoreLogits(logits: ArrayLike<number>, targets: readonly number[], classes: number, real: number): { loss: number; correct: number } {
  let loss = 0;
  let correct = 0;
  for (let b = 0; b < real; b++) {
    const s = scoreRow(logits, b * classes, classes, targets[b]!);
    loss += s.loss;
    correct += s.correct;
  }
  return { loss, correct };
}

/** One row of logits at `offset`: its cross-entropy for `target` and whether the first argmax is it. */
function scoreRow(logits: ArrayLike<number>, offset: number, classes: number, target: number): { loss: number; correct: number } {
  let max = -Infinity;
  let arg = 0;
  for (let c = 0; c < classes; c++) {
    if (logits[offset + c]! > max) {
      max = logits[offset + c]!;
      arg = c;
    }
  }
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[offset + c]! - max);
  // A NaN logit makes the sum NaN: such a row scores NaN and counts as wrong, as Math.max would have it.
  return { loss: max + Math.log(sum) - logits[offset + target]!, correct: arg === target && !Number.isNaN(sum) ? 1 : 0 };
}
