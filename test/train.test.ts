/** `performer train`: the classifier graph's gradients and mask, batching, and the command end to end. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_KERNEL_CONFIG } from '../src/defaults.ts';
import { getKernel } from '../src/kernels/index.ts';
import { Rng } from '../src/random.ts';
import type { Param } from '../src/model/encoder.ts';
import { runGraph, type HostTensor } from '../src/runtime/session.ts';
import { epochOrder, evaluationBatches, makeBatch, makeLmBatch, scoreLogits, trainBatchIndices } from '../src/train/batches.ts';
import { buildClassifierGraph, type Pooling } from '../src/train/model.ts';
import { cli, interruptAfter } from './helpers/cli.ts';

const shape = { batch: 2, seqLen: 6, heads: 2, dModel: 4, layers: 1, dFf: 6, vocab: 7 };
const f64 = (p: Param): HostTensor => ({ dtype: 'float64', dims: p.shape, data: p.data });

function batchOf(lengths: readonly number[], L: number, seed: number) {
  const rng = new Rng(seed);
  const ex = lengths.map((n, b) => ({ tokens: Int32Array.from({ length: n }, () => 1 + Math.floor(rng.uniform() * 6)), label: b % 3 }));
  const batch = makeBatch(ex, L, 3);
  const cast = (t: HostTensor): HostTensor => (t.dtype === 'float32' ? { ...t, dtype: 'float64', data: Float64Array.from(t.data as Float32Array) } : t);
  return { tokens: batch.tokens, mask: cast(batch.mask), labels: cast(batch.train.labels!) };
}

describe('classifier graph', () => {
  // Central differences of the float64 loss, h = 1e-6: truncation ~h²·|f'''| ≈ 1e-12 and rounding
  // ~1e-16/h = 1e-10, far below the 1e-6 relative tolerance of softmax; a wrong rule shows as
  // ≥ 1e-2. The linear kernels' stabiliser shifts are constants for the gradient but move with
  // the inputs in the differences, which ε = 1e-6 lets through at ~1e-5 (as in autodiff.test.ts).
  for (const [kernel, pooling] of [
    ['softmax', 'mean'],
    ['favor-pos', 'cls'],
    ['elu', 'mean'],
  ] as const)
    it(`${kernel}, ${pooling} pooling: loss gradients vs central differences (float64)`, async () => {
      const config = { ...DEFAULT_KERNEL_CONFIG, features: 8 };
      const { graph, params } = buildClassifierGraph({
        kernel: getKernel(kernel),
        shape,
        config,
        classes: 3,
        pooling: pooling as Pooling,
        mode: 'train',
        dtype: 'float64',
      });
      const feeds = { ...batchOf([6, 4], 6, 3), ...Object.fromEntries(params.map((p) => [p.name, f64(p)])) };
      const out = await runGraph(graph, feeds, { ep: 'cpu', threads: 1 });
      const loss = async (name: string, i: number, h: number) => {
        const p = params.find((x) => x.name === name)!;
        const data = p.data.slice();
        data[i]! += h;
        const o = await runGraph(graph, { ...feeds, [name]: { dtype: 'float64', dims: p.shape, data } }, { ep: 'cpu', threads: 1 });
        return (o.loss!.data as Float64Array)[0]!;
      };
      for (const name of ['head.w', 'head.b', 'layer0.wq', 'layer0.ln1.gamma', 'embedding', 'positions']) {
        const g = out[`grad_${name}`]!.data as Float64Array;
        const idx = [0, 1, g.length - 1];
        for (const i of idx) {
          const fd = ((await loss(name, i, 1e-6)) - (await loss(name, i, -1e-6))) / 2e-6;
          const tol = kernel === 'softmax' ? 1e-6 : 1e-4;
          assert.ok(Math.abs(g[i]! - fd) <= tol * Math.max(1e-3, Math.abs(fd)), `${name}[${i}]: ${g[i]} vs ${fd}`);
        }
      }
    });

  it('language model (favor-pos, causal): masked next-token loss gradients vs central differences (float64)', async () => {
    const config = { ...DEFAULT_KERNEL_CONFIG, causal: true, features: 8 };
    const { graph, params } = buildClassifierGraph({
      kernel: getKernel('favor-pos'),
      shape,
      config,
      classes: shape.vocab,
      pooling: 'mean',
      objective: 'lm',
      mode: 'train',
      dtype: 'float64',
    });
    const rng = new Rng(11);
    const ex = [7, 4].map((n) => ({ tokens: Int32Array.from({ length: n }, () => 1 + Math.floor(rng.uniform() * 6)), label: 0 }));
    const batch = makeLmBatch(ex, 6, shape.vocab);
    assert.deepEqual(
      Array.from(batch.train.tmask!.data as Float32Array),
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
      'a row of L predicts L + 1 tokens; padding predicts nothing',
    );
    const mask = { ...batch.mask, dtype: 'float64' as const, data: Float64Array.from(batch.mask.data as Float32Array) };
    const tmask = { ...batch.train.tmask!, dtype: 'float64' as const, data: Float64Array.from(batch.train.tmask!.data as Float32Array) };
    const feeds = { tokens: batch.tokens, mask, targets: batch.train.targets!, tmask, ...Object.fromEntries(params.map((p) => [p.name, f64(p)])) };
    const out = await runGraph(graph, feeds, { ep: 'cpu', threads: 1 });
    // The graph's loss equals the host's float64 score of its own logits (mean over 9 positions).
    const host = batch.score(out.logits!.data as Float64Array);
    assert.ok(Math.abs((out.loss!.data as Float64Array)[0]! - host.loss / host.count) < 1e-10);
    for (const name of ['head.w', 'layer0.wk']) {
      const p = params.find((x) => x.name === name)!;
      const g = out[`grad_${name}`]!.data as Float64Array;
      for (const i of [0, g.length - 1]) {
        const at = async (h: number) => {
          const data = p.data.slice();
          data[i]! += h;
          return (
            (await runGraph(graph, { ...feeds, [name]: { dtype: 'float64', dims: p.shape, data } }, { ep: 'cpu', threads: 1 })).loss!.data as Float64Array
          )[0]!;
        };
        const fd = ((await at(1e-6)) - (await at(-1e-6))) / 2e-6;
        assert.ok(Math.abs(g[i]! - fd) <= 1e-4 * Math.max(1e-3, Math.abs(fd)), `${name}[${i}]: ${g[i]} vs ${fd}`);
      }
    }
  });

  // Padding: the same two sequences at L = 6 and padded to L = 9 give the same logits. Softmax adds
  // −1e9 to padded keys; the linear kernels zero padded keys' rows and take their key shifts and
  // sequence statistics over real tokens only. Both are exact up to float64 rounding of sums over
  // a different number of (zero) terms: 1e-12.
  for (const kernel of ['softmax', 'favor-pos', 'favor-opr', 'favor-sade', 'elu'])
    it(`${kernel}: a key-padding mask makes padded and unpadded runs equal`, async () => {
      const config = { ...DEFAULT_KERNEL_CONFIG, features: 16 };
      const logits = async (L: number) => {
        const s = { ...shape, seqLen: L };
        const { graph, params } = buildClassifierGraph({
          kernel: getKernel(kernel),
          shape: s,
          config,
          classes: 3,
          pooling: 'mean',
          mode: 'eval',
          dtype: 'float64',
        });
        const base = buildClassifierGraph({
          kernel: getKernel(kernel),
          shape: { ...shape, seqLen: 9 },
          config,
          classes: 3,
          pooling: 'mean',
          mode: 'eval',
          dtype: 'float64',
        }).params;
        const feeds: Record<string, HostTensor> = { ...batchOf([6, 6], L, 5) };
        for (const p of params) {
          const from = base.find((x) => x.name === p.name)!;
          feeds[p.name] = { dtype: 'float64', dims: p.shape, data: from.data.subarray(0, p.data.length) };
        }
        delete feeds.labels;
        return (await runGraph(graph, feeds, { ep: 'cpu', threads: 1 })).logits!.data as Float64Array;
      };
      const [a, b] = [await logits(6), await logits(9)];
      const scale = Math.max(...Array.from(a, Math.abs));
      const err = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!))) / scale;
      assert.ok(err <= 1e-12, `relative difference ${err}`);
    });
});

describe('batches', () => {
  it('data order depends on (seed, step) only and covers each epoch once', () => {
    const seen = new Set<number>();
    for (let s = 0; s < 5; s++) for (const i of trainBatchIndices(20, 4, 7, s)) seen.add(i);
    assert.equal(seen.size, 20);
    assert.deepEqual(trainBatchIndices(20, 4, 7, 9), trainBatchIndices(20, 4, 7, 9, new Map()));
    assert.notDeepEqual(Array.from(epochOrder(20, 7, 0)), Array.from(epochOrder(20, 7, 1)));
  });

  it('evaluation batches count every example once; scores use only the real rows', () => {
    const ex = Array.from({ length: 5 }, (_, i) => ({ tokens: Int32Array.from([1, 2, 3]), label: i % 2 }));
    const bs = evaluationBatches(ex, 2, (e, real) => makeBatch(e, 4, 2, real));
    assert.deepEqual(
      bs.map((b) => b.real),
      [2, 2, 1],
    );
    assert.equal(bs[2]!.score(Float32Array.from([0, 1, 0, 1])).count, 1, 'the filler row does not count');
    const logits = Float32Array.from([0, 1, 0, 1]); // both rows predict class 1
    const s = scoreLogits(logits, [1, 0], 2, 1);
    assert.equal(s.correct, 1);
    assert.ok(Math.abs(s.loss - Math.log(1 + Math.exp(-1))) < 1e-7);
  });
});

describe('performer train', () => {
  it('quick: learns the separable toy task far above chance (0.5) and reports every field', () => {
    const r = cli(['train', '--preset', 'quick', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.kind, 'train');
    for (const rec of doc.records) {
      assert.equal(rec.status, 'ok');
      assert.ok(rec.testAcc > 0.9, `${rec.kernel}: test accuracy ${rec.testAcc}`);
      assert.ok(rec.secondsPerStep > 0 && rec.curve.length === 3);
    }
  });

  it('quick --objective lm: a causal byte model beats the most frequent next token', () => {
    const r = cli(['train', '--preset', 'quick', '--objective', 'lm', '--steps', '80', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.options.causal, true, '--objective lm implies causal attention');
    for (const rec of doc.records) assert.ok(rec.testAcc > 1.5 * doc.dataset.majority, `${rec.kernel}: ${rec.testAcc} vs majority ${doc.dataset.majority}`);
  });

  it('bad input exits 2 with one line', () => {
    for (const [args, msg] of [
      [['train', '--kernels', 'softmax-fused'], /--kernels: kernel softmax-fused has no backward graph/],
      [['train', '--task', 'text-csv'], /--data: task text-csv needs/],
      [['train', '--dim', '10', '--heads', '3'], /--d-model: model width 10 is not divisible by 3 heads/],
      [['train', '--resume'], /--resume: needs --out/],
      [['train', '--task', 'text-csv', '--data', '/nonexistent/x.csv'], /--data/],
    ] as const) {
      const e = cli([...args]);
      assert.equal(e.code, 2, e.stderr);
      assert.match(e.stderr, msg);
      assert.equal(e.stderr.trim().split('\n').length, 1);
    }
  });

  it('a run killed by SIGTERM resumes from its checkpoints to the same number of steps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'performer-train-'));
    try {
      const args = ['train', '--preset', 'quick', '--steps', '400', '--eval-every', '10', '--out', dir];
      const stopped = await interruptAfter(args, join(dir, 'results.jsonl'), 4, 'SIGTERM');
      assert.equal(stopped.code, 143, stopped.stderr);
      assert.ok(existsSync(join(dir, 'checkpoints')), 'checkpoints written');
      const r = cli([...args, '--resume', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /resumed at step/);
      const doc = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
      for (const rec of doc.records) {
        assert.equal(rec.steps, 400);
        const steps = rec.curve.map((c: { step: number }) => c.step);
        assert.deepEqual(
          steps,
          [...new Set<number>(steps)].sort((a, b) => a - b),
          'no evaluation repeated or lost',
        );
      }
      // The results plot as the training figure (accuracy panels and the loss panel).
      const plot = cli(['plot', join(dir, 'results.json'), '-o', join(dir, 'figure.svg')]);
      assert.equal(plot.code, 0, plot.stderr);
      const svg = readFileSync(join(dir, 'figure.svg'), 'utf8');
      assert.match(svg, /accuracy vs wall-clock/);
      assert.match(svg, /train dashed, validation solid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
