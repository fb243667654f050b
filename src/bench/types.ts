/** The data of a bench run: points to measure and the records they become (the results schema). */
import type { FeatureType } from '../kernels/projection.ts';
import type { Pass } from '../kernels/build.ts';
import type { CausalImpl } from '../kernels/types.ts';
import type { DType } from '../onnx/ir.ts';
import type { ExecutionProvider } from '../runtime/session.ts';

export const SCHEMA_VERSION = 1;

export type Scope = 'attention' | 'model';

/** One measurement: a kernel, a pass and a size. */
export interface BenchPoint {
  readonly kernel: string;
  readonly pass: Pass;
  readonly causal: boolean;
  readonly causalImpl: CausalImpl;
  readonly chunkSize: number;
  readonly scope: Scope;
  readonly seqLen: number;
  readonly batch: number;
  readonly heads: number;
  readonly dim: number;
  readonly features: number;
  readonly featureType: FeatureType;
  readonly ep: ExecutionProvider;
  readonly dtype: DType;
  readonly seed: number;
  readonly threads: number | null;
  /** Model scope only (null for attention): encoder blocks, feed-forward width, vocabulary. */
  readonly layers: number | null;
  readonly dFf: number | null;
  readonly vocab: number | null;
}

/** How a point is timed. */
export interface MeasureOptions {
  /** Time budget of the timed phase, ms. */
  readonly timeMs: number;
  /** Minimum timed runs, whatever the budget. */
  readonly minRuns: number;
  readonly warmupRuns: number;
  readonly profile: boolean;
}

export type Status = 'ok' | 'oom' | 'error' | 'skipped';

/** What the child process measured. */
export interface Measurement {
  readonly status: Status;
  readonly samplesMs: number[];
  readonly firstRunMs: number | null;
  readonly sessionCreateMs: number | null;
  readonly peakMemoryBytes: number | null;
  readonly profile: Record<string, number> | null;
  readonly error: string | null;
}

/** One row of results.json / results.csv (documented in the README). */
export interface BenchRecord extends BenchPoint {
  readonly status: Status;
  readonly medianMs: number | null;
  readonly meanMs: number | null;
  readonly p10Ms: number | null;
  readonly p90Ms: number | null;
  readonly minMs: number | null;
  readonly rme: number | null;
  readonly runs: number;
  readonly samplesMs: number[];
  readonly firstRunMs: number | null;
  readonly peakMemoryBytes: number | null;
  readonly estimatedMemoryBytes: number;
  readonly flops: number;
  readonly gflopsPerSec: number | null;
  readonly rooflineFraction: number | null;
  readonly speedupVsSoftmax: number | null;
  readonly timeVsIdentity: number | null;
  readonly profile: Record<string, number> | null;
  readonly error: string | null;
}

/**
 * The series a point belongs to: everything that changes the graph but the sequence length (the
 * chunk size only where it is used, so a C = 128 baseline is never compared with C = 64; not the
 * seed). Threads and provider differences are reported by `environmentDiff`.
 */
export function seriesKey(p: BenchPoint): string {
  const model = p.scope === 'model' ? [p.layers, p.dFf, p.vocab] : [];
  const mode = !p.causal ? 'bidir' : p.causalImpl === 'chunked' ? `causal-chunked-C${p.chunkSize}` : `causal-${p.causalImpl}`;
  return [p.kernel, p.pass, mode, p.scope, ...model, p.batch, p.heads, p.dim, p.features, p.featureType, p.ep, p.dtype].join('|');
}

/** The point's identity, for resume, sharding and comparisons. */
export function pointKey(p: BenchPoint): string {
  return `${seriesKey(p)}|L=${p.seqLen}`;
}
