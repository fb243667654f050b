/**
 * Thread-pool spinning: a process that runs several sessions in turn (bench --interleave, train)
 * turns it off, because each idle session's pool would otherwise spin on the cores the running
 * one needs; a process with one session keeps ONNX Runtime's default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
  kernel, pass: 'forward', causal: false, causalImpl: 'chunked', chunkSize: 64, scope: 'attention', seqLen: 16, batch: 1, heads: 1, dim: 8,
  features: 8, featureType: 'orthogonal', ep: 'cpu', dtype: 'float32', seed: 0, threads: null, layers: null, dFf: null, vocab: null,
});
const measure = { timeMs: 1, minRuns: 2, warmupRuns: 0, profile: false };

describe('thread-pool spinning', () => {
  it('spinning: false sets allow_spinning = 0; the default leaves ONNX Runtime its own', () => {
    assert.equal(sessionOptions({ ep: 'cpu' }).extra, undefined);
    assert.equal(sessionOptions({ ep: 'cpu', spinning: true }).extra, undefined);
    assert.deepEqual(sessionOptions({ ep: 'cpu', spinning: false }).extra, { session: { intra_op: { allow_spinning: '0' } } });
  });

  it('a session without spinning loads and computes the same as one with it', async () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', [4, 8]);
    const graph = b.build([b.named(b.matMul(b.exp(x), b.transposeLast(x)), 'y')]);
    const feeds = { x: { dtype: 'float32' as const, dims: [4, 8], data: Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)) } };
    const outs = [];
    for (const spinning of [true, false]) {
      const s = await Session.fromGraph(graph, { ep: 'cpu', threads: 2, spinning });
      outs.push(Array.from((await s.run(feeds)).y!.data as Float32Array));
      await s.release();
    }
    assert.deepEqual(outs[1], outs[0]);
  });

  it('bench: interleaved kernels run without spinning, a point in its own process with the default', async () => {
    const interleaved = await sessionConfigs(() => measureInterleaved([point('softmax'), point('favor-pos')], measure));
    // the first session is the one-node warm-up, released before the points open
    assert.equal(interleaved.length, 3);
    assert.ok(interleaved.slice(1).every((c) => c.spinning === false), JSON.stringify(interleaved));
    const alone = await sessionConfigs(() => measurePoint(point('favor-pos'), measure));
    assert.ok(alone.length >= 1 && alone.every((c) => c.spinning === undefined), JSON.stringify(alone));
  });

  it('train: the train and eval sessions of a kernel run without spinning', async () => {
    const req: TrainRequest = {
      task: 'spam', objective: 'classify', kernels: ['favor-pos'], seeds: 1, steps: 1, timeBudgetS: null, seqLen: 16, dim: 8, heads: 1, layers: 1, dFf: 8,
      features: 8, featureType: 'orthogonal', batch: 2, lr: 1e-3, warmup: 0, decay: 'none', weightDecay: 0, clip: 0, redrawEvery: null, pooling: 'mean',
      causal: false, causalImpl: 'chunked', chunkSize: 64, evalEvery: 1, evalBatches: null, targetAcc: null, threads: null, ep: 'cpu',
    };
    const shape = { batch: 2, seqLen: 16, heads: 1, dModel: 8, layers: 1, dFf: 8, vocab: BYTE_VOCAB };
    let run: KernelRun | undefined;
    const configs = await sessionConfigs(async () => {
      run = await KernelRun.open('favor-pos', 0, req, shape, 2, 0);
    });
    await run?.release();
    assert.equal(configs.length, 2);
    assert.ok(configs.every((c) => c.spinning === false), JSON.stringify(configs));
  });
});
