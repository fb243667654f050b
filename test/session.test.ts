/**
 * Thread-pool spinning: a process that runs several sessions in turn (bench --interleave, train)
 * turns it off, because each idle session's pool would otherwise spin on the cores the running
 * one needs; a process with one session keeps ONNX Runtime's default.
 */
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { measureInterleaved, measurePoint } from '../src/bench/measure.ts';
import type { BenchPoint } from '../src/bench/types.ts';
import { GraphBuilder } from '../src/onnx/builder.ts';
import { Session, sessionOptions, type SessionConfig } from '../src/runtime/session.ts';
import { KernelRun } from '../src/train/session.ts';
import { BYTE_VOCAB } from '../src/train/data/types.ts';
import type { TrainRequest } from '../src/train/types.ts';

/** Records the config of every session `body` creates. */
async function sessionConfigs(body: () => Promise<unknown>): Promise<SessionConfig[]> {
  const seen: SessionConfig[] = [];
  const original = Session.fromGraph;
  Session.fromGraph = (graph, config) => {
    seen.push(config);
    return original.call(Session, graph, config);
  };
  try {
    await body();
  } finally {
    Session.fromGraph = original;
  }
  return seen;
}

const point = (kernel: string): BenchPoint => ({
  kernel,
  pass: 'forward',
  causal: false,
  causalImpl: 'chunked',
  chunkSize: 64,
  scope: 'attention',
  seqLen: 16,
  batch: 1,
  heads: 1,
  dim: 8,
  features: 8,
  featureType: 'orthogonal',
  ep: 'cpu',
  dtype: 'float32',
  seed: 0,
  threads: null,
  layers: null,
  dFf: null,
  vocab: null,
});
const measure = { timeMs: 1, minRuns: 2, warmupRuns: 0, profile: false };

describe('thread-pool spinning', () => {
  it('spinning: false sets allow_spinning = 0; the default leaves ONNX Runtime its own', () => {
    assert.equal(sessionOptions({ ep: 'cpu' }).extra, undefined);
    assert.equal(sessionOptions({ ep: 'cpu', spinning: true }).extra, undefined);
    assert.deepEqual(sessionOptions({ ep: 'cpu', spinning: false }).extra, { session: { intra_op: { allow_spinning: '0' } } });
  });

  it('the option reaches ONNX Runtime, and a session without spinning computes the same numbers', async () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', [4, 8]);
    const graph = b.build([b.named(b.matMul(b.exp(x), b.transposeLast(x)), 'y')]);
    const feeds = { x: { dtype: 'float32' as const, dims: [4, 8], data: Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)) } };
    const seen: ort.InferenceSession.SessionOptions[] = [];
    const create = ort.InferenceSession.create;
    (ort.InferenceSession as { create: unknown }).create = (model: Uint8Array, options: ort.InferenceSession.SessionOptions) => {
      seen.push(options);
      return create.call(ort.InferenceSession, model, options);
    };
    const outs = [];
    try {
      for (const spinning of [true, false]) {
        const s = await Session.fromGraph(graph, { ep: 'cpu', threads: 2, spinning });
        outs.push(Array.from((await s.run(feeds)).y!.data as Float32Array));
        await s.release();
      }
    } finally {
      (ort.InferenceSession as { create: unknown }).create = create;
    }
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.extra, undefined);
    assert.deepEqual(seen[1]!.extra, { session: { intra_op: { allow_spinning: '0' } } });
    assert.deepEqual(outs[1], outs[0]);
  });

  // What the option does: CPU time the process burns while idle right after a run. With spinning
  // the pool's worker spin-waits (tens of ms of CPU per 100 ms idle here); without it, it sleeps.
  // A behavioural check, not a timing claim: it only compares the two by a wide factor.
  it('without spinning, an idle session burns no CPU after its run', { skip: cpus().length < 2 ? 'needs 2 cores' : false }, async (t) => {
    const b = new GraphBuilder('burn');
    const x = b.input('x', [512, 512]);
    const graph = b.build([b.named(b.matMul(x, x), 'y')]);
    const feeds = { x: { dtype: 'float32' as const, dims: [512, 512], data: new Float32Array(512 * 512).fill(0.001) } };
    const idleCpuMs = async (spinning: boolean) => {
      const s = await Session.fromGraph(graph, { ep: 'cpu', threads: 2, spinning });
      const p = s.prepare(feeds);
      let ms = 0;
      for (let i = 0; i < 3; i++) {
        await s.runRaw(p);
        const before = process.cpuUsage();
        await sleep(100);
        const d = process.cpuUsage(before);
        ms += (d.user + d.system) / 1000;
      }
      await s.release();
      return ms;
    };
    const on = await idleCpuMs(true);
    const off = await idleCpuMs(false);
    if (on < 20) return t.skip(`ONNX Runtime's pool did not spin here (${on.toFixed(1)} ms of idle CPU with spinning)`);
    assert.ok(off * 4 < on, `idle CPU over 3 × 100 ms: ${off.toFixed(1)} ms without spinning, ${on.toFixed(1)} ms with`);
  });

  it('bench: interleaved kernels run without spinning, a point in its own process with the default', async () => {
    const interleaved = await sessionConfigs(() => measureInterleaved([point('softmax'), point('favor-pos')], measure));
    // the first session is the one-node warm-up, released before the points open; the two points'
    // sessions are the last two
    assert.ok(interleaved.length >= 2);
    assert.ok(
      interleaved.slice(-2).every((c) => c.spinning === false),
      JSON.stringify(interleaved),
    );
    const alone = await sessionConfigs(() => measurePoint(point('favor-pos'), measure));
    assert.ok(alone.length >= 1 && alone.every((c) => c.spinning !== false), JSON.stringify(alone));
  });

  it('train: the train and eval sessions of a kernel run without spinning', async () => {
    const req: TrainRequest = {
      task: 'spam',
      objective: 'classify',
      kernels: ['favor-pos'],
      seeds: 1,
      steps: 1,
      timeBudgetS: null,
      seqLen: 16,
      dim: 8,
      heads: 1,
      layers: 1,
      dFf: 8,
      features: 8,
      featureType: 'orthogonal',
      batch: 2,
      lr: 1e-3,
      warmup: 0,
      decay: 'none',
      weightDecay: 0,
      clip: 0,
      redrawEvery: null,
      pooling: 'mean',
      causal: false,
      causalImpl: 'chunked',
      chunkSize: 64,
      evalEvery: 1,
      evalBatches: null,
      targetAcc: null,
      threads: null,
      ep: 'cpu',
    };
    const shape = { batch: 2, seqLen: 16, heads: 1, dModel: 8, layers: 1, dFf: 8, vocab: BYTE_VOCAB };
    let run: KernelRun | undefined;
    const configs = await sessionConfigs(async () => {
      run = await KernelRun.open('favor-pos', 0, req, shape, 2, 0);
    });
    await run?.release();
    assert.equal(configs.length, 2);
    assert.ok(
      configs.every((c) => c.spinning === false),
      JSON.stringify(configs),
    );
  });
});
