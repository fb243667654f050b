/**
 * Approximation-error sweeps (the paper's Fig. 4 and beyond). Per seed s: inputs Q, K, V i.i.d.
 * N(0, σ²) [1, 1, L, d] drawn from seed s, the projection drawn from seed s; every (kernel,
 * feature type, m) runs through ONNX Runtime (the graphs bench times) and is compared with the
 * exact float64 reference of that seed, computed once. With `estimator: 'exact'` each case is
 * the same estimator evaluated in float64 without ε instead (./exact.ts).
 */
import { type Shard, takeShard } from '../bench/shard.ts';
import { buildAttentionGraph } from '../kernels/build.ts';
import { getKernel } from '../kernels/index.ts';
import { type FeatureType, projectionMatrix } from '../kernels/projection.ts';
import { Rng } from '../random.ts';
import type { AttentionShape, CausalImpl, EstimatorFacts, KernelConfig } from '../kernels/types.ts';
import { exactAttention, exactAttentionGrad } from '../reference/attention.ts';
import { type ExecutionProvider, type HostTensor, runGraph } from '../runtime/session.ts';
import { geometry } from '../reference/closed-forms.ts';
import { estimateSoftmaxKernel, rescalePair } from '../reference/features.ts';
import { rowsOf } from '../reference/linear-attention.ts';

import { exactOutput } from './exact.ts';
import type { EstimatorPath, Target } from './targets.ts';

export { ESTIMATOR_PATHS, type EstimatorPath, TARGETS, type Target } from './targets.ts';

export interface ErrorOptions {
  readonly kernels: readonly string[];
  readonly featureTypes: readonly FeatureType[];
  readonly features: readonly number[];
  readonly seqLen: number;
  readonly dim: number;
  readonly seeds: number;
  readonly causal: boolean;
  readonly causalImpl: CausalImpl;
  readonly chunkSize: number;
  readonly inputScale: number;
  readonly target: Target;
  /** graph (default): the ONNX graph in float32 with ε; exact: the estimator in float64 without ε. */
  readonly estimator?: EstimatorPath;
  readonly ep: ExecutionProvider;
  readonly threads: number;
  /** Run only these (kernel, feature type, m) cases; seeds stay together. */
  readonly shard?: Shard | null;
}

export interface ErrorRecord {
  readonly kernel: string;
  readonly featureType: FeatureType | 'none';
  readonly features: number;
  readonly target: Target;
  /**
   * graph: the ONNX graph (float32, ε after the shifts); exact: the same estimator in float64
   * without ε (src/error/exact.ts). Records written before the field existed are graph records.
   */
  readonly estimator: EstimatorPath;
  /** What the numbers measure: mse, tv (mean total variation per row), relerr-dq/dk/dv. */
  readonly metric: string;
  readonly seqLen: number;
  readonly dim: number;
  readonly causal: boolean;
  readonly causalImpl: CausalImpl;
  readonly chunkSize: number;
  readonly inputScale: number;
  readonly seeds: number;
  readonly ep: ExecutionProvider;
  /** `invalid`: a seed gave a non-finite error (NaN or ±∞); the statistics are then not results. */
  readonly status: 'ok' | 'invalid';
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  /**
   * Target kernel: the estimator's relative bias Σ(estimate − SM)/Σ SM over the pairs, averaged
   * over seeds (≈ 0 for unbiased rows, within noise; orthogonal-fixed rows of norm √d are biased).
   * Null for other targets, whose signed errors average out by symmetry.
   */
  readonly bias: number | null;
  /** The metric of each seed, in seed order (JSON only): paired comparisons between cases use it. */
  readonly perSeed: readonly number[];
  /**
   * The closed-form relative MSE, MSE/SM², averaged over the pairs: attention normalises each row,
   * so its output error follows the kernel's relative error (positive features: ∝ e^{‖x+y‖²};
   * trig: ∝ e^{‖x+y‖²}/SM⁴), not its absolute error.
   */
  readonly theoryRelMse: number | null;
  /** Theorem 2's bound on the kernel-level MSE (orthogonal rows, m ≤ d, positive features), averaged over the pairs. */
  readonly theoryBound: number | null;
  /** Closed-form MSE averaged over the pairs (target kernel; orthogonal: the Theorem 2 bound, m ≤ d). */
  readonly theoryMse: number | null;
  /** Kernels with signed features (trig): fraction of attention denominators ≤ 0 (target output), over all seeds. */
  readonly nonPositiveDenominators: number | null;
  /** Given inputs (`error --inputs`): the layer and head, `l0.h1` (`h1` for bare q, k, v); absent for drawn inputs. */
  readonly group?: string;
}

/** results.json of an error sweep. */
export interface ErrorDocument {
  readonly schemaVersion: number;
  readonly kind: 'error';
  readonly environment: unknown;
  /** Merged shards: each shard's environment. */
  readonly environments?: readonly unknown[];
  readonly options: unknown;
  readonly records: ErrorRecord[];
  /** Given inputs (`error --inputs`): the file, its capture sidecar, notes, and each head's input statistics. */
  readonly inputs?: { readonly path: string; readonly sidecar: unknown; readonly notes: readonly string[]; readonly heads: readonly unknown[] };
}

export interface Case {
  readonly kernel: string;
  readonly featureType: FeatureType | 'none';
  readonly features: number;
}

/** Kernel × feature type × m; kernels without a projection appear once. */
export function cases(o: ErrorOptions): Case[] {
  return o.kernels.flatMap((kernel): Case[] => {
    const k = getKernel(kernel, '--kernels');
    if (!k.projection) return [{ kernel, featureType: 'none' as const, features: o.dim }];
    return o.featureTypes.flatMap((featureType) => o.features.map((features) => ({ kernel, featureType, features })));
  });
}

const gaussians = (seed: number, n: number, scale: number) => {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.gaussian() * scale);
};

/** Seeded inputs of seed s (the projection of seed s is drawn by the kernel from the same s). */
export function errorInputs(o: ErrorOptions, s: number) {
  const n = o.seqLen * o.dim;
  const base = 1_000_003 * (s + 1);
  return { q: gaussians(base, n, o.inputScale), k: gaussians(base + 1, n, o.inputScale), v: gaussians(base + 2, n, 1), gradOut: gaussians(base + 3, n, 1) };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Mean, std, min and max over seeds; `invalid` when a seed's value is not finite. */
export function stats(xs: readonly number[]) {
  const m = mean(xs);
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { status: xs.every(Number.isFinite) ? ('ok' as const) : ('invalid' as const), mean: m, std, min: Math.min(...xs), max: Math.max(...xs) };
}

async function runCase(o: ErrorOptions, c: Case, s: number, inputs: ReturnType<typeof errorInputs>, pass: 'forward' | 'backward', valueDim?: number) {
  const shape: AttentionShape = { batch: 1, heads: 1, seqLen: o.seqLen, dim: o.dim };
  const config: KernelConfig = {
    causal: o.causal,
    causalImpl: o.causalImpl,
    chunkSize: o.chunkSize,
    features: c.features,
    featureType: c.featureType === 'none' ? 'iid' : c.featureType,
    seed: s,
  };
  const { graph } = buildAttentionGraph({ kernel: getKernel(c.kernel), shape, config, dtype: 'float32', pass, ...(valueDim ? { valueDim } : {}) });
  const t = (x: Float64Array, width = o.dim): HostTensor => ({ dtype: 'float32', dims: [1, 1, o.seqLen, width], data: Float32Array.from(x) });
  const vWidth = valueDim ?? o.dim;
  const feeds: Record<string, HostTensor> = { q: t(inputs.q), k: t(inputs.k), v: t(inputs.v, vWidth) };
  if (pass === 'backward') feeds.grad_out = t(inputs.gradOut);
  const out = await runGraph(graph, feeds, { ep: o.ep, threads: o.threads });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Float64Array.from(v.data as Float32Array)]));
}

const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / b.length;
};

const relFrobenius = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
};

const identity = (L: number) => {
  const m = new Float64Array(L * L);
  for (let i = 0; i < L; i++) m[i * L + i] = 1;
  return m;
};

/**
 * Fraction of attention denominators D_i = φ(q_i)·Σ_{j(≤i)} φ(k_j) that are ≤ 0, from the kernel's
 * float64 feature map (its stabiliser shifts are positive factors, so signs are exact and
 * nothing overflows).
 */
function nonPositiveDenominators(o: ErrorOptions, s: number, c: Case, x: Inputs): number {
  const kernel = getKernel(c.kernel);
  const L = o.seqLen;
  const d = o.dim;
  const w = kernel.projection ? projectionMatrix(c.features, d, c.featureType as FeatureType, s) : undefined;
  const f = kernel.reference!(rowsOf(x.q, 0, L, d), rowsOf(x.k, 0, L, d), { ...(w ? { w } : {}), d, causal: o.causal });
  const total = new Float64Array(f.k[0]!.length);
  if (!o.causal) for (const k of f.k) k.forEach((v, j) => (total[j]! += v));
  let bad = 0;
  for (let i = 0; i < L; i++) {
    if (o.causal) f.k[i]!.forEach((v, j) => (total[j]! += v));
    if (f.q[i]!.reduce((p, v, j) => p + v * total[j]!, 0) <= 0) bad++;
  }
  return bad / L;
}

/** Pairs (x, y) of a query and a key, scaled by d^(-1/4) as in attention. */
export type Pairs = (readonly [number[], number[]])[];

/** The pairs (q_i, k_i), i < 256, of seed 0's inputs, scaled by d^(-1/4) as in attention. */
function inputPairs(o: ErrorOptions): Pairs {
  const d = o.dim;
  const sc = d ** -0.25;
  const x0 = errorInputs(o, 0);
  return Array.from(
    { length: Math.min(PAIRS, o.seqLen) },
    (_, i) => [Array.from(x0.q.subarray(i * d, (i + 1) * d), (v) => v * sc), Array.from(x0.k.subarray(i * d, (i + 1) * d), (v) => v * sc)] as const,
  );
}

export const PAIRS = 256;

/**
 * The closed-form MSE of a case's raw estimator of SM(x, y), averaged over the input pairs: the
 * paper's Lemma 2 for i.i.d. rows, the exact value for orthogonal rows (χ_d norms), and the
 * Theorem 2 bound (m ≤ d) beside it. Null where none holds (orthogonal-fixed rows are biased;
 * kernels that estimate no softmax kernel).
 */
export function kernelTheory(o: ErrorOptions, c: Case, given?: Pairs): Pick<ErrorRecord, 'theoryMse' | 'theoryBound' | 'theoryRelMse'> {
  const est = getKernel(c.kernel).estimator;
  if (!est || (c.featureType !== 'iid' && c.featureType !== 'orthogonal')) return { theoryMse: null, theoryBound: null, theoryRelMse: null };
  const { pairs, fit } = fittedPairs(o, est, given);
  const gs = pairs.map(([x, y]) => geometry(x, y));
  const avg = (f: (g: (typeof gs)[number]) => number) => mean(gs.map(f));
  const rel = (f: (g: (typeof gs)[number]) => number) => avg((g) => f(g) * Math.exp(-2 * g.xy));
  const mseOf = (g: (typeof gs)[number]) => (c.featureType === 'iid' ? est.mse(g, c.features, o.dim, fit) : (est.orthogonalMse?.(g, c.features, o.dim) ?? NaN));
  const bound = c.featureType === 'orthogonal' && est.orthogonalBound && c.features <= o.dim ? avg((g) => est.orthogonalBound!(g, c.features, o.dim)) : null;
  const exact = c.featureType === 'iid' || est.orthogonalMse;
  const value = exact ? avg(mseOf) : NaN;
  return Number.isFinite(value)
    ? { theoryMse: value, theoryBound: bound, theoryRelMse: rel(mseOf) }
    : { theoryMse: null, theoryBound: bound, theoryRelMse: null };
}

/**
 * The input pairs with a data-dependent estimator's parameters fitted to them as the graph fits
 * them per head (FAVOR++'s A; FAVOR#'s Ψ, which maps each pair to (Ψ⊙x, y/Ψ), keeping xᵀy).
 */
function fittedPairs(o: ErrorOptions, est: EstimatorFacts, given?: Pairs) {
  const raw = given ?? inputPairs(o);
  const fit = est.fit?.(
    raw.map((p) => p[0]),
    raw.map((p) => p[1]),
    o.dim,
  );
  const pairs = raw.map(([x, y]) => rescalePair(x, y, fit?.psi));
  return { raw, pairs, fit };
}

/** Per-pair kernel estimates: the pairs of {@link inputPairs}, one projection per seed. */
export function kernelErrors(o: ErrorOptions, c: Case, given?: Pairs) {
  const d = o.dim;
  const est = getKernel(c.kernel).estimator!;
  // Raw pairs with the fit: estimateSoftmaxKernel applies the fit's Ψ itself.
  const { raw: all, fit } = fittedPairs(o, est, given);
  const pair = (i: number) => all[i]!;
  const n = all.length;
  const perSeed: number[] = [];
  const signed: number[] = [];
  for (let s = 0; s < o.seeds; s++) {
    const w = projectionMatrix(c.features, d, c.featureType as FeatureType, s);
    let total = 0;
    let errSum = 0;
    let exactSum = 0;
    for (let i = 0; i < n; i++) {
      const [x, y] = pair(i);
      const exact = Math.exp(x.reduce((a, v, t) => a + v * y[t]!, 0));
      const e = estimateSoftmaxKernel(est.pairTerm, w, d, x, y, fit) - exact;
      total += e ** 2 / n;
      errSum += e;
      exactSum += exact;
    }
    perSeed.push(total);
    signed.push(errSum / exactSum);
  }
  return { perSeed, bias: mean(signed) };
}

export interface SweepHooks {
  onProgress?(done: number, total: number, what: string): void;
}

type Inputs = ReturnType<typeof errorInputs>;

/** The exact float64 quantities of one seed that a target compares against. */
function exactFor(o: ErrorOptions, x: Inputs) {
  const shape = { batch: 1, heads: 1, seqLen: o.seqLen, dim: o.dim };
  return o.target === 'grad'
    ? { grad: exactAttentionGrad(x.q, x.k, x.v, x.gradOut, shape, o.causal) }
    : { att: exactAttention(x.q, x.k, x.v, shape, o.causal) };
}

/** The case's attention output at one seed: through ONNX Runtime (graph) or in float64 without ε (exact). */
async function caseOutput(o: ErrorOptions, c: Case, s: number, x: Inputs, valueDim?: number): Promise<Float64Array> {
  if (o.estimator === 'exact') return exactOutput(c, s, { seqLen: o.seqLen, dim: o.dim, causal: o.causal, ...(valueDim ? { valueDim } : {}) }, x.q, x.k, x.v);
  return (await runCase(o, c, s, x, 'forward', valueDim)).out!;
}

/** One case at one seed (ONNX Runtime, or the exact float64 estimator): its metrics, by name. */
async function measureCase(o: ErrorOptions, c: Case, s: number, x: Inputs, exact: ReturnType<typeof exactFor>): Promise<Record<string, number>> {
  if (exact.grad) {
    const out = await runCase(o, c, s, x, 'backward');
    return {
      'relerr-dq': relFrobenius(out.grad_q!, exact.grad.dq),
      'relerr-dk': relFrobenius(out.grad_k!, exact.grad.dk),
      'relerr-dv': relFrobenius(out.grad_v!, exact.grad.dv),
    };
  }
  const att = exact.att!;
  if (o.target === 'matrix') {
    // V = I_L through the same graph: `out` is the implied attention matrix; compare with P.
    const L = o.seqLen;
    const out = await caseOutput(o, c, s, { ...x, v: identity(L) }, L);
    let tv = 0;
    for (let i = 0; i < L * L; i++) tv += Math.abs(out[i]! - att.probs[i]!);
    return { mse: mse(out, att.probs), tv: tv / 2 / L };
  }
  return { mse: mse(await caseOutput(o, c, s, x), att.out) };
}

export async function runErrorSweep(o: ErrorOptions, hooks: SweepHooks = {}): Promise<ErrorRecord[]> {
  const all = takeShard(cases(o), o.shard ?? null);
  const base = (c: Case) => ({
    ...c,
    target: o.target,
    estimator: o.estimator ?? ('graph' as const),
    seqLen: o.seqLen,
    dim: o.dim,
    causal: o.causal,
    causalImpl: o.causalImpl,
    chunkSize: o.chunkSize,
    inputScale: o.inputScale,
    seeds: o.seeds,
    ep: o.ep,
  });
  if (o.target === 'kernel') {
    return all.map((c, i) => {
      hooks.onProgress?.(i, all.length, `${c.kernel} ${c.featureType} m=${c.features}`);
      const { perSeed, bias } = kernelErrors(o, c);
      return { ...base(c), metric: 'mse', ...stats(perSeed), ...kernelTheory(o, c), bias, nonPositiveDenominators: null, perSeed };
    });
  }
  // Per case: metric → values over seeds; trig cases also collect non-positive denominator fractions.
  const values = all.map(() => new Map<string, number[]>());
  const nonPositive = all.map(() => [] as number[]);
  let done = 0;
  for (let s = 0; s < o.seeds; s++) {
    const x = errorInputs(o, s);
    const exact = exactFor(o, x);
    for (const [i, c] of all.entries()) {
      hooks.onProgress?.(done++, all.length * o.seeds, `seed ${s} ${c.kernel} ${c.featureType} m=${c.features}`);
      for (const [metric, v] of Object.entries(await measureCase(o, c, s, x, exact))) values[i]!.set(metric, [...(values[i]!.get(metric) ?? []), v]);
      if (o.target === 'output' && getKernel(c.kernel).estimator?.signed) nonPositive[i]!.push(nonPositiveDenominators(o, s, c, x));
    }
  }
  // The output MSE has no closed form; beside it, the kernel-level closed form at these inputs
  // (what Lemma 2 and Theorem 2 predict for the estimator the output is built from).
  return all.flatMap((c, i) => {
    const theory = o.target === 'output' ? kernelTheory(o, c) : { theoryMse: null, theoryBound: null, theoryRelMse: null };
    return [...values[i]!.entries()].map(([metric, xs]) => ({
      ...base(c),
      metric,
      ...stats(xs),
      ...theory,
      bias: null,
      nonPositiveDenominators: nonPositive[i]!.length ? mean(nonPositive[i]!) : null,
      perSeed: xs,
    }));
  });
}
