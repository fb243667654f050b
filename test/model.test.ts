import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_KERNEL_CONFIG } from '../src/defaults.ts';
import { getKernel } from '../src/kernels/index.ts';
import { buildEncoderGraph, type ModelShape, type Param } from '../src/model/encoder.ts';
import { type HostTensor, runGraph } from '../src/runtime/session.ts';
import { referenceLoss } from './helpers/encoder-reference.ts';
import { relErr } from './helpers/run.ts';
import { cli } from './helpers/cli.ts';

const shape: ModelShape = { batch: 2, seqLen: 5, heads: 2, dModel: 8, layers: 2, dFf: 12, vocab: 11 };
const tokens = [
  [3, 1, 4, 1, 5],
  [9, 2, 6, 5, 3],
];

async function run(kernel: string, pass: 'forward' | 'backward', params?: Param[]) {
  const { graph, params: drawn } = buildEncoderGraph({
    kernel: getKernel(kernel),
    shape,
    config: { ...DEFAULT_KERNEL_CONFIG, features: 16 },
    dtype: 'float64',
    pass,
    paramsAsInputs: true,
  });
  const use = params ?? drawn;
  const feeds: Record<string, HostTensor> = { tokens: { dtype: 'int64', dims: [2, 5], data: BigInt64Array.from(tokens.flat().map(BigInt)) } };
  for (const p of use) feeds[p.name] = { dtype: 'float64', dims: p.shape, data: p.data };
  const out = await runGraph(graph, feeds, { ep: 'cpu', threads: 1 });
  return { out, params: use };
}

describe('model scope: a tiny encoder (2 layers, d = 8, L = 5)', () => {
  it('forward matches the float64 TypeScript reference (softmax attention)', async () => {
    const { out, params } = await run('softmax', 'forward');
    const loss = (out.loss!.data as Float64Array)[0]!;
    // Same float64 arithmetic in a different order: agreement to ~1e-15 relative; 1e-12 leaves margin.
    assert.ok(Math.abs(loss - referenceLoss(shape, params, tokens)) <= 1e-12 * Math.max(1, Math.abs(loss)));
  });

  it('gradients of every parameter match central differences of the reference', async () => {
    const { out, params } = await run('softmax', 'backward');
    const h = 1e-5;
    for (const p of params) {
      const fd = p.data.map((_, j) => {
        const shifted = (delta: number) => params.map((q) => (q.name === p.name ? { ...q, data: q.data.map((v, k) => (k === j ? v + delta : v)) } : q));
        return (referenceLoss(shape, shifted(h), tokens) - referenceLoss(shape, shifted(-h), tokens)) / (2 * h);
      });
      // Central differences in float64: truncation ~h² ≈ 1e-10, rounding ~1e-16/h ≈ 1e-11.
      const err = relErr(out[`grad_${p.name}`]!.data as Float64Array, fd);
      assert.ok(err <= 1e-6, `${p.name}: relative error ${err}`);
    }
  });

  it('every feature kernel builds and runs forward and backward inside the model', async () => {
    for (const kernel of ['favor-pos', 'favor-hyp', 'favor-trig', 'favor-relu', 'relu', 'elu', 'identity']) {
      const { out } = await run(kernel, 'backward');
      assert.ok(Number.isFinite((out.loss!.data as Float64Array)[0]!), kernel);
      assert.ok(Object.keys(out).filter((k) => k.startsWith('grad_')).length === 2 + 2 * 12 + 1, kernel);
    }
  });
});

describe("model scope in float32 and float16 (one LayerNormalization node, Gather's gradient)", () => {
  it('float32 loss and gradients match the float64 graph (checked above against central differences)', async () => {
    const { out: ref, params } = await run('favor-pos', 'backward');
    const { graph } = buildEncoderGraph({
      kernel: getKernel('favor-pos'),
      shape,
      config: { ...DEFAULT_KERNEL_CONFIG, features: 16 },
      dtype: 'float32',
      pass: 'backward',
      paramsAsInputs: true,
    });
    assert.ok(graph.nodes.some((n) => n.op === 'LayerNormalization') && graph.nodes.some((n) => n.op === 'ScatterND'));
    const feeds: Record<string, HostTensor> = { tokens: { dtype: 'int64', dims: [2, 5], data: BigInt64Array.from(tokens.flat().map(BigInt)) } };
    for (const p of params) feeds[p.name] = { dtype: 'float32', dims: p.shape, data: Float32Array.from(p.data) };
    const out = await runGraph(graph, feeds, { ep: 'cpu', threads: 1 });
    // float32 through two layers (~100 ops, sums of ≤ 12 terms): a few 1e-6 relative; 1e-4 fails
    // on any wrong gradient term (each is O(1) relative)
    for (const [k, v] of Object.entries(ref))
      assert.ok(
        relErr(Float64Array.from(out[k]!.data as Float32Array), v.data as Float64Array) <= 1e-4,
        `${k}: ${relErr(Float64Array.from(out[k]!.data as Float32Array), v.data as Float64Array)}`,
      );
  });

  it('float16 backward runs (ScatterND cannot add float16 on the CPU: the one-hot product instead)', async () => {
    const { graph, params } = buildEncoderGraph({
      kernel: getKernel('favor-pos'),
      shape,
      config: { ...DEFAULT_KERNEL_CONFIG, features: 16 },
      dtype: 'float16',
      pass: 'backward',
    });
    assert.ok(!graph.nodes.some((n) => n.op === 'ScatterND'));
    const out = await runGraph(
      graph,
      { tokens: { dtype: 'int64', dims: [2, 5], data: BigInt64Array.from(tokens.flat().map(BigInt)) } },
      { ep: 'cpu', threads: 1 },
    );
    assert.equal(Object.keys(out).filter((k) => k.startsWith('grad_')).length, params.length);
  });
});

describe('model graph structure', () => {
  it('LayerNorm mean gradients are scaled before they are broadcast, and no [B, L, d_model] Expand is left', () => {
    const s: ModelShape = { batch: 2, seqLen: 16, heads: 2, dModel: 8, layers: 2, dFf: 16, vocab: 11 };
    for (const kernel of ['softmax', 'favor-pos']) {
      const { graph } = buildEncoderGraph({
        kernel: getKernel(kernel),
        shape: s,
        config: { ...DEFAULT_KERNEL_CONFIG, features: 8 },
        dtype: 'float32',
        pass: 'backward',
      });
      const full = graph.nodes.filter((n) => n.op === 'Expand' && n.outputs[0]!.shape.join() === [s.batch, s.seqLen, s.dModel].join());
      assert.equal(full.length, 0, `${kernel}: ${full.map((n) => n.name).join(', ')}`);
    }
  });
});

describe('bench --scope model', () => {
  it('times a tiny encoder forward and backward, with FLOPs and memory estimates', () => {
    const r = cli([
      'bench',
      '--scope',
      'model',
      '--layers',
      '1',
      '--dim',
      '16',
      '--heads',
      '2',
      '--d-ff',
      '32',
      '--vocab',
      '50',
      '--seq-len',
      '16',
      '--kernels',
      'softmax,favor-pos',
      '--features',
      '8',
      '--time-budget',
      '5ms',
      '--min-runs',
      '2',
      '--warmup',
      '0',
      '--no-limit',
      '--format',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const recs = JSON.parse(r.stdout).records;
    assert.equal(recs.length, 4);
    for (const x of recs) {
      assert.equal(x.status, 'ok');
      assert.equal(x.scope, 'model');
      assert.deepEqual([x.layers, x.dFf, x.vocab], [1, 32, 50]);
      assert.ok(x.flops > 0 && x.estimatedMemoryBytes > 0);
    }
    assert.ok(recs.find((x: { pass: string }) => x.pass === 'backward').flops > recs.find((x: { pass: string }) => x.pass === 'forward').flops);
  });

  it('a model width not divisible by the heads is a usage error', () => {
    const r = cli(['bench', '--scope', 'model', '--dim', '10', '--heads', '4']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--dim: model width 10 is not divisible by 4 heads/);
  });
});
