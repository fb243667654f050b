/**
 * Batches for training and evaluation: the data order is a function of (seed, step) alone, so
 * every kernel trained with one seed sees the same batches, and a resumed run continues exactly.
 */
import { Rng } from '../random.ts';
import type { HostTensor } from '../runtime/session.ts';
import { type Example, type MaskingSpec, PAD } from './data/types.ts';

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
  /** The target of every counted prediction (labels, or next/masked tokens), in order: for baselines and tests. */
  readonly targets: readonly number[];
  /** Summed loss (float64, from logits), correct predictions and predictions counted. */
  score(logits: ArrayLike<number>): { loss: number; correct: number; count: number };
}

/**
 * Makes a batch from examples; `real` of them count. `key` seeds what is random in a batch (the
 * masked language model's choices): training passes (seed, step), evaluation the batch's index,
 * so every kernel and every evaluation sees the same masks.
 */
export type BatchMaker = (examples: readonly Example[], real?: number, key?: number) => Batch;

/**
 * Examples longer than `need` tokens cut to a random window of `need` (seeded by `key`), the others
 * as they are: training windows of long proteins. Evaluation keeps each sequence's beginning.
 */
export function cropExamples(examples: readonly Example[], need: number, key: number): Example[] {
  const rng = new Rng(key);
  return examples.map((e) => {
    if (e.tokens.length <= need) return e;
    const start = Math.floor(rng.uniform() * (e.tokens.length - need + 1));
    return { ...e, tokens: e.tokens.subarray(start, start + need) };
  });
}

/** The seed of training step `step`'s random choices in run seed `seed` (distinct for every pair below 2^20 steps). */
export const trainKey = (seed: number, step: number): number => seed * 2 ** 20 + step + 0x7a11;

/** BERT's proportions: 15% of maskable positions are predicted; of those 80% become the mask, 10% a random residue, 10% stay. */
export const MLM = { rate: 0.15, mask: 0.8, random: 0.1 } as const;

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
    ...tokensAndMask(examples, seqLen),
    train: { labels: { dtype: 'float32', dims: [examples.length, classes], data: labels } },
    real,
    targets: targets.slice(0, real),
    score: (logits) => ({ ...scoreLogits(logits, targets, classes, real), count: real }),
  };
}

/** Scores the positions with tmask 1 in the first `real` rows: a language model's predictions. */
function positionBatch(
  tokens: HostTensor,
  mask: HostTensor,
  targets: BigInt64Array,
  tmask: Float32Array,
  B: number,
  seqLen: number,
  vocab: number,
  real: number,
): Batch {
  const counted: number[] = [];
  for (let p = 0; p < real * seqLen; p++) if (tmask[p]) counted.push(Number(targets[p]));
  return {
    tokens,
    mask,
    real,
    targets: counted,
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

/**
 * Masked language model (BERT): each maskable token is chosen with probability {@link MLM}.rate;
 * a chosen one is replaced by the mask (80%), a random id of [randomLo, randomHi) (10%), or kept
 * (10%), and its original id is the target. Loss and accuracy count chosen positions only.
 */
export function makeMlmBatch(examples: readonly Example[], seqLen: number, vocab: number, masking: MaskingSpec, key: number, real = examples.length): Batch {
  const B = examples.length;
  const { tokens, mask } = tokensAndMask(examples, seqLen);
  const ids = tokens.data as BigInt64Array;
  const targets = new BigInt64Array(B * seqLen).fill(BigInt(PAD));
  const tmask = new Float32Array(B * seqLen);
  const rng = new Rng(key);
  for (let p = 0; p < B * seqLen; p++) {
    const id = Number(ids[p]);
    if (id < masking.firstMaskable || rng.uniform() >= MLM.rate) continue;
    targets[p] = ids[p]!;
    tmask[p] = 1;
    const u = rng.uniform();
    if (u < MLM.mask) ids[p] = BigInt(masking.mask);
    else if (u < MLM.mask + MLM.random) ids[p] = BigInt(masking.randomLo + Math.floor(rng.uniform() * (masking.randomHi - masking.randomLo)));
  }
  // A batch with no chosen position would divide the loss by zero (a NaN read as divergence): at
  // least one maskable position is masked. Only tiny batches get here (P ≈ 0.85^tokens).
  if (!tmask.some((x) => x > 0)) {
    const maskable = [...ids.keys()].filter((p) => Number(ids[p]) >= masking.firstMaskable);
    const p = maskable[Math.floor(rng.uniform() * maskable.length)];
    if (p !== undefined) {
      targets[p] = ids[p]!;
      tmask[p] = 1;
      ids[p] = BigInt(masking.mask);
    }
  }
  return positionBatch(tokens, mask, targets, tmask, B, seqLen, vocab, real);
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
  const { tokens, mask } = tokensAndMask(examples, seqLen);
  return positionBatch(tokens, mask, targets, tmask, B, seqLen, vocab, real);
}

/** Consecutive batches covering `examples` once; the last is filled up with its first example. */
export function evaluationBatches(examples: readonly Example[], batch: number, make: BatchMaker, limit?: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < examples.length && (limit === undefined || out.length < limit); i += batch) {
    const part = examples.slice(i, i + batch);
    const real = part.length;
    while (part.length < batch) part.push(part[0]!);
    out.push(make(part, real, out.length));
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
