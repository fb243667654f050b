/**
 * The error sweep on given inputs (`performer error --inputs`): the q, k, v of src/error/inputs.ts
 * instead of Gaussian draws, so a seed draws only the projection. Per layer group, every (kernel,
 * feature type, m) case runs through ONNX Runtime once per seed on the whole [B, H, L, d] tensor
 * (padded keys masked, as in training), and each head's output MSE over its token rows is one
 * record, against the float64 exact attention computed once. Target kernel: per head, 256
 * (query, key) pairs of one sequence, the closed forms averaged over them. Beside the records,
 * each head's input statistics: what places it on the regime map.
 */
import { buildAttentionGraph } from '../kernels/build.ts';
import { ESTIMATOR_NAMES, getKernel } from '../kernels/index.ts';
import { Rng } from '../random.ts';
import type { KernelConfig } from '../kernels/types.ts';
import { symmetricEigen } from '../reference/oprf.ts';
import { type HostTensor, runGraph } from '../runtime/session.ts';
import { derfAttention, derfEstimate, derfSecondMoment, type DerfFit, fitDerf } from './derf.ts';
import type { GivenInputs, InputGroup } from './inputs.ts';
import { exactOutput } from './exact.ts';
import { isToken, tokenRows } from './inputs.ts';
import type { EstimatorPath, HostEstimator } from './targets.ts';
import { projectionMatrix } from '../kernels/projection.ts';
import { type Case, cases, type ErrorOptions, type ErrorRecord, kernelErrors, kernelTheory, PAIRS, type Pairs, stats, type SweepHooks } from './sweep.ts';

/** One head's inputs, as the estimators see them (x = q·d^(-1/4), y = k·d^(-1/4)); token positions only. */
export interface HeadStats {
  readonly group: string;
  readonly layer: string;
  readonly head: number;
  /** Token rows (queries) the statistics and errors are over. */
  readonly tokens: number;
  /** mean ‖x‖², mean ‖y‖². */
  readonly meanQ2: number;
  readonly meanK2: number;
  /** mean over (query, key) pairs of one sequence of ‖x + y‖² (FAVOR++'s φ, ESTIMATORS.md §2), averaged over sequences. */
  readonly meanSum2: number;
  /** Largest ÷ smallest eigenvalue of the keys' covariance (∞ when singular). */
  readonly anisotropy: number;
  /** Mean entropy (nats) of the exact attention rows, and the same ÷ log(keys per row). */
  readonly entropy: number;
  readonly entropyRatio: number;
  /** With a recorded output (capture's lN.out): max |float64 exact attention − recorded| over token rows. */
  readonly recordedMaxAbsDiff: number | null;
}

/** The float64 reference of one group: exact attention [B, H, L, d] (zeros at padded rows) and per-head statistics. */
export function groupReference(g: InputGroup, causal: boolean): { out: Float64Array; stats: HeadStats[] } {
  const { batch: B, heads: H, seqLen: L, dim: d } = g;
  const out = new Float64Array(B * H * L * d);
  const sc = d ** -0.25;
  const result: HeadStats[] = [];
  for (let h = 0; h < H; h++) {
    let [q2, k2, sum2, ent, entRatio, rows, maxDiff] = [0, 0, 0, 0, 0, 0, 0];
    const keys: number[][] = [];
    for (let b = 0; b < B; b++) {
      const x = tokenRows(g, g.q, b, h, sc);
      const y = tokenRows(g, g.k, b, h, sc);
      const v = tokenRows(g, g.v, b, h);
      const n = x.length;
      if (!n) continue;
      keys.push(...y);
      const norm2 = (r: number[]) => r.reduce((a, t) => a + t * t, 0);
      const mx = new Array<number>(d).fill(0);
      const my = new Array<number>(d).fill(0);
      x.forEach((r) => r.forEach((t, l) => (mx[l]! += t / n)));
      y.forEach((r) => r.forEach((t, l) => (my[l]! += t / n)));
      const seqQ2 = x.reduce((a, r) => a + norm2(r), 0) / n;
      const seqK2 = y.reduce((a, r) => a + norm2(r), 0) / n;
      q2 += seqQ2 * n;
      k2 += seqK2 * n;
      sum2 += (seqQ2 + seqK2 + 2 * mx.reduce((a, t, l) => a + t * my[l]!, 0)) * n;
      // Token positions of this row, to write outputs back in place.
      const pos = Array.from({ length: L }, (_, i) => i).filter((i) => isToken(g, b, i));
      for (let i = 0; i < n; i++) {
        const m = causal ? i + 1 : n;
        // x·y = q·k/√d: the softmax scores, shifted by their max.
        const s = Array.from({ length: m }, (_, j) => x[i]!.reduce((a, t, l) => a + t * y[j]![l]!, 0));
        const top = Math.max(...s);
        const e = s.map((t) => Math.exp(t - top));
        const z = e.reduce((a, t) => a + t, 0);
        let hRow = 0;
        const o = out.subarray(((b * H + h) * L + pos[i]!) * d, ((b * H + h) * L + pos[i]! + 1) * d);
        for (let j = 0; j < m; j++) {
          const p = e[j]! / z;
          if (p > 0) hRow -= p * Math.log(p);
          for (let l = 0; l < d; l++) o[l]! += p * v[j]![l]!;
        }
        ent += hRow;
        entRatio += m > 1 ? hRow / Math.log(m) : 0;
        if (g.out) for (let l = 0; l < d; l++) maxDiff = Math.max(maxDiff, Math.abs(o[l]! - g.out[((b * H + h) * L + pos[i]!) * d + l]!));
      }
      rows += n;
    }
    result.push({
      group: groupName(g, h),
      layer: g.name,
      head: h,
      tokens: rows,
      meanQ2: q2 / rows,
      meanK2: k2 / rows,
      meanSum2: sum2 / rows,
      anisotropy: anisotropy(keys),
      entropy: ent / rows,
      entropyRatio: entRatio / rows,
      recordedMaxAbsDiff: g.out ? maxDiff : null,
    });
  }
  return { out, stats: result };
}

export const groupName = (g: InputGroup, h: number) => (g.name ? `${g.name}.h${h}` : `h${h}`);

/** λ_max / λ_min of the rows' covariance. */
function anisotropy(rows: readonly number[][]): number {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  if (n < 2 || !d) return Number.NaN;
  const mu = new Array<number>(d).fill(0);
  rows.forEach((r) => r.forEach((t, l) => (mu[l]! += t / n)));
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (const r of rows) for (let a = 0; a < d; a++) for (let c = 0; c < d; c++) cov[a]![c]! += ((r[a]! - mu[a]!) * (r[c]! - mu[c]!)) / (n - 1);
  const { values } = symmetricEigen(cov);
  const lo = Math.min(...values);
  return lo > 0 ? Math.max(...values) / lo : Number.POSITIVE_INFINITY;
}

/** Up to 256 (query, key) pairs of head h, both of one sequence, drawn by a fixed seed, scaled by d^(-1/4). */
export function headPairs(g: InputGroup, h: number): Pairs {
  const sc = g.dim ** -0.25;
  const rng = new Rng(0x9a1e + h);
  const seqs = Array.from({ length: g.batch }, (_, b) => ({ x: tokenRows(g, g.q, b, h, sc), y: tokenRows(g, g.k, b, h, sc) })).filter((s) => s.x.length);
  return Array.from({ length: PAIRS }, () => {
    const s = seqs[Math.floor(rng.uniform() * seqs.length)]!;
    return [s.x[Math.floor(rng.uniform() * s.x.length)]!, s.y[Math.floor(rng.uniform() * s.y.length)]!] as const;
  });
}

/** The sweep's options for one group (seqLen and dim are the group's; σ = 0 marks given inputs). */
const groupOptions = (o: ErrorOptions, g: InputGroup): ErrorOptions => ({ ...o, seqLen: g.seqLen, dim: g.dim, inputScale: 0 });

/** One case at one seed on the whole group: the graph's output [B, H, L, d]. */
export async function groupOutput(o: ErrorOptions, g: InputGroup, c: Case, s: number): Promise<Float32Array> {
  const shape = { batch: g.batch, heads: g.heads, seqLen: g.seqLen, dim: g.dim };
  const config: KernelConfig = {
    causal: o.causal,
    causalImpl: o.causalImpl,
    chunkSize: o.chunkSize,
    features: c.features,
    featureType: c.featureType === 'none' ? 'iid' : c.featureType,
    seed: s,
  };
  const { graph } = buildAttentionGraph({ kernel: getKernel(c.kernel), shape, config, dtype: 'float32', pass: 'forward', keyMask: g.mask !== null });
  const dims = [g.batch, g.heads, g.seqLen, g.dim];
  const feeds: Record<string, HostTensor> = {
    q: { dtype: 'float32', dims, data: g.q },
    k: { dtype: 'float32', dims, data: g.k },
    v: { dtype: 'float32', dims, data: g.v },
  };
  if (g.mask) feeds.key_mask = { dtype: 'float32', dims: [g.batch, 1, g.seqLen, 1], data: g.mask };
  return (await runGraph(graph, feeds, { ep: o.ep, threads: o.threads })).out!.data as Float32Array;
}

/** Per head: the output MSE over token rows. */
function headMse(g: InputGroup, out: Float32Array, ref: Float64Array): number[] {
  const { batch: B, heads: H, seqLen: L, dim: d } = g;
  return Array.from({ length: H }, (_, h) => {
    let [sum, n] = [0, 0];
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < L; i++) {
        if (!isToken(g, b, i)) continue;
        const at = ((b * H + h) * L + i) * d;
        for (let l = 0; l < d; l++) sum += (out[at + l]! - ref[at + l]!) ** 2;
        n += d;
      }
    }
    return sum / n;
  });
}

/**
 * Per head: the output MSE over token rows of the exact estimator (src/error/exact.ts: the same
 * projection as the graph at seed s, FAVOR++'s A and FAVOR#'s Ψ fitted on the sequence's own
 * token rows, float64, no ε), one sequence (batch row) and head at a time, so padded keys get no
 * weight and padded query rows are not scored, as in the graph with its key mask.
 */
export function exactHeadMse(o: ErrorOptions, g: InputGroup, c: Case, s: number, ref: Float64Array): number[] {
  const { batch: B, heads: H, seqLen: L, dim: d } = g;
  return Array.from({ length: H }, (_, h) => {
    let [sum, n] = [0, 0];
    for (let b = 0; b < B; b++) {
      const q = tokenRows(g, g.q, b, h);
      if (!q.length) continue;
      const flat = (rows: number[][]) => Float64Array.from(rows.flat());
      const out = exactOutput(c, s, { seqLen: q.length, dim: d, causal: o.causal }, flat(q), flat(tokenRows(g, g.k, b, h)), flat(tokenRows(g, g.v, b, h)));
      let row = 0;
      for (let i = 0; i < L; i++) {
        if (!isToken(g, b, i)) continue;
        const at = ((b * H + h) * L + i) * d;
        for (let l = 0; l < d; l++) sum += (out[row * d + l]! - ref[at + l]!) ** 2;
        row++;
        n += d;
      }
    }
    return sum / n;
  });
}

/**
 * Every case on every group and head of the given inputs: records (with `group`) and the heads'
 * input statistics. Options' seqLen, dim and inputScale are replaced by each group's. Target
 * output runs each of `estimators` (graph, exact) on the same seeds; target kernel is float64 already.
 */
export async function runGivenSweep(
  o: ErrorOptions,
  inputs: GivenInputs,
  hooks: SweepHooks = {},
  host: readonly HostEstimator[] = [],
  estimators: readonly EstimatorPath[] = ['graph'],
): Promise<{ records: ErrorRecord[]; heads: HeadStats[] }> {
  const records: ErrorRecord[] = [];
  const heads: HeadStats[] = [];
  for (const g of inputs.groups) {
    const go = groupOptions(o, g);
    const all = cases(go);
    const ref = groupReference(g, o.causal);
    heads.push(...ref.stats);
    const pairs = Array.from({ length: g.heads }, (_, h) => headPairs(g, h));
    const base = (c: Case, h: number) => ({
      ...c,
      target: o.target,
      estimator: 'graph' as const,
      seqLen: g.seqLen,
      dim: g.dim,
      causal: o.causal,
      causalImpl: o.causalImpl,
      chunkSize: o.chunkSize,
      inputScale: 0,
      seeds: o.seeds,
      ep: o.ep,
      group: groupName(g, h),
    });
    const hostCases = host.flatMap((kernel) => o.featureTypes.flatMap((featureType) => o.features.map((features) => ({ kernel, featureType, features }))));
    for (const [i, c] of hostCases.entries()) {
      hooks.onProgress?.(i, hostCases.length, `${g.name || 'inputs'} ${c.kernel} ${c.featureType} m=${c.features} (host)`);
      records.push(...hostRecords(go, g, c, ref.out, pairs).map((r, h) => ({ ...base(c, h), estimator: 'exact' as const, ...r })));
    }
    if (o.target === 'kernel') {
      for (const [i, c] of all.entries()) {
        hooks.onProgress?.(i, all.length, `${g.name || 'inputs'} ${c.kernel} ${c.featureType} m=${c.features}`);
        for (let h = 0; h < g.heads; h++) {
          const { perSeed, bias } = kernelErrors(go, c, pairs[h]);
          records.push({ ...base(c, h), metric: 'mse', ...stats(perSeed), ...kernelTheory(go, c, pairs[h]), bias, nonPositiveDenominators: null, perSeed });
        }
      }
      continue;
    }
    for (const estimator of estimators) {
      // values[case][head] over seeds.
      // The exact path evaluates softmax estimators only (favor-relu has none: it stays on the graph).
      const run = estimator === 'exact' ? all.filter((c) => ESTIMATOR_NAMES.includes(c.kernel)) : all;
      const values = run.map(() => Array.from({ length: g.heads }, () => [] as number[]));
      let done = 0;
      for (let s = 0; s < o.seeds; s++) {
        for (const [i, c] of run.entries()) {
          hooks.onProgress?.(
            done++,
            run.length * o.seeds,
            `${g.name || 'inputs'} seed ${s} ${c.kernel} ${c.featureType} m=${c.features}${estimator === 'exact' ? ' (exact)' : ''}`,
          );
          const mse = estimator === 'exact' ? exactHeadMse(go, g, c, s, ref.out) : headMse(g, await groupOutput(go, g, c, s), ref.out);
          mse.forEach((v, h) => values[i]![h]!.push(v));
        }
      }
      for (const [i, c] of run.entries()) {
        for (let h = 0; h < g.heads; h++) {
          const xs = values[i]![h]!;
          records.push({
            ...base(c, h),
            estimator,
            metric: 'mse',
            ...stats(xs),
            ...kernelTheory(go, c, pairs[h]),
            bias: null,
            nonPositiveDenominators: null,
            perSeed: xs,
          });
        }
      }
    }
  }
  return { records, heads };
}

/** The record fields of one host estimator case (src/error/derf.ts) for every head of a group. */
function hostRecords(o: ErrorOptions, g: InputGroup, c: Case & { kernel: HostEstimator }, ref: Float64Array, pairs: readonly Pairs[]) {
  const none = { theoryMse: null, theoryBound: null, theoryRelMse: null, bias: null, nonPositiveDenominators: null };
  const w = (s: number) => projectionMatrix(c.features, g.dim, c.featureType as Exclude<Case['featureType'], 'none'>, s);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // The kernel-level closed form over a head's pairs (i.i.d. rows only), fitted to those pairs as
  // the graph kernels' theory columns are: (S₂ − SM²)/m per pair, averaged; relative: ÷ SM².
  const theoryOf = (ps: Pairs, fit: DerfFit, exact: number[]) => {
    if (c.featureType !== 'iid') return {};
    const t = ps.map(([x, y], i) => (derfSecondMoment(fit, x, y) - exact[i]! ** 2) / c.features);
    return { theoryMse: mean(t), theoryRelMse: mean(t.map((v, i) => v / exact[i]! ** 2)) };
  };
  const pairFit = (ps: Pairs) =>
    fitDerf(
      c.kernel,
      ps.map((p) => p[0]),
      ps.map((p) => p[1]),
    );
  const exactOf = (ps: Pairs) => ps.map(([x, y]) => Math.exp(x.reduce((a, t, l) => a + t * y[l]!, 0)));
  if (o.target === 'kernel') {
    return pairs.map((ps) => {
      const fit = pairFit(ps);
      const exact = exactOf(ps);
      const perSeed: number[] = [];
      const signed: number[] = [];
      for (let s = 0; s < o.seeds; s++) {
        const ws = w(s);
        const err = ps.map(([x, y], i) => derfEstimate(fit, ws, x, y) - exact[i]!);
        perSeed.push(err.reduce((a, e) => a + e * e, 0) / ps.length);
        signed.push(err.reduce((a, e) => a + e, 0) / exact.reduce((a, e) => a + e, 0));
      }
      return { metric: 'mse', ...stats(perSeed), ...none, bias: mean(signed), perSeed, ...theoryOf(ps, fit, exact) };
    });
  }
  const { batch: B, heads: H, seqLen: L, dim: d } = g;
  const sc = d ** -0.25;
  const fits = new Map<string, DerfFit>();
  return Array.from({ length: H }, (_, h) => {
    const perSeed: number[] = [];
    for (let s = 0; s < o.seeds; s++) {
      const ws = w(s);
      let [sum, n] = [0, 0];
      for (let b = 0; b < B; b++) {
        const x = tokenRows(g, g.q, b, h, sc);
        if (!x.length) continue;
        const y = tokenRows(g, g.k, b, h, sc);
        const key = `${b}/${h}`;
        if (!fits.has(key)) fits.set(key, fitOrPooled(c.kernel, g, h, x, y));
        const out = derfAttention(fits.get(key)!, ws, x, y, tokenRows(g, g.v, b, h));
        let t = 0;
        for (let i = 0; i < L; i++) {
          if (!isToken(g, b, i)) continue;
          const at = ((b * H + h) * L + i) * d;
          for (let l = 0; l < d; l++) sum += (out[t]![l]! - ref[at + l]!) ** 2;
          t++;
          n += d;
        }
      }
      perSeed.push(sum / n);
    }
    return { metric: 'mse', ...stats(perSeed), ...none, perSeed, ...theoryOf(pairs[h]!, pairFit(pairs[h]!), exactOf(pairs[h]!)) };
  });
}

/** The (b, h) fit; ADERF on a sequence whose moments are singular (fewer tokens than d) fits the head's rows of every sequence instead. */
function fitOrPooled(kind: HostEstimator, g: InputGroup, h: number, x: number[][], y: number[][]): DerfFit {
  try {
    return fitDerf(kind, x, y);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const sc = g.dim ** -0.25;
    const all = (a: Float32Array) => Array.from({ length: g.batch }, (_, bb) => tokenRows(g, a, bb, h, sc)).flat();
    return fitDerf(kind, all(g.q), all(g.k));
  }
}
