/**
 * The rates the limit model prices graphs at, measured through ONNX Runtime: float32 MatMul per
 * case (shape, orientation, constant B) and the elementwise bandwidth. Each is the best time of a
 * few runs after an untimed one, and the cache (per machine fingerprint and case) keeps the best
 * rate ever seen, so a measurement under load never lowers a limit.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { GraphBuilder } from '../onnx/builder.ts';
import { type Value, numel } from '../onnx/ir.ts';
import { runtimeInfo, Session, type ExecutionProvider } from '../runtime/session.ts';
import { type MatMulCase, type MatMulShape, type Orientation, addBytes, caseDims, caseKey } from './analyse.ts';
import { benchInputs } from '../bench/measure.ts';
import type { MachineLimits, RateEntry } from '../bench/types.ts';

/** Timed runs per measurement: at least MIN_REPEATS, then more while under BUDGET_MS, at most MAX_REPEATS. */
const MIN_REPEATS = 3;
const MAX_REPEATS = 15;
const BUDGET_MS = 250;
/** Elements per operand of the bandwidth Add: 64 MiB each, far past any cache. */
const ADD_ELEMENTS = 1 << 24;
/**
 * Elements per operand of the cache-resident bandwidths (footprints 1.5 and 12 MiB): a training
 * step's [16, 512, 64] activations (2 MiB) are read from cache, at 2–4× the memory's rate, so
 * one memory bandwidth put the "limit" above the measured time (113% of a step).
 */
export const CACHED_ELEMENTS = [1 << 17, 1 << 20] as const;
/** Chained Adds per cache-resident measurement: the run's fixed cost (tens of µs) is shared. */
const CHAIN = 16;

/** One measurement: its best time's rate and the spread of its repeats. */
export interface Timing {
  readonly rate: number;
  readonly noise: number;
  readonly repeats: number;
}

/** The machine as ONNX Runtime sees it: CPU, cores, provider, threads and ONNX Runtime's version. */
export function fingerprint(ep: ExecutionProvider, threads: number | null): string {
  const parts = [os.cpus()[0]?.model ?? '', os.availableParallelism(), ep, threads ?? 'auto', runtimeInfo().version];
  return createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 16);
}

/** The cache directory ($PERFORMER_CACHE_DIR, else $XDG_CACHE_HOME/performer or ~/.cache/performer). */
export const cacheDir = (): string => process.env.PERFORMER_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(os.homedir(), '.cache'), 'performer');

export const limitsCachePath = (): string => join(cacheDir(), 'limits.json');

type CacheFile = Record<string, { bandwidth?: RateEntry; cachedBandwidth?: Record<string, RateEntry>; matmul?: Record<string, RateEntry> }>;

function readCache(): CacheFile {
  try {
    return JSON.parse(readFileSync(limitsCachePath(), 'utf8')) as CacheFile;
  } catch {
    return {};
  }
}

function writeCache(cache: CacheFile): void {
  try {
    const path = limitsCachePath();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, JSON.stringify(cache, null, 2));
    renameSync(`${path}.tmp`, path);
  } catch {
    // An unwritable cache only costs a re-measurement next time.
  }
}

/** x, unless y is strictly faster (x is ours: it has this run's measurement folded in). */
const higher = (x: RateEntry | undefined, y: RateEntry | undefined) => (!x || (y && y.rate > x.rate) ? y : x);

/** Saves this machine's entries, re-reading the file first: another run may have saved better ones meanwhile. */
function save(key: string, mine: { bandwidth?: RateEntry; cachedBandwidth: Record<string, RateEntry>; matmul: Record<string, RateEntry> }): void {
  const cache = readCache();
  const theirs = cache[key] ?? {};
  const matmul = { ...theirs.matmul };
  for (const [k, e] of Object.entries(mine.matmul)) matmul[k] = higher(e, matmul[k])!;
  const cachedBandwidth = { ...theirs.cachedBandwidth };
  for (const [k, e] of Object.entries(mine.cachedBandwidth)) cachedBandwidth[k] = higher(e, cachedBandwidth[k])!;
  const bandwidth = higher(mine.bandwidth, theirs.bandwidth);
  writeCache({ ...cache, [key]: { ...(bandwidth ? { bandwidth } : {}), cachedBandwidth, matmul } });
}

/** A cached entry with a new measurement folded in: the higher rate wins, with its own date and noise. */
export function keepBest(old: RateEntry | undefined, t: Timing, at = new Date().toISOString()): RateEntry {
  const sessions = (old?.sessions ?? 0) + 1;
  if (old && old.rate >= t.rate) return { ...old, sessions, lastMeasuredAt: at };
  return { rate: t.rate, measuredAt: at, noise: t.noise, repeats: t.repeats, sessions, lastMeasuredAt: at };
}

/**
 * Times the node `build` returns the output of: best and median of the repeats after an untimed
 * run. The graph outputs one element of it, so the timing holds the node's own work, not the copy
 * of a large output into JavaScript (which would halve the rate of a 64 MiB result).
 */
async function timeGraph(
  build: (b: GraphBuilder) => Value,
  ep: ExecutionProvider,
  threads: number | null,
): Promise<{ bestMs: number; noise: number; repeats: number }> {
  const b = new GraphBuilder('limit');
  const y = build(b);
  const graph = b.build([b.slice(b.reshape(y, [numel(y.shape)]), [0], [0], [1])]);
  const s = await Session.fromGraph(graph, { ep, ...(threads !== null ? { threads } : {}) });
  try {
    const feeds = s.prepare(benchInputs(graph, 1));
    await s.runRaw(feeds);
    const times: number[] = [];
    const start = performance.now();
    while (times.length < MIN_REPEATS || (times.length < MAX_REPEATS && performance.now() - start < BUDGET_MS)) {
      const t = performance.now();
      await s.runRaw(feeds);
      times.push(performance.now() - t);
    }
    times.sort((x, y) => x - y);
    const best = times[0]!;
    return { bestMs: best, noise: (times[times.length >> 1]! - best) / best, repeats: times.length };
  } finally {
    await s.release();
  }
}

/** Values for a constant B: never zero or denormal, like the bench inputs. */
const constantData = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 0.618034) % 1) - 0.5 || 0.25);

/** ONNX Runtime's float32 MatMul rate (GFLOP/s) at one shape and orientation, as the graphs run it. */
export async function measureMatMulRate(shape: MatMulShape, orientation: Orientation, ep: ExecutionProvider, threads: number | null): Promise<Timing> {
  const t = await timeGraph(
    (b) => {
      const a = b.input('a', shape.a);
      const w = shape.constantB ? b.constant(constantData(numel(shape.b)), shape.b) : b.input('b', shape.b);
      return b.matMul(orientation.transA ? b.transposeLast(a) : a, orientation.transB ? b.transposeLast(w) : w);
    },
    ep,
    threads,
  );
  return { rate: caseDims({ shape, orientation }).flops / t.bestMs / 1e6, noise: t.noise, repeats: t.repeats };
}

/** The elementwise bandwidth (GB/s): a float32 Add of two 2^24-element tensors moves 12 bytes per element. */
export async function measureBandwidth(ep: ExecutionProvider, threads: number | null): Promise<Timing> {
  const t = await timeGraph((b) => b.add(b.input('a', [ADD_ELEMENTS]), b.input('b', [ADD_ELEMENTS])), ep, threads);
  return { rate: addBytes(ADD_ELEMENTS) / t.bestMs / 1e6, noise: t.noise, repeats: t.repeats };
}

/** The bandwidth (GB/s) of `elements`-element float32 Adds that stay in cache: CHAIN of them in one run. */
export async function measureCachedBandwidth(elements: number, ep: ExecutionProvider, threads: number | null): Promise<Timing> {
  const t = await timeGraph(
    (b) => {
      const a = b.input('a', [elements]);
      let y = b.input('b', [elements]);
      for (let i = 0; i < CHAIN; i++) y = b.add(y, a);
      return y;
    },
    ep,
    threads,
  );
  return { rate: (addBytes(elements) * CHAIN) / t.bestMs / 1e6, noise: t.noise, repeats: t.repeats };
}

export interface EnsureOptions {
  /** Measure every case again (the cache still keeps the best). */
  readonly refresh?: boolean;
  /** Before each measurement: what is measured, its index and the count. */
  readonly onMeasure?: (what: string, index: number, total: number) => void;
}

/**
 * The rates of `cases` and the bandwidth for this machine: cached entries as they are, missing
 * ones (or all, with `refresh`) measured, folded into the cache and saved. A case whose
 * measurement fails is left out (the limit then prices it at the fallback rate).
 */
export async function ensureRates(cases: readonly MatMulCase[], ep: ExecutionProvider, threads: number | null, o: EnsureOptions = {}): Promise<MachineLimits> {
  const key = fingerprint(ep, threads);
  const cache = readCache();
  const mine = {
    matmul: { ...cache[key]?.matmul },
    cachedBandwidth: { ...cache[key]?.cachedBandwidth },
    ...(cache[key]?.bandwidth ? { bandwidth: cache[key].bandwidth } : {}),
  };
  const todo = cases.filter((c) => o.refresh || !mine.matmul[caseKey(c)]);
  const sizes = CACHED_ELEMENTS.filter((n) => o.refresh || !mine.cachedBandwidth[String(n)]);
  const extra = (o.refresh || !mine.bandwidth ? 1 : 0) + sizes.length;
  const total = todo.length + extra;
  if (o.refresh || !mine.bandwidth) {
    o.onMeasure?.('elementwise bandwidth', 0, total);
    mine.bandwidth = keepBest(mine.bandwidth, await measureBandwidth(ep, threads));
  }
  for (const [i, n] of sizes.entries()) {
    o.onMeasure?.(`elementwise bandwidth in cache (${(addBytes(n) / 2 ** 20).toFixed(1)} MiB)`, extra - sizes.length + i, total);
    const t = await measureCachedBandwidth(n, ep, threads).catch(() => null);
    if (t) mine.cachedBandwidth[String(n)] = keepBest(mine.cachedBandwidth[String(n)], t);
  }
  for (const [i, c] of todo.entries()) {
    o.onMeasure?.(caseKey(c), extra + i, total);
    const t = await measureMatMulRate(c.shape, c.orientation, ep, threads).catch(() => null);
    if (t) mine.matmul[caseKey(c)] = keepBest(mine.matmul[caseKey(c)], t);
  }
  if (total) save(key, mine);
  const wanted = new Set(cases.map(caseKey));
  const matmul = Object.fromEntries(Object.entries(mine.matmul).filter(([k]) => wanted.has(k)));
  return { fingerprint: key, ep, threads, bandwidth: mine.bandwidth!, cachedBandwidth: mine.cachedBandwidth, matmul };
}

/** Every cached entry of this machine (none measured), or null when nothing is cached. */
export function cachedLimits(ep: ExecutionProvider, threads: number | null): MachineLimits | null {
  const key = fingerprint(ep, threads);
  const hit = readCache()[key];
  return hit?.bandwidth
    ? {
        fingerprint: key,
        ep,
        threads,
        bandwidth: hit.bandwidth,
        ...(hit.cachedBandwidth ? { cachedBandwidth: hit.cachedBandwidth } : {}),
        matmul: hit.matmul ?? {},
      }
    : null;
}
