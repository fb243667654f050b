/**
 * The identity of a result: one function per kind (bench points, error records) over every option
 * that changes the computation. Resume, sharding, merge and compare all key results here, and a
 * test changes each such field and checks the key changes.
 */
/** The fields of a bench point its identity is made of (bench/types.ts's BenchPoint has them all). */
export interface PointFields {
  readonly kernel: string;
  readonly pass: string;
  readonly causal: boolean;
  readonly causalImpl: string;
  readonly chunkSize: number;
  readonly scope: string;
  readonly layers: number | null;
  readonly dFf: number | null;
  readonly vocab: number | null;
  readonly seqLen: number;
  readonly batch: number;
  readonly heads: number;
  readonly dim: number;
  readonly features: number;
  readonly featureType: string;
  readonly ep: string;
  readonly dtype: string;
}

/**
 * The series a point belongs to: everything that changes the graph but the sequence length (the
 * chunk size only where it is used, so a C = 128 baseline is never compared with C = 64; not the
 * seed). Threads and provider differences are reported by `environmentDiff`.
 */
export function seriesKey(p: PointFields): string {
  const model = p.scope !== 'attention' ? [p.layers, p.dFf, p.vocab] : [];
  const mode = !p.causal ? 'bidir' : p.causalImpl === 'chunked' ? `causal-chunked-C${p.chunkSize}` : `causal-${p.causalImpl}`;
  return [p.kernel, p.pass, mode, p.scope, ...model, p.batch, p.heads, p.dim, p.features, p.featureType, p.ep, p.dtype].join('|');
}

/** The point's identity, for resume, sharding and comparisons. */
export function pointKey(p: PointFields): string {
  return `${seriesKey(p)}|L=${p.seqLen}`;
}

/** The fields of an error record its identity is made of, and the figures compare reads. */
export interface ErrorLike {
  readonly kernel: string;
  readonly featureType: string;
  readonly features: number;
  readonly target: string;
  /** graph or exact; absent in records written before the field existed, which are graph records. */
  readonly estimator?: string;
  readonly metric: string;
  readonly seqLen: number;
  readonly dim: number;
  readonly causal: boolean;
  readonly causalImpl?: string;
  readonly chunkSize?: number;
  readonly inputScale?: number;
  readonly seeds?: number;
  readonly ep?: string;
  readonly mean: number | null;
  readonly status?: 'ok' | 'invalid';
  /** Given inputs: the layer/head group (`l0.h1`). */
  readonly group?: string;
}

/** An error record's estimator path: records without the field predate it and are graph records. */
export const estimatorOf = (r: { readonly estimator?: string }): string => r.estimator ?? 'graph';

/**
 * The identity of an error record: every option that changes what was computed (the causal
 * strategy and chunk size only where causal attention uses them), not the numbers.
 */
export function errorKey(r: ErrorLike): string {
  const mode = !r.causal ? 'bidir' : r.causalImpl === 'prefix' ? 'causal-prefix' : `causal-chunked-C${r.chunkSize}`;
  return [
    r.kernel,
    r.featureType,
    r.features,
    r.target,
    r.metric,
    r.seqLen,
    r.dim,
    mode,
    `sigma=${r.inputScale}`,
    `seeds=${r.seeds}`,
    r.ep ?? 'cpu',
    estimatorOf(r),
    ...(r.group === undefined ? [] : [`group=${r.group}`]),
  ].join('|');
}
