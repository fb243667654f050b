/**
 * The layout of results files, validated when a file is read back (compare, merge): a file that
 * parses but is malformed is refused with the file and the field at fault, never a TypeError
 * later. Extra fields are allowed (newer writers add some); the fields read are checked.
 */
import { z } from 'zod';

const count = z.number().int().positive();
// JSON has no NaN or ∞: a writer's NaN arrives as null. Such records are `invalid`, not malformed.
const figure = z.number().nullable();
// A duration cannot be negative: such a file was edited or corrupted, and comparing it would
// report a speed-up that never happened.
const ms = z.number().nonnegative().nullable();

export const benchRecordSchema = z
  .object({
    kernel: z.string().min(1),
    pass: z.enum(['forward', 'backward']),
    causal: z.boolean(),
    causalImpl: z.enum(['prefix', 'chunked']),
    chunkSize: count,
    scope: z.enum(['attention', 'model', 'train']),
    seqLen: count,
    batch: count,
    heads: count,
    dim: count,
    features: count,
    featureType: z.string(),
    ep: z.string(),
    dtype: z.string(),
    layers: count.nullable(),
    dFf: count.nullable(),
    vocab: count.nullable(),
    status: z.enum(['ok', 'oom', 'error', 'skipped', 'invalid']),
    medianMs: ms,
    meanMs: ms,
    minMs: ms,
    samplesMs: z.array(ms),
    processSamples: z.array(z.number().int().nonnegative()).optional(),
    processMediansMs: z.array(ms).optional(),
    // Files written before the limit model lack these.
    limitMs: ms.optional(),
    limitFraction: figure.optional(),
    nodeProfile: z
      .array(z.object({ node: z.string(), op: z.string(), ms: figure, boundMs: figure }))
      .nullable()
      .optional(),
  })
  .passthrough();

export const errorRecordSchema = z
  .object({
    kernel: z.string().min(1),
    featureType: z.string(),
    features: count,
    target: z.string(),
    /** Absent in files written before the field existed: those are graph records. */
    estimator: z.enum(['graph', 'exact']).optional(),
    metric: z.string(),
    seqLen: count,
    dim: count,
    causal: z.boolean(),
    mean: figure,
    status: z.enum(['ok', 'invalid']).optional(),
  })
  .passthrough();

const finite = z.number();

export const trainRecordSchema = z
  .object({
    kernel: z.string().min(1),
    seed: z.number().int().nonnegative(),
    task: z.string(),
    seqLen: count,
    status: z.enum(['ok', 'diverged']),
    steps: z.number().int().nonnegative(),
    trainSeconds: z.number().nonnegative(),
    secondsPerStep: figure,
    valAcc: figure,
    testAcc: figure,
    timeToTargetS: ms,
    stepsToTarget: z.number().int().nonnegative().nullable(),
    curve: z.array(
      z
        .object({
          step: z.number().int().nonnegative(),
          seconds: z.number().nonnegative(),
          trainLoss: figure,
          trainAcc: figure,
          valLoss: figure,
          valAcc: figure,
        })
        .passthrough(),
    ),
  })
  .passthrough();

export const stepTimeRecordSchema = z
  .object({
    kernel: z.string().min(1),
    seqLen: count,
    status: z.enum(['ok', 'oom', 'failed']),
    samplesS: z.array(z.number().nonnegative()),
    medianS: z.number().nonnegative().nullable(),
    vsSoftmax: z.object({ ratio: finite, lo: finite, hi: finite }).nullable(),
    error: z.string().nullable(),
  })
  .passthrough();

export const leakRecordSchema = z
  .object({
    kernel: z.string().min(1),
    causalImpl: z.string().nullable(),
    seqLen: count,
    position: z.number().int().nonnegative(),
    maxChange: figure,
    maxOutput: figure,
  })
  .passthrough();

/**
 * The columns of a results.csv that `performer plot` reads, checked with the same rules as the
 * JSON (CSV carries no samples, and files written before booleans were spelt out leave some empty).
 */
export const benchCsvRowSchema = benchRecordSchema.pick({ kernel: true, pass: true, seqLen: true, batch: true, status: true, medianMs: true });
export const errorCsvRowSchema = errorRecordSchema
  .pick({ kernel: true, featureType: true, features: true, metric: true, mean: true })
  .extend({ std: figure, min: figure });
/** `performer theory utility`: r(φ, l) on a grid. */
export const utilityRowSchema = z.object({ angle: z.number(), norm: z.number(), ratio: figure });

export const resultsFileSchema = z
  .object({
    schemaVersion: z.number(),
    kind: z.string().optional(),
    environment: z.record(z.unknown()),
    options: z.record(z.unknown()),
    records: z.array(z.unknown()),
  })
  .passthrough();

/** The first problem of a zod error as `path: message` (e.g. `records[3].medianMs: Expected number, received string`). */
export function firstIssue(error: z.ZodError, prefix: (string | number)[] = []): string {
  const issue = error.issues[0]!;
  const path = [...prefix, ...issue.path].reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
  return `${path || '(top level)'}: ${issue.message}`;
}
