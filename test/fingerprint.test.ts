/** Graph fingerprints (src/onnx/fingerprint.ts) and `performer reproduce --status`. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Experiment } from '../experiments/index.ts';
import { pointFingerprint, pointGraph } from '../src/bench/graph.ts';
import type { BenchPoint } from '../src/bench/types.ts';
import { RULES } from '../src/onnx/rewrites.ts';
import { graphFingerprint } from '../src/onnx/fingerprint.ts';
import { definitionArgs, experimentStatus } from '../src/report/status.ts';
import { runTraining } from '../src/train/run.ts';
import type { TrainRequest } from '../src/train/types.ts';

const point = (over: Partial<BenchPoint> = {}): BenchPoint => ({
  kernel: 'favor-pos',
  pass: 'backward',
  causal: false,
  causalImpl: 'chunked',
  chunkSize: 64,
  scope: 'attention',
  seqLen: 64,
  batch: 1,
  heads: 2,
  dim: 8,
  features: 16,
  featureType: 'orthogonal',
  ep: 'cpu',
  dtype: 'float32',
  seed: 0,
  threads: null,
  layers: null,
  dFf: null,
  vocab: null,
  ...over,
});

describe('graph fingerprints', () => {
  it('the same code and options give the same hash; the seed (projections, model parameters) does not enter', () => {
    for (const p of [
      point(),
      point({ kernel: 'favor-opr', pass: 'forward' }),
      point({ scope: 'model', kernel: 'softmax', layers: 1, dFf: 16, vocab: 32 }),
      point({ scope: 'model', layers: 1, dFf: 16, vocab: 32 }),
    ]) {
      const h = pointFingerprint(p);
      assert.match(h, /^[0-9a-f]{16}$/);
      assert.equal(pointFingerprint(p), h);
      assert.equal(pointFingerprint({ ...p, seed: 12345 }), h, `${p.kernel} ${p.scope}: the seed changed the hash`);
    }
  });

  it('any change to the graph changes it: sizes, m, causal, kernel, pass, a constant of the code', () => {
    const base = pointFingerprint(point());
    const others = [
      point({ seqLen: 128 }),
      point({ features: 32 }),
      point({ causal: true }),
      point({ kernel: 'favor-relu' }),
      point({ pass: 'forward' }),
      point({ dtype: 'float64' }),
    ].map((p) => pointFingerprint(p));
    assert.equal(new Set([base, ...others]).size, others.length + 1);
    // A constant that does not come from the seed (here: every non-seeded initializer in turn) is hashed by value.
    const g = pointGraph(point());
    const twin = pointGraph(point({ seed: 1 }));
    let changed = 0;
    for (const [i, init] of g.initializers.entries()) {
      const same = twin.initializers.find((j) => j.value.name === init.value.name);
      if (
        !same ||
        Buffer.compare(
          Buffer.from(same.data.buffer, same.data.byteOffset, same.data.byteLength),
          Buffer.from(init.data.buffer, init.data.byteOffset, init.data.byteLength),
        ) !== 0
      )
        continue;
      if (!(init.data instanceof Float32Array) || !init.data.length) continue;
      const data = init.data.slice();
      data[0] = data[0]! + 1;
      const edited = { ...g, initializers: g.initializers.map((x, k) => (k === i ? { ...x, data } : x)) };
      assert.notEqual(graphFingerprint(edited, twin), base, `constant ${init.value.name}`);
      changed++;
    }
    assert.ok(changed > 0, 'no code constant to edit');
  });

  it('one builder rule switched off (the Slice push-down) changes the hash of the graphs it rewrites', () => {
    const p = point();
    const before = pointFingerprint(p);
    const passes = RULES.build as unknown as (() => void)[];
    const at = passes.findIndex((pass) => pass.name === 'pushSlices');
    assert.ok(at >= 0, 'no pushSlices pass in RULES.build');
    const rule = passes[at]!;
    passes[at] = () => {};
    try {
      assert.notEqual(pointFingerprint(p), before);
    } finally {
      passes[at] = rule;
    }
    assert.equal(pointFingerprint(p), before);
  });
});

const FIXTURE = new URL('./fixtures/proteins.fasta', import.meta.url).pathname;

describe('reproduce --status', () => {
  it("a train result made by today's code is current; a changed graph hash or option makes it stale, naming the kernel or option", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'performer-status-'));
    try {
      const args = ['train', '--task', 'fasta', '--objective', 'mlm', '--kernels', 'softmax,favor-pos'];
      const exp: Experiment = { id: 'x', title: 't', description: 'd', kind: 'train', full: args, quick: args };
      const req: TrainRequest = {
        task: 'fasta',
        objective: 'mlm',
        data: FIXTURE,
        kernels: ['softmax', 'favor-pos'],
        seeds: 1,
        steps: 2,
        timeBudgetS: null,
        seqLen: 32,
        dim: 8,
        heads: 2,
        layers: 1,
        dFf: 8,
        features: 8,
        featureType: 'orthogonal',
        batch: 2,
        lr: 1e-3,
        warmup: 0,
        decay: 'none',
        weightDecay: 0,
        clip: 1,
        redrawEvery: null,
        pooling: 'mean',
        causal: false,
        causalImpl: 'chunked',
        chunkSize: 64,
        evalEvery: 2,
        evalBatches: 1,
        targetAcc: null,
        threads: 1,
        ep: 'cpu',
      };
      const doc = await runTraining(req, null, false);
      assert.ok(doc.records.every((r) => typeof r.graphHash === 'string'));
      const write = (d: unknown) => {
        mkdirSync(join(dir, 'x'), { recursive: true });
        writeFileSync(join(dir, 'x', 'data.json'), JSON.stringify(d));
      };
      const environment = { ...(doc.environment as object), commandLine: `performer ${args.join(' ')} --out ${dir}/x --format json` };
      write({ ...doc, environment });
      assert.equal((await experimentStatus(exp, dir)).status, 'current');
      write({ ...doc, environment, records: doc.records.map((r) => (r.kernel === 'favor-pos' ? { ...r, graphHash: '0000000000000000' } : r)) });
      assert.deepEqual(await experimentStatus(exp, dir).then((s) => [s.status, s.detail]), ['stale', 'graphs changed: favor-pos']);
      write({ ...doc, environment: { ...environment, commandLine: `performer ${args.join(' ')} --steps 9 --out ${dir}/x --format json` } });
      const s = await experimentStatus(exp, dir);
      assert.equal(s.status, 'stale');
      assert.match(s.detail, /options changed: \+--steps \+9/);
      write({ ...doc, environment, records: doc.records.map(({ graphHash: _, ...r }) => r) });
      assert.equal((await experimentStatus(exp, dir)).status, 'no fingerprint');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reproduce --status reads the pre-run directory as {pre}', () => {
  it('after --inputs and --init-from, for the experiment that made it only', () => {
    const pre = { id: 'error-real', name: 'model' };
    const cmd = (dir: string) => `performer error --inputs ${dir} --seeds 10 --out results/error-real --format json`;
    assert.deepEqual(definitionArgs(cmd('results/error-real/model'), pre), ['error', '--inputs', '{pre}', '--seeds', '10']);
    assert.deepEqual(definitionArgs(cmd('/tmp/o/error-real/model'), pre), ['error', '--inputs', '{pre}', '--seeds', '10']);
    // another experiment's model, or no pre-run in the definition: the path stays and the options differ
    assert.deepEqual(definitionArgs(cmd('results/train-spam/model'), pre), ['error', '--inputs', 'results/train-spam/model', '--seeds', '10']);
    assert.deepEqual(definitionArgs(cmd('results/error-real/model'), null), ['error', '--inputs', 'results/error-real/model', '--seeds', '10']);
    assert.deepEqual(definitionArgs('performer train --init-from r/train-transfer/source --steps 5', { id: 'train-transfer', name: 'source' }), [
      'train',
      '--init-from',
      '{pre}',
      '--steps',
      '5',
    ]);
  });
});
