/** The data of a bench run: points to measure and the records they become (the results schema). */
import type { FeatureType } from '../kernels/projection.ts';
import type { Pass } from '../kernels/build.ts';
import type { CausalImpl } from '../kernels/types.ts';
import type { DType } from '../onnx/ir.ts';
import type { Environment } from '../environment.ts';
import type { ExecutionProvider } from '../runtime/session.ts';

/**
 * attention: the attention op alone; model: a whole encoder (tokens → loss); train: one optimiser
 * step of `performer train`'s classifier (its training graph, then clip and AdamW on the host).
 */
export type Scope = 'attention' | 'model' | 'train';

/** Whether a scope builds a whole model (d_model, layers, d_ff and vocabulary apply). */
export const isModelScope = (scope: Scope): boolean => scope !== 'attention';

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
  /** Model and train scopes only (null for attention): encoder blocks, feed-forward width, vocabulary. */
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

/** `invalid`: the point ran but produced a non-finite number (NaN or ±∞): never compared as a result. */
export type Status = 'ok' | 'oom' | 'error' | 'skipped' | 'invalid';

/** What the child process measured. */
export interface Measurement {
  readonly status: Status;
  readonly samplesMs: number[];
  readonly firstRunMs: number | null;
  readonly sessionCreateMs: number | null;
  readonly peakMemoryBytes: number | null;
  readonly profile: Record<string, number> | null;
  /** `--profile`: ms per run of each node ONNX Runtime ran (absent in journals of older versions). */
  readonly nodeProfile?: NodeTime[] | null;
  readonly error: string | null;
}

/** One node's mean time per run in ONNX Runtime's profiler trace, under our node's name and ONNX Runtime's op. */
export interface NodeTime {
  readonly node: string;
  readonly op: string;
  readonly ms: number;
}

/**
 * One node of a `--profile` run beside its limit-model bound: `ms` null for a node the trace does
 * not show (fused into another), `boundMs` null when the limit model was off.
 */
export interface ProfileNode {
  readonly node: string;
  readonly op: string;
  readonly ms: number | null;
  readonly boundMs: number | null;
}

/** A point that produced no timings (not run, failed, out of memory), with why. */
export const notMeasured = (status: Status, error: string): Measurement => ({
  status,
  samplesMs: [],
  firstRunMs: null,
  sessionCreateMs: null,
  peakMemoryBytes: null,
  profile: null,
  error,
});

/** One row of results.json / results.csv (documented in docs/bench.md). */
export interface BenchRecord extends BenchPoint {
  readonly status: Status;
  readonly medianMs: number | null;
  readonly meanMs: number | null;
  readonly p10Ms: number | null;
  readonly p90Ms: number | null;
  readonly minMs: number | null;
  readonly rme: number | null;
  readonly runs: number;
  /** Every timed sample, process after process (processSamples says how many each gave). */
  readonly samplesMs: number[];
  /** Fresh processes that measured the point (`--repeat`): the unit of replication. */
  readonly processes: number;
  /** Each process's median, in the order the rounds ran. */
  readonly processMediansMs: number[];
  /** Samples per process, to split samplesMs. */
  readonly processSamples: number[];
  /** Relative margin of error (95%, Student's t) of the mean of the process medians; null under 2 processes. */
  readonly processRme: number | null;
  readonly firstRunMs: number | null;
  readonly peakMemoryBytes: number | null;
  readonly estimatedMemoryBytes: number;
  readonly flops: number;
  /**
   * Fingerprint of the graph that was timed (src/onnx/fingerprint.ts: structure and the code's
   * constants, not the seed's draws); null where no graph was built, absent in older files.
   */
  readonly graphHash?: string | null;
  readonly gflopsPerSec: number | null;
  /**
   * Achieved GFLOP/s over the best rate of one large square float32 product: how much of the
   * matmul units' speed the graph's FLOPs get. Not a bound (an elementwise-bound graph sits low by
   * nature, and elementwise FLOPs count too): judge a graph by limitFraction.
   */
  readonly rooflineFraction: number | null;
  /** The limit model's lower bound for this point's graph (limit/analyse.ts), ms; null when off or not measured. */
  readonly limitMs: number | null;
  /** limitMs / medianMs: 1 is the machine's limit through ONNX Runtime. */
  readonly limitFraction: number | null;
  readonly speedupVsSoftmax: number | null;
  readonly timeVsIdentity: number | null;
  readonly profile: Record<string, number> | null;
  /** `--profile`: per node, time and bound, largest gap (time − bound) first. */
  readonly nodeProfile: ProfileNode[] | null;
  readonly error: string | null;
}

/** This machine's limits through ONNX Runtime (limit/roofline.ts measures them). */
export interface Roofline {
  readonly fingerprint: string;
  readonly matmulGflops: number;
  readonly bandwidthGBps: number;
  readonly matmulSize: number;
  readonly measuredAt: string;
  readonly ep: ExecutionProvider;
  readonly threads: number | null;
}

/** One measured rate in the limit cache: the best ever seen for a machine and shape, so load never lowers it. */
export interface RateEntry {
  /** GFLOP/s for a product, GB/s for the elementwise bandwidth. */
  readonly rate: number;
  /** When the best rate was measured. */
  readonly measuredAt: string;
  /** (median − best) / best of the repeats of that measurement. */
  readonly noise: number;
  readonly repeats: number;
  /** Measurements folded into the entry, and when the latest ran. */
  readonly sessions: number;
  readonly lastMeasuredAt: string;
}

/** The rates a limit was priced at: the elementwise bandwidth and each product's rate by case key (limit/analyse.ts). */
export interface MachineLimits {
  readonly fingerprint: string;
  readonly ep: ExecutionProvider;
  readonly threads: number | null;
  readonly bandwidth: RateEntry;
  /**
   * The bandwidth of tensors that stay in cache, by elements per operand of the measured Add
   * (12 bytes per element of footprint); absent in caches written before it existed.
   */
  readonly cachedBandwidth?: Readonly<Record<string, RateEntry>>;
  readonly matmul: Readonly<Record<string, RateEntry>>;
}

export interface Crossover {
  kernel: string;
  pass: string;
  causal: boolean;
  /** The series' batch size (several in one file: Fig. 3). */
  batch?: number;
  /**
   * Where the time ratio to the best softmax crosses 1 for the last time, interpolated on log-log
   * axes: beyond it the kernel stays faster. `below` = faster at every measured L; `above` =
   * slower at the longest L (seqLen), and at every L unless `fasterShorter`.
   */
  seqLen: number | null;
  bound: 'exact' | 'below' | 'above' | 'none';
  /** `above` only: the kernel was faster at some shorter L, then slower again. */
  fasterShorter?: boolean;
  /**
   * With several processes per point: the crossover of each round's ratios (the kernel's r-th
   * process median over the best softmax's r-th), as a range; lo null = below the grid in some
   * round, hi null = above it; undetermined when rounds fall on both sides of the grid.
   */
  rounds?: { n: number; lo: number | null; hi: number | null; undetermined: boolean };
}

export interface Exponent {
  kernel: string;
  pass: string;
  causal: boolean;
  /** The series' batch size, as on Crossover. */
  batch?: number;
  k: number;
  points: number;
}

/** results.json of a bench run (or of merged shards, which add `environments`). */
export interface BenchDocument {
  readonly schemaVersion: number;
  readonly kind: 'bench';
  readonly environment: Environment | Record<string, unknown>;
  /** Merged shards: each shard's environment. */
  readonly environments?: readonly unknown[];
  readonly options: Record<string, unknown>;
  readonly roofline: Roofline | null;
  /** The rates each record's limitMs was priced at (absent in older files). */
  readonly limits?: MachineLimits | null;
  readonly summary: { crossovers: Crossover[]; exponents: Exponent[] };
  readonly records: BenchRecord[];
}
