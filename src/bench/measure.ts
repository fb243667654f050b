/**
 * Times one point (run inside its own child process by the runner): build → session (untimed
 * first run) → warm-up → tinybench's timed runs with raw samples → peak resident memory above the
 * process's baseline. Inputs are generated once, outside the timed region.
 */
import { readFileSync, rmSync } from 'node:fs';
import { Bench } from 'tinybench';
import { Rng } from '../random.ts';
import { GraphBuilder } from '../onnx/builder.ts';
import { type Graph, numel } from '../onnx/ir.ts';
import { toHalfBits } from '../onnx/serialize.ts';
import { type HostTensor, type PreparedFeeds, Session, type SessionConfig } from '../runtime/session.ts';
import { pointConfig, pointGraph, pointShape } from './graph.ts';
import { getKernel } from '../kernels/index.ts';
import { openTrainStep } from '../train/step.ts';
import { type BenchPoint, type Measurement, type MeasureOptions, type NodeTime, notMeasured } from './types.ts';

/** Peak resident set size of this process so far, bytes (getrusage). */
export const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

const POOL = 1 << 16;

/**
 * i.i.d. N(0,1) inputs from the seed. Large tensors tile a 2^16-value pool at a seed-dependent
 * offset per tensor: timings do not depend on the values, only on their never being zero or
 * denormal, and drawing 10^8 normals would cost seconds per point.
 */
export function benchInputs(g: Graph, seed: number, vocab = 1): Record<string, HostTensor> {
  const rng = new Rng(seed);
  const pool = Float64Array.from({ length: POOL }, () => rng.gaussian());
  let halfPool: Uint16Array | undefined; // the same values as IEEE half bits, encoded once
  const feeds: Record<string, HostTensor> = {};
  g.inputs.forEach((v, i) => {
    const n = numel(v.shape);
    if (v.dtype === 'int64') {
      // token ids, uniform over the vocabulary
      feeds[v.name] = { dtype: 'int64', dims: v.shape, data: BigInt64Array.from({ length: n }, () => BigInt(rng.nextU32() % vocab)) };
      return;
    }
    const offset = (i * 7919) % POOL;
    const source = v.dtype === 'float16' ? (halfPool ??= Uint16Array.from(pool, toHalfBits)) : pool;
    const data = v.dtype === 'float16' ? new Uint16Array(n) : v.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    for (let j = 0; j < n; j++) data[j] = source[(j + offset) % POOL]!;
    feeds[v.name] = { dtype: v.dtype, dims: v.shape, data };
  });
  return feeds;
}

const isOom = (msg: string) => /bad_alloc|out of memory|failed to allocate|allocation fail/i.test(msg);

export function failed(e: unknown): Measurement {
  const msg = e instanceof Error ? e.message : String(e);
  return notMeasured(isOom(msg) ? 'oom' : 'error', msg);
}

/**
 * Loads ONNX Runtime's provider, thread pools and allocator with a one-node session, so the
 * baseline includes them and a point's peak memory is its own.
 */
async function warmRuntime(point: BenchPoint): Promise<void> {
  const b = new GraphBuilder('probe');
  const graph = b.build([b.named(b.exp(b.input('x', [64])), 'y')]);
  const s = await Session.fromGraph(graph, sessionConfig(point, false));
  await s.runRaw(s.prepare(benchInputs(graph, 0)));
  await s.release();
}

const sessionConfig = (point: BenchPoint, profile: boolean, spinning = true): SessionConfig => ({
  ep: point.ep,
  ...(point.threads !== null ? { threads: point.threads } : {}),
  profile,
  spinning,
});

/** What a point times: `run()` is one run (a graph run, or a whole training step). */
interface Runner {
  run(): Promise<unknown>;
  release(): Promise<void>;
  /** The profiler's trace file (graph scopes opened with profiling). */
  readonly endProfiling?: () => Promise<string>;
}

/** A point ready to time, after its untimed first run. */
interface OpenPoint extends Runner {
  readonly sessionCreateMs: number;
  readonly firstRunMs: number;
}

/**
 * Opens the point's runner: its graph's session with the inputs prepared, or with --scope train
 * a training step. Returns the untimed preparation (graph, inputs) done and the timed part
 * (session creation) as a function.
 */
function runnerOf(point: BenchPoint, profile: boolean, spinning: boolean): () => Promise<Runner> {
  if (point.scope === 'train')
    return () =>
      openTrainStep(
        { kernel: getKernel(point.kernel), shape: pointShape(point), config: pointConfig(point), ep: point.ep, threads: point.threads },
        point.seed,
        spinning,
      );
  const graph = pointGraph(point);
  const feeds = benchInputs(graph, point.seed, point.vocab ?? 1);
  return async () => {
    const session = await Session.fromGraph(graph, sessionConfig(point, profile, spinning));
    try {
      const prepared: PreparedFeeds = session.prepare(feeds);
      return { run: () => session.runRaw(prepared), release: () => session.release(), endProfiling: () => session.endProfiling() };
    } catch (e) {
      await session.release();
      throw e;
    }
  };
}

/** Builds the point's graph and inputs (or training step), creates its session and does the untimed first run. */
async function openPoint(point: BenchPoint, profile: boolean, spinning = true): Promise<OpenPoint> {
  const open = runnerOf(point, profile, spinning);
  const t0 = performance.now();
  const runner = await open();
  try {
    const t1 = performance.now();
    await runner.run(); // first run: lazy initialisation, reported apart
    // Named, not spread: a training step's graphHash is a getter that would build two graphs here.
    const { run, release, endProfiling } = runner;
    return { run, release, ...(endProfiling ? { endProfiling } : {}), sessionCreateMs: t1 - t0, firstRunMs: performance.now() - t1 };
  } catch (e) {
    await runner.release();
    throw e;
  }
}

export async function measurePoint(point: BenchPoint, opts: MeasureOptions): Promise<Measurement> {
  await warmRuntime(point).catch(() => undefined); // a provider failure is reported by the real session below
  const baseline = peakRss();
  let open: OpenPoint | undefined;
  try {
    open = await openPoint(point, opts.profile);
    const timed = open;
    const bench = new Bench({
      time: opts.timeMs,
      iterations: opts.minRuns,
      warmupIterations: opts.warmupRuns,
      warmupTime: 0,
      retainSamples: true,
      throws: true,
    });
    bench.add(point.kernel, async () => {
      await timed.run();
    });
    await bench.run();
    const r = bench.tasks[0]!.result;
    if (r.state !== 'completed') throw new Error(`timing ended in state ${r.state}`);
    const samplesMs = [...(r.latency.samples ?? [])];
    const runs = 1 + opts.warmupRuns + samplesMs.length;
    const traced = opts.profile && open.endProfiling ? opProfile(await open.endProfiling(), runs) : null;
    return {
      status: 'ok',
      samplesMs,
      firstRunMs: open.firstRunMs,
      sessionCreateMs: open.sessionCreateMs,
      peakMemoryBytes: peakRss() - baseline,
      profile: traced?.byOp ?? null,
      nodeProfile: traced?.byNode ?? null,
      error: null,
    };
  } catch (e) {
    return failed(e);
  } finally {
    await open?.release();
  }
}

/**
 * Times several points (the kernels of one size) in alternating rounds: each round runs every
 * session once, so machine drift hits all of them alike. Rounds continue until every kernel has
 * `minRuns` samples and the summed budget `timeMs × points` is spent. Peak memory cannot be told
 * apart between sessions of one process, so it is reported as null.
 */
export async function measureInterleaved(points: readonly BenchPoint[], opts: MeasureOptions): Promise<Measurement[]> {
  await warmRuntime(points[0]!).catch(() => undefined);
  const live: (OpenPoint & { i: number })[] = [];
  const results: Measurement[] = points.map(() => failed(new Error('not run')));
  try {
    for (const [i, point] of points.entries()) {
      try {
        // Spinning off: the sessions take turns, and each one's thread pool would otherwise spin
        // on the cores the next one runs on (Session's `spinning`).
        live.push({ i, ...(await openPoint(point, false, false)) });
      } catch (e) {
        results[i] = failed(e);
      }
    }
    for (let w = 0; w < opts.warmupRuns; w++) for (const l of live) await l.run();
    const samples = live.map(() => [] as number[]);
    const budget = opts.timeMs * live.length;
    const start = performance.now();
    while (samples.some((x) => x.length < opts.minRuns) || performance.now() - start < budget) {
      for (const [k, l] of live.entries()) {
        const t = performance.now();
        await l.run();
        samples[k]!.push(performance.now() - t);
      }
    }
    live.forEach((l, k) => {
      results[l.i] = {
        status: 'ok',
        samplesMs: samples[k]!,
        firstRunMs: l.firstRunMs,
        sessionCreateMs: l.sessionCreateMs,
        peakMemoryBytes: null,
        profile: null,
        error: null,
      };
    });
  } catch (e) {
    for (const l of live) results[l.i] = failed(e);
  } finally {
    for (const l of live) await l.release();
  }
  return results;
}

/**
 * Mean ms per run by op type and by node, from ONNX Runtime's profiler trace (Chrome trace JSON).
 * A trace event is named `<node>_kernel_time`; a node ONNX Runtime made by fusing ours keeps our
 * first node's name before a slash (`MatMul_36/MatmulTransposeFusion/`), so nodes map back to
 * the IR's names; its op is ONNX Runtime's (FusedMatMul, Split).
 */
export function opProfile(file: string, runs: number): { byOp: Record<string, number>; byNode: NodeTime[] } {
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat?: string; name?: string; dur?: number; args?: { op_name?: string } }[];
  rmSync(file, { force: true });
  const byOp: Record<string, number> = {};
  const byNode = new Map<string, NodeTime>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.args?.op_name || !e.dur) continue;
    const ms = e.dur / 1000 / runs;
    const op = e.args.op_name;
    byOp[op] = (byOp[op] ?? 0) + ms;
    const node = (e.name ?? op).replace(/_kernel_time$/, '').split('/')[0]!;
    byNode.set(node, { node, op, ms: (byNode.get(node)?.ms ?? 0) + ms });
  }
  return { byOp: Object.fromEntries(Object.entries(byOp).sort((a, b) => b[1] - a[1])), byNode: [...byNode.values()].sort((a, b) => b.ms - a.ms) };
}
