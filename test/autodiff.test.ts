import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gradients } from '../src/autodiff/backward.ts';
import { gradRule } from '../src/autodiff/rules.ts';
import { GraphError } from '../src/errors.ts';
import { buildAttentionGraph } from '../src/kernels/build.ts';
import { KERNELS } from '../src/kernels/index.ts';
import { DEFAULT_KERNEL_CONFIG } from '../src/defaults.ts';
import { GraphBuilder } from '../src/onnx/builder.ts';
import type { Value } from '../src/onnx/ir.ts';
import { exactAttention, exactAttentionGrad } from '../src/reference/attention.ts';
import { Session } from '../src/runtime/session.ts';
import { referenceLinearAttention } from './helpers/reference-features.ts';
import { randn, randomInputs, relErr, runKernel } from './helpers/run.ts';

type Build = (b: GraphBuilder, xs: Value[]) => Value;

/**
 * Checks one op's rule: the generated gradient of sum(op(x) · g) vs central differences of the
 * same forward graph in float64 (h = 1e-5: truncation ~h²·f''' ≈ 1e-10, rounding ~1e-16/h ≈ 1e-11,
 * so 1e-6 relative leaves four orders of margin).
 */
async function checkRule(shapes: number[][], build: Build, opts: { positive?: boolean } = {}) {
  const b = new GraphBuilder('rule', 'float64');
  const xs = shapes.map((s, i) => b.input(`x${i}`, s));
  const out = build(b, xs);
  const gOut = b.input('g', out.shape);
  const grads = gradients(b, out, xs, gOut);
  const named = [b.named(out, 'out'), ...grads.map((g, i) => b.named(g, `grad${i}`))];
  const session = await Session.fromGraph(b.build(named), { ep: 'cpu', threads: 1 });
  const data = shapes.map((s, i) => {
    const x = randn(
      31 + i,
      s.reduce((a, c) => a * c, 1),
    );
    return opts.positive ? x.map((v) => Math.abs(v) + 0.5) : x;
  });
  const g = randn(
    97,
    out.shape.reduce((a, c) => a * c, 1),
  );
  const run = async (inputs: Float64Array[]) => {
    const feeds: Record<string, { dtype: 'float64'; dims: number[]; data: Float64Array }> = { g: { dtype: 'float64', dims: [...out.shape], data: g } };
    inputs.forEach((x, i) => (feeds[`x${i}`] = { dtype: 'float64', dims: shapes[i]!, data: x }));
    return session.run(feeds);
  };
  const base = await run(data);
  const loss = async (inputs: Float64Array[]) => {
    const o = (await run(inputs)).out!.data as Float64Array;
    return o.reduce((a, v, i) => a + v * g[i]!, 0);
  };
  const h = 1e-5;
  for (let i = 0; i < data.length; i++) {
    const fd = new Float64Array(data[i]!.length);
    for (let j = 0; j < fd.length; j++) {
      const plus = data.map((x) => x.slice());
      const minus = data.map((x) => x.slice());
      plus[i]![j]! += h;
      minus[i]![j]! -= h;
      fd[j] = ((await loss(plus)) - (await loss(minus))) / (2 * h);
    }
    const err = relErr(base[`grad${i}`]!.data as Float64Array, fd);
    assert.ok(err <= 1e-6, `input ${i}: relative error ${err}`);
  }
}

describe('gradient rules vs central differences (float64 graphs)', () => {
  const cases: [string, number[][], Build, { positive?: boolean }?][] = [
    ['Add (broadcast)', [[2, 3], [3]], (b, [x, y]) => b.add(x!, y!)],
    [
      'Sub (broadcast)',
      [
        [2, 1],
        [2, 3],
      ],
      (b, [x, y]) => b.sub(x!, y!),
    ],
    [
      'Mul (broadcast)',
      [
        [2, 3],
        [1, 3],
      ],
      (b, [x, y]) => b.mul(x!, y!),
    ],
    [
      'Div (broadcast)',
      [
        [2, 3],
        [2, 1],
      ],
      (b, [x, y]) => b.div(x!, y!),
      { positive: true },
    ],
    [
      'Max',
      [
        [2, 3],
        [2, 3],
      ],
      (b, [x, y]) => b.exp(b.max(x!, y!)),
    ],
    ['Exp', [[2, 3]], (b, [x]) => b.exp(x!)],
    ['Log', [[2, 3]], (b, [x]) => b.log(x!), { positive: true }],
    ['Sqrt', [[2, 3]], (b, [x]) => b.sqrt(x!), { positive: true }],
    ['Sin', [[2, 3]], (b, [x]) => b.sin(x!)],
    ['Cos', [[2, 3]], (b, [x]) => b.cos(x!)],
    ['Relu', [[3, 4]], (b, [x]) => b.relu(x!)],
    ['Neg', [[3]], (b, [x]) => b.neg(x!)],
    ['Identity', [[3]], (b, [x]) => b.identity(x!)],
    [
      'MatMul (batched, broadcast)',
      [
        [2, 3, 4],
        [4, 2],
      ],
      (b, [x, y]) => b.matMul(x!, y!),
    ],
    ['Transpose', [[2, 3, 4]], (b, [x]) => b.mul(b.transpose(x!, [2, 0, 1]), b.transpose(x!, [2, 0, 1]))],
    ['Reshape', [[2, 6]], (b, [x]) => b.exp(b.reshape(x!, [3, 4]))],
    ['Expand', [[3, 1]], (b, [x]) => b.mul(b.expand(x!, [2, 3, 4]), b.scalar(2))],
    ['Unsqueeze + Squeeze', [[2, 3]], (b, [x]) => b.squeeze(b.exp(b.unsqueeze(x!, [1])), [1])],
    [
      'Concat',
      [
        [2, 3],
        [2, 2],
      ],
      (b, [x, y]) => b.exp(b.concat([x!, y!], 1)),
    ],
    ['Slice', [[4, 5]], (b, [x]) => b.exp(b.slice(x!, [0, 1], [1, 1], [3, 4]))],
    ['ReduceSum', [[2, 3, 4]], (b, [x]) => b.reduceSum(b.exp(x!), [1], false)],
    ['ReduceMean', [[2, 3, 4]], (b, [x]) => b.reduceMean(x!, [0, 2], true)],
    ['ReduceMax', [[3, 5]], (b, [x]) => b.reduceMax(x!, [1], true)],
    ['Softmax', [[3, 5]], (b, [x]) => b.softmax(x!, -1)],
    ['CumSum', [[2, 5]], (b, [x]) => b.exp(b.cumSum(x!, 1))],
    ['CumSum (exclusive, reverse)', [[5, 2]], (b, [x]) => b.exp(b.cumSum(x!, 0, { exclusive: true, reverse: true }))],
    [
      'Where',
      [
        [2, 3],
        [2, 3],
      ],
      (b, [x, y]) => b.where(b.lessOrEqual(x!, y!), b.exp(x!), b.mul(y!, y!)),
    ],
    ['Trilu', [[4, 4]], (b, [x]) => b.exp(b.trilu(x!, false, 0))],
    // rows 0, 3, 3, 1, 0, 4 of a [5, 3] table: repeated rows sum their gradients, row 2 gets none
    ['Gather (rows, repeated)', [[5, 3]], (b, [x]) => b.exp(b.gather(x!, b.constant([0, 3, 3, 1, 0, 4], [2, 3], { dtype: 'int64' })))],
    ['Relu (a cast mask)', [[3, 4]], (b, [x]) => b.exp(b.relu(x!))],
    // x meets the column pieces of y in two products: x's gradient is joined into one product
    // [g_a g_c]·[y_a y_c]ᵀ and y's (the Slice gradients) into one product xᵀ·[g_a g_c].
    [
      'products of x with column pieces of y (joined gradients)',
      [
        [8, 12],
        [12, 3],
      ],
      (b, [x, y]) => {
        const [a, c] = [b.matMul(x!, b.slice(y!, [1], [0], [2])), b.matMul(x!, b.slice(y!, [1], [2], [3]))];
        return b.concat([b.exp(a), b.mul(c, c)], 1);
      },
    ],
    [
      'products of x with pieces of y that leave a gap (zeros in the joined gradient)',
      [
        [8, 12],
        [12, 5],
      ],
      (b, [x, y]) => {
        const [a, c] = [b.matMul(x!, b.slice(y!, [1], [0], [2])), b.matMul(x!, b.slice(y!, [1], [3], [4]))];
        return b.concat([b.exp(a), b.mul(c, c)], 1);
      },
    ],
  ];
  for (const [name, shapes, build, opts] of cases) it(name, () => checkRule(shapes, build, opts));

  it('Elu (no float64 Elu in ONNX Runtime: float32 graph vs analytic float64 derivative)', async () => {
    const b = new GraphBuilder('elu', 'float32');
    const x = b.input('x', [12]);
    const out = b.elu(x, 1);
    const g = b.input('g', [12]);
    const [dx] = gradients(b, out, [x], g);
    const s = await Session.fromGraph(b.build([b.named(dx!, 'dx')]), { ep: 'cpu' });
    const xs = randn(5, 12);
    const gs = randn(6, 12);
    const res = await s.run({
      x: { dtype: 'float32', dims: [12], data: Float32Array.from(xs) },
      g: { dtype: 'float32', dims: [12], data: Float32Array.from(gs) },
    });
    const expected = xs.map((v, i) => gs[i]! * (v > 0 ? 1 : Math.exp(Math.fround(v))));
    // float32 rounding of x, g and the product: ≤ 3 ulps ≈ 2e-7 relative.
    assert.ok(relErr(res.dx!.data as Float32Array, expected) <= 1e-6);
  });

  it('LayerNormalization (no float64 kernel in ONNX Runtime): the one node and its rule (float32) vs the decomposed form differentiated in float64', async () => {
    const [shape, eps] = [[3, 5, 16], 1e-5];
    const grads = async (dtype: 'float32' | 'float64') => {
      const b = new GraphBuilder('ln', dtype);
      const [x, gamma, beta] = [b.input('x', shape), b.input('gamma', [16]), b.input('beta', [16])];
      const y = b.layerNorm(x, gamma, beta, eps);
      // float32: the one node and its rule; float64: the decomposed form through the other rules
      assert.equal(
        b.nodes.some((n) => n.op === 'LayerNormalization'),
        dtype === 'float32',
      );
      const out = b.exp(b.mul(y, b.scalar(0.5)));
      const g = b.input('g', out.shape);
      const ds = gradients(b, out, [x, gamma, beta], g);
      const s = await Session.fromGraph(b.build([b.named(out, 'out'), ...ds.map((d, i) => b.named(d, `d${i}`))]), { ep: 'cpu', threads: 1 });
      const arr = (n: number, seed: number) => (dtype === 'float32' ? Float32Array.from(randn(seed, n)) : Float64Array.from(Float32Array.from(randn(seed, n))));
      const feeds = {
        x: { dtype, dims: shape, data: arr(240, 3) },
        gamma: { dtype, dims: [16], data: arr(16, 4) },
        beta: { dtype, dims: [16], data: arr(16, 5) },
        g: { dtype, dims: shape, data: arr(240, 6) },
      };
      const r = await s.run(feeds);
      await s.release();
      return ['out', 'd0', 'd1', 'd2'].map((k) => Float64Array.from(r[k]!.data as ArrayLike<number>));
    };
    const [f32, f64] = [await grads('float32'), await grads('float64')];
    // the same float32-representable inputs; float32 rounding through ~10 ops on unit-scale values,
    // sums of 16 (dx) and 15 rows (dγ, dβ): a few 1e-7 relative, so 1e-5 leaves margin and fails on
    // a wrong term (each term is O(1) relative)
    f32.forEach((v, i) => assert.ok(relErr(v, f64[i]!) <= 1e-5, `${['out', 'dx', 'dγ', 'dβ'][i]}: ${relErr(v, f64[i]!)}`));
  });

  it('a missing rule is an error naming the op', () => {
    assert.throws(
      () => gradRule('MultiHeadAttention'),
      (e: unknown) => e instanceof GraphError && /MultiHeadAttention/.test(e.message),
    );
    const b = new GraphBuilder('missing', 'float32');
    const x = b.input('x', [2, 2]);
    const y = b.abs(x); // Abs is emitted only for boolean guards, so it has no rule
    assert.throws(() => gradients(b, y, [x], b.input('g', [2, 2])), /no gradient rule for op Abs/);
    // An op outside the IR's typed union does not compile (`npm test` type-checks the tests first).
    assert.throws(
      // @ts-expect-error 'Tanh' is not an Op
      () => b.node('Tanh', [x], [{ shape: [2, 2], dtype: 'float32' }]).length >= 0 && gradients(b, b.nodes.at(-1)!.outputs[0]!, [x], b.input('g2', [2, 2])),
      /no gradient rule for op Tanh/,
    );
  });

  it('stop-gradient nodes and constants get no gradient', async () => {
    const b = new GraphBuilder('sg', 'float64');
    const x = b.input('x', [3]);
    const out = b.mul(x, b.stopGradient(b.exp(x))); // d/dx = exp(x), not exp(x)(1 + x)
    const [dx] = gradients(b, out, [x], b.fill([3], 1));
    const s = await Session.fromGraph(b.build([b.named(dx!, 'dx')]), { ep: 'cpu' });
    const xs = Float64Array.from([0.5, -1, 2]);
    const res = await s.run({ x: { dtype: 'float64', dims: [3], data: xs } });
    assert.ok(relErr(res.dx!.data as Float64Array, xs.map(Math.exp)) < 1e-15);
  });
});

describe('kernel gradients', () => {
  const shape = { batch: 1, heads: 2, seqLen: 7, dim: 3 };
  const modes = [
    { causal: false, causalImpl: 'chunked' as const },
    { causal: true, causalImpl: 'prefix' as const },
    { causal: true, causalImpl: 'chunked' as const },
  ];
  const loss = (o: Float64Array, g: Float64Array) => o.reduce((a, v, i) => a + v * g[i]!, 0);

  const check = async (
    kernel: (typeof KERNELS)[string] & {},
    mode: (typeof modes)[number],
    shape: { batch: number; heads: number; seqLen: number; dim: number },
    features: number,
    scale = 0.8,
  ) => {
    const x = randomInputs(40, shape, scale);
    const config = { ...mode, features, chunkSize: 3, seed: 2 };
    const { outputs, projection } = await runKernel(kernel.name, shape, x, { config, dtype: 'float64', pass: 'backward' });
    const ref = (q: Float64Array, k: Float64Array, v: Float64Array) =>
      kernel.role === 'linear'
        ? referenceLinearAttention(kernel.name, q, k, v, shape, projection, mode.causal)
        : kernel.name === 'identity'
          ? v
          : exactAttention(q, k, v, shape, mode.causal).out;
    const h = 1e-5;
    (['q', 'k', 'v'] as const).forEach((name) => {
      const fd = x[name].map((_, j) => {
        const plus = { ...x, [name]: x[name].slice() };
        const minus = { ...x, [name]: x[name].slice() };
        plus[name][j]! += h;
        minus[name][j]! -= h;
        return (loss(ref(plus.q, plus.k, plus.v), x.gradOut) - loss(ref(minus.q, minus.k, minus.v), x.gradOut)) / (2 * h);
      });
      // The reference differentiates through the stabiliser shifts, the graph treats them as
      // constants (docs/formulas.md §3): they cancel except through ε = 1e-6 (relative to features of
      // order 1e-1 here), so the two agree to ~1e-5; finite differences add ~1e-9.
      const err = relErr(outputs[`grad_${name}`]!, fd);
      assert.ok(err <= 1e-4, `grad_${name}: relative error ${err}`);
    });
  };
  // Kernels with data-fitted constants (FAVOR++'s A, FAVOR#'s Ψ) differentiate with them frozen,
  // which finite differences of the refitting reference cannot see: estimators.test.ts checks
  // them with the constants frozen on both sides.
  for (const kernel of Object.values(KERNELS).filter((k) => k.supportsBackward && !k.estimator?.fit))
    for (const mode of modes) {
      if (kernel.role !== 'linear' && mode.causalImpl === 'prefix') continue;
      it(`${kernel.name} ${mode.causal ? `causal ${mode.causalImpl}` : 'bidirectional'}: graph vs central differences of the float64 reference`, () =>
        check(kernel, mode, shape, 6));
    }
  // At L = 32, m = 16 the reverse pass joins each query block's gradient into one product (at
  // L = 7, m = 6 the Concats would copy more than they save, so the tests above never join).
  // Inputs at scale 0.5: with 32 keys the sequence-wide key shift leaves features small enough
  // at 0.8 that ε's share (see above) reaches 1.2e-4 for favor-hyp, joined or not.
  const wide = { batch: 1, heads: 2, seqLen: 32, dim: 3 };
  for (const name of ['favor-pos', 'favor-hyp', 'favor-trig'])
    it(`${name} bidirectional, L = 32, m = 16 (joined query gradients): graph vs central differences`, async () => {
      const { graph } = buildAttentionGraph({
        kernel: KERNELS[name]!,
        shape: wide,
        config: { ...DEFAULT_KERNEL_CONFIG, features: 16 },
        dtype: 'float64',
        pass: 'backward',
      });
      const concats = new Set(graph.nodes.filter((n) => n.op === 'Concat').map((n) => n.outputs[0]!.name));
      // [g_S g_z]·[S z]ᵀ: both operands are Concats, inner d + 1, output [L, m]
      const joined = graph.nodes.filter(
        (n) =>
          n.op === 'MatMul' && n.inputs.every((v) => concats.has(v.name)) && n.inputs[0]!.shape.at(-1) === wide.dim + 1 && n.outputs[0]!.shape.at(-1) === 16,
      );
      assert.equal(joined.length, name === 'favor-pos' ? 1 : 2, 'one joined product per feature block');
      await check(KERNELS[name]!, modes[0]!, wide, 16, 0.5);
    });

  for (const causal of [false, true])
    it(`softmax ${causal ? 'causal' : 'bidirectional'}: graph vs closed-form gradient (float64, ≤ 1e-10)`, async () => {
      const s = { batch: 2, heads: 2, seqLen: 9, dim: 4 };
      const x = randomInputs(8, s);
      const { outputs } = await runKernel('softmax', s, x, { config: { causal }, dtype: 'float64', pass: 'backward' });
      const ref = exactAttentionGrad(x.q, x.k, x.v, x.gradOut, s, causal);
      assert.ok(relErr(outputs.grad_q!, ref.dq) <= 1e-10);
      assert.ok(relErr(outputs.grad_k!, ref.dk) <= 1e-10);
      assert.ok(relErr(outputs.grad_v!, ref.dv) <= 1e-10);
    });
});

describe('backward graph structure', () => {
  for (const mode of [{ causal: false }, { causal: true, causalImpl: 'chunked' as const }, { causal: true, causalImpl: 'prefix' as const }])
    it(`favor-pos ${JSON.stringify(mode)} at L = 16384, d = 64, m = 256: no value with two dimensions ≥ L; node count linear in the forward's`, () => {
      const shape = { batch: 1, heads: 8, seqLen: 16384, dim: 64 };
      const config = { ...DEFAULT_KERNEL_CONFIG, ...mode };
      const req = { kernel: KERNELS['favor-pos']!, shape, config, dtype: 'float32' as const };
      const fwd = buildAttentionGraph({ ...req, pass: 'forward' }).graph;
      const bwd = buildAttentionGraph({ ...req, pass: 'backward' }).graph;
      for (const n of bwd.nodes)
        for (const v of [...n.inputs, ...n.outputs]) assert.ok(v.shape.filter((dim) => dim >= shape.seqLen).length < 2, `${n.name}: ${v.name} [${v.shape}]`);
      // Each forward node adds a bounded number of gradient nodes (≤ 10 per rule), so the
      // backward graph is at most 1 + 10 times the forward's.
      assert.ok(bwd.nodes.length <= 11 * fwd.nodes.length, `${bwd.nodes.length} vs ${fwd.nodes.length}`);
      assert.ok(bwd.nodes.length > fwd.nodes.length);
    });

  for (const kernel of ['favor-pos', 'favor-hyp'])
    it(`${kernel} backward transposes no L×m tensor: the gradient of MatMul(Eᵀ, ·) is one product`, () => {
      const shape = { batch: 1, heads: 2, seqLen: 64, dim: 8 };
      const config = { ...DEFAULT_KERNEL_CONFIG, features: 16 };
      const { graph } = buildAttentionGraph({ kernel: KERNELS[kernel]!, shape, config, dtype: 'float32', pass: 'backward' });
      const big = graph.nodes.filter((n) => n.op === 'Transpose' && n.outputs[0]!.shape.includes(shape.seqLen) && n.outputs[0]!.shape.includes(16));
      // The forward's Eᵀ (fused into the product by ONNX Runtime) stays; nothing transposes back.
      assert.ok(
        big.every((n) => n.outputs[0]!.shape.at(-1) === shape.seqLen),
        big.map((n) => `${n.name} [${n.outputs[0]!.shape}]`).join(', '),
      );
    });

  it('favor-pos backward: the key state [m, d+1] and each query gradient are single products, no L×m outer product', () => {
    const [L, d, m] = [64, 8, 16];
    const config = { ...DEFAULT_KERNEL_CONFIG, features: m };
    const req = { kernel: KERNELS['favor-pos']!, shape: { batch: 1, heads: 2, seqLen: L, dim: d }, config, dtype: 'float32' as const };
    const count = (pass: 'forward' | 'backward', last2: number[]) =>
      buildAttentionGraph({ ...req, pass }).graph.nodes.filter((n) => n.op === 'MatMul' && n.outputs[0]!.shape.slice(-2).join() === last2.join()).length;
    // forward: E_kᵀ[V 1] is one [m, d+1] product; the query side is E_q·S and E_q·z
    assert.deepEqual([count('forward', [m, d + 1]), count('forward', [L, d]), count('forward', [L, 1])], [1, 1, 1]);
    // backward adds dS|dz = E_qᵀ[g_S g_z] as one [m, d+1] product, never [m, d] and [m, 1] apart,
    // and dE_q = [g_S g_z]·[S z]ᵀ as one [L, m] product (with dE_k = [V 1]·d(state)ᵀ and the two
    // projections: four [L, m] products in all, none of them an outer product with inner dim 1)
    assert.deepEqual([count('backward', [m, d + 1]), count('backward', [m, d]), count('backward', [m, 1])], [2, 0, 0]);
    const lm = buildAttentionGraph({ ...req, pass: 'backward' }).graph.nodes.filter(
      (n) => n.op === 'MatMul' && n.outputs[0]!.shape.slice(-2).join() === [L, m].join(),
    );
    assert.equal(lm.length, 4);
    assert.ok(
      lm.every((n) => n.inputs[0]!.shape.at(-1)! > 1),
      lm.map((n) => `[${n.inputs[0]!.shape}]`).join(' '),
    );
    // causal, chunked: joining a block's sum dScores·K_c + g·stateᵀ (inner C + d + 1) would copy
    // more than it saves, so no product has that inner dimension
    const C = 4; // C + d + 1 = 13 ≤ m: a join by width alone would happen
    const causal = buildAttentionGraph({ ...req, config: { ...config, causal: true, causalImpl: 'chunked', chunkSize: C }, pass: 'backward' }).graph;
    assert.ok(!causal.nodes.some((n) => n.op === 'MatMul' && n.inputs[0]!.shape.at(-1) === C + d + 1));
  });

  it('a transpose of a transpose that undoes it is the original value, and unused nodes are not built', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', [2, 3, 4]);
    const t = b.transposeLast(x);
    assert.equal(b.transposeLast(t), x);
    assert.notEqual(b.transpose(t, [2, 1, 0]), x);
    const out = b.neg(x);
    b.exp(x); // unused
    const g = b.build([out]);
    assert.deepEqual(
      g.nodes.map((n) => n.op),
      ['Neg'],
    );
  });
});
