/**
 * This machine's limits through ONNX Runtime: the provider's float32 matrix-multiply rate and its
 * memory bandwidth (an elementwise Add: 3 bytes moved per 4-byte element … 12 bytes per element).
 * Cached per machine fingerprint (CPU, cores, provider, threads, ONNX Runtime version).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { GraphBuilder } from '../onnx/builder.ts';
import { runtimeInfo, Session, type ExecutionProvider } from '../runtime/session.ts';
import { benchInputs } from './measure.ts';
import type { Roofline } from './types.ts';

export type { Roofline } from './types.ts';


const MATMUL_N = 1536;
const ADD_ELEMENTS = 1 << 24;
const REPEATS = 7;

export function fingerprint(ep: ExecutionProvider, threads: number | null): string {
  const parts = [os.cpus()[0]?.model ?? '', os.availableParallelism(), ep, threads ?? 'auto', runtimeInfo().version];
  return createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 16);
}

export function cachePath(): string {
  const base = process.env.PERFORMER_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(os.homedir(), '.cache'), 'performer');
  return join(base, 'roofline.json');
}

function readCache(): Record<string, Roofline> {
  try {
    return JSON.parse(readFileSync(cachePath(), 'utf8')) as Record<string, Roofline>;
  } catch {
    return {};
  }
}

/** Best time of REPEATS runs (after one untimed run): the machine's capability, not its noise. */
async function bestMs(build: (b: GraphBuilder) => void, ep: ExecutionProvider, threads: number | null): Promise<number> {
  const b = new GraphBuilder('roofline');
  build(b);
  const graph = b.build([b.nodes.at(-1)!.outputs[0]!]);
  const s = await Session.fromGraph(graph, { ep, ...(threads !== null ? { threads } : {}) });
  try {
    const feeds = s.prepare(benchInputs(graph, 1));
    await s.runRaw(feeds);
    let best = Infinity;
    for (let i = 0; i < REPEATS; i++) {
      const t = performance.now();
      await s.runRaw(feeds);
      best = Math.min(best, performance.now() - t);
    }
    return best;
  } finally {
    await s.release();
  }
}

export async function measureRoofline(ep: ExecutionProvider, threads: number | null): Promise<Roofline> {
  const n = MATMUL_N;
  const mm = await bestMs((b) => b.matMul(b.input('a', [n, n]), b.input('b', [n, n])), ep, threads);
  const add = await bestMs((b) => b.add(b.input('a', [ADD_ELEMENTS]), b.input('b', [ADD_ELEMENTS])), ep, threads);
  return {
    fingerprint: fingerprint(ep, threads),
    matmulGflops: (2 * n ** 3) / mm / 1e6,
    bandwidthGBps: (3 * 4 * ADD_ELEMENTS) / add / 1e6,
    matmulSize: n,
    measuredAt: new Date().toISOString(),
    ep,
    threads,
  };
}

/** The cached roofline for this machine, measured (and cached) when missing or `refresh`. */
export async function getRoofline(ep: ExecutionProvider, threads: number | null, refresh = false): Promise<Roofline> {
  const key = fingerprint(ep, threads);
  const cache = readCache();
  const hit = cache[key];
  if (hit && !refresh) return hit;
  const r = await measureRoofline(ep, threads);
  try {
    const path = cachePath();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, JSON.stringify({ ...cache, [key]: r }, null, 2));
    renameSync(`${path}.tmp`, path);
  } catch {
    // An unwritable cache only costs a re-measurement next time.
  }
  return r;
}
