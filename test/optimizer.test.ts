import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../src/random.ts';
import { encoderParams } from '../src/model/encoder.ts';
import { ADAMW_DEFAULTS, AdamW, type AdamWOptions, type AdamWState, clipGlobalNorm, decays, learningRate } from '../src/train/optimizer.ts';

const gaussians = (rng: Rng, n: number) => Float64Array.from({ length: n }, () => rng.gaussian());

/** PyTorch's documented AdamW pseudo-code, transcribed literally (one parameter tensor). */
function referenceAdamW(theta: number[], grads: number[][], lrs: number[], o: AdamWOptions, decay: boolean): number[] {
  const lambda = decay ? o.weightDecay : 0;
  let m = theta.map(() => 0);
  let v = theta.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    const gamma = lrs[k]!;
    theta = theta.map((x) => x - gamma * lambda * x);
    m = m.map((mi, i) => o.beta1 * mi + (1 - o.beta1) * g[i]!);
    v = v.map((vi, i) => o.beta2 * vi + (1 - o.beta2) * g[i]! ** 2);
    const mHat = m.map((mi) => mi / (1 - o.beta1 ** t));
    const vHat = v.map((vi) => vi / (1 - o.beta2 ** t));
    theta = theta.map((x, i) => x - (gamma * mHat[i]!) / (Math.sqrt(vHat[i]!) + o.eps));
  });
  return theta;
}

function randomProblem(seed: number, sizes: Record<string, number>) {
  const rng = new Rng(seed);
  const params = Object.entries(sizes).map(([name, n]) => ({ name, data: gaussians(rng, n), decay: decays(name) }));
  const grads = Array.from({ length: 10 }, () => Object.fromEntries(params.map((p) => [p.name, gaussians(rng, p.data.length)])));
  return { params, grads };
}

describe('AdamW', () => {
  it('matches the float64 transcription of PyTorch AdamW over 10 steps (1e-12)', () => {
    // Both sides are float64 and differ only in operation order (lerp vs β-weighted sum, where √v is
    // divided, θ·(1 − γλ) vs θ − γλθ): a few ulps per step, and 10 steps of at most γ = 0.01 on O(1)
    // parameters end ~4e-16 apart. 1e-12 leaves ample margin yet still catches the subtlest formula
    // slip: moving ε inside the square root shifts these parameters by ~1e-8.
    const { params, grads } = randomProblem(7, { 'layer0.wq': 24, 'layer0.ff.b1': 9, w_out: 5 });
    const o: AdamWOptions = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
    const lrs = grads.map((_, k) => learningRate(k + 1, { lr: o.lr, warmup: 3, total: 10, decay: 'cosine' }));
    const start = params.map((p) => [...p.data]);
    const opt = new AdamW(params, o);
    grads.forEach((g, k) => opt.step(g, lrs[k]!));
    assert.equal(opt.t, 10);
    params.forEach((p, j) => {
      const ref = referenceAdamW(
        start[j]!,
        grads.map((g) => [...g[p.name]!]),
        lrs,
        o,
        p.decay,
      );
      ref.forEach((r, i) => assert.ok(Math.abs(p.data[i]! - r) <= 1e-12 * Math.max(1, Math.abs(r)), `${p.name}[${i}]: ${p.data[i]} vs ${r}`));
    });
  });

  it('first step: m̂ = g and v̂ = g², so θ moves by γ·g/(|g| + ε)', () => {
    // θ = 1, g = 0.5, γ = 0.1: 1 − 0.1·0.5/(0.5 + 1e-8) = 1 − 0.1/(1 + 2e-8) = 0.900000002 (to 4e-18).
    const plain = { name: 'w', data: Float64Array.of(1, -2), decay: false };
    new AdamW([plain], { ...ADAMW_DEFAULTS, lr: 0.1 }).step({ w: Float32Array.of(0.5, -3) });
    assert.ok(Math.abs(plain.data[0]! - 0.900000002) < 2e-16, String(plain.data[0]));
    assert.ok(Math.abs(plain.data[1]! - -1.9) < 1e-9, 'sign step, scale-free');
    // With decay: first θ·(1 − γλ) = 0.999, then the same Adam move.
    const decayed = { name: 'w', data: Float64Array.of(1), decay: true };
    new AdamW([decayed], { ...ADAMW_DEFAULTS, lr: 0.1 }).step(new Map([['w', [0.5]]]));
    assert.ok(Math.abs(decayed.data[0]! - 0.899000002) < 2e-16, String(decayed.data[0]));
  });

  it('weight decay touches only decay:true parameters', () => {
    // Zero gradients make the Adam move exactly 0 (m = 0), isolating the factor 1 − γλ = 0.9 per step.
    const on = { name: 'on', data: Float64Array.of(2, -4), decay: true };
    const off = { name: 'off', data: Float64Array.of(2, -4), decay: false };
    const opt = new AdamW([on, off], { ...ADAMW_DEFAULTS, lr: 0.5, weightDecay: 0.2 });
    for (let k = 0; k < 3; k++) opt.step({ on: [0, 0], off: [0, 0] });
    assert.deepEqual([...off.data], [2, -4]);
    assert.deepEqual([...on.data], [2 * 0.9 * 0.9 * 0.9, -4 * 0.9 * 0.9 * 0.9]);
  });

  it('throws naming the parameter on a missing or wrong-length gradient, changing nothing', () => {
    const a = { name: 'a', data: Float64Array.of(1), decay: true };
    const b = { name: 'layer1.ff.w2', data: Float64Array.of(1, 2), decay: true };
    const opt = new AdamW([a, b], ADAMW_DEFAULTS);
    assert.throws(() => opt.step({ a: [1] }), /no gradient for parameter 'layer1\.ff\.w2'/);
    assert.throws(
      () =>
        opt.step(
          new Map([
            ['a', [1]],
            ['layer1.ff.w2', [1]],
          ]),
        ),
      /'layer1\.ff\.w2' has 1 values, expected 2/,
    );
    assert.equal(opt.t, 0);
    assert.deepEqual([...a.data], [1]);
    assert.throws(() => new AdamW([a, a], ADAMW_DEFAULTS), /'a' is listed twice/);
    assert.throws(() => new AdamW([a], { ...ADAMW_DEFAULTS, beta2: 1 }), /beta2/);
  });

  it('state survives JSON and continues bit-identically', () => {
    const sizes = { embedding: 12, 'layer0.wk': 16 };
    const straight = randomProblem(11, sizes);
    const resumed = randomProblem(11, sizes);
    const o = { ...ADAMW_DEFAULTS, lr: 3e-3 };
    const a = new AdamW(straight.params, o);
    straight.grads.forEach((g) => a.step(g));
    const first = new AdamW(resumed.params, o);
    resumed.grads.slice(0, 5).forEach((g) => first.step(g));
    const saved = JSON.stringify(first.state());
    const copies = resumed.params.map((p) => ({ ...p, data: Float64Array.from(p.data) }));
    const second = new AdamW(copies, o);
    second.load(JSON.parse(saved) as AdamWState);
    assert.equal(second.t, 5);
    resumed.grads.slice(5).forEach((g) => second.step(g));
    copies.forEach((p, j) => assert.deepEqual(p.data, straight.params[j]!.data));
    assert.deepEqual(second.state(), a.state());
  });

  it('load rejects state for other parameters', () => {
    const opt = new AdamW([{ name: 'x', data: new Float64Array(3), decay: false }], ADAMW_DEFAULTS);
    const other = new AdamW([{ name: 'x', data: new Float64Array(2), decay: false }], ADAMW_DEFAULTS).state();
    assert.throws(() => opt.load(other), /parameter 'x' have 2\/2 values, expected 3/);
    assert.throws(() => opt.load({ ...other, params: {} }), /no moments for parameter 'x'/);
  });
});

describe('clipGlobalNorm', () => {
  const grads = () => ({ a: Float32Array.of(3, 4), b: Float64Array.of(12) }); // ‖·‖ = 13

  it('reports the global norm and leaves gradients alone under the limit, or when disabled', () => {
    // The 1e-6 guard means norm = max still scales (by 1 − 8e-8), as in PyTorch; norm + 1e-6 does not.
    assert.equal(clipGlobalNorm(grads(), 13).scale, 13 / (13 + 1e-6));
    for (const max of [13 + 1e-6, 26, 0, -1, Infinity]) {
      const g = grads();
      assert.deepEqual(clipGlobalNorm(g, max), { norm: 13, scale: 1 }, `max ${max}`);
      assert.deepEqual(g, grads());
    }
  });

  it('scales by max/(norm + 1e-6) in place above the limit', () => {
    const g = grads();
    const { norm, scale } = clipGlobalNorm(new Map<string, Float32Array | Float64Array>(Object.entries(g)), 6.5);
    assert.equal(norm, 13);
    assert.equal(scale, 6.5 / (13 + 1e-6));
    assert.deepEqual([...g.a], [Math.fround(3 * scale), Math.fround(4 * scale)]);
    assert.equal(g.b[0], 12 * scale);
    assert.ok(Math.abs(clipGlobalNorm(g, Infinity).norm - 6.5) < 1e-6);
  });
});

describe('learningRate', () => {
  const at = (step: number, decay: 'none' | 'linear' | 'cosine' | 'rsqrt', warmup = 4, total = 12) => learningRate(step, { lr: 2, warmup, total, decay });
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-15, `${a} vs ${b}`);

  it('warms up linearly from step 1 = lr/warmup to lr at step = warmup, for every decay', () => {
    for (const d of ['none', 'linear', 'cosine', 'rsqrt'] as const) {
      assert.deepEqual(
        [1, 2, 3, 4].map((s) => at(s, d)),
        [0.5, 1, 1.5, 2],
        d,
      );
    }
  });

  it('decays as documented after warmup', () => {
    assert.equal(at(100, 'none'), 2);
    assert.deepEqual(
      [5, 8, 11, 12, 20].map((s) => at(s, 'linear')),
      [1.75, 1, 0.25, 0, 0],
    );
    close(at(6, 'cosine'), 1 + Math.cos(Math.PI / 4));
    close(at(8, 'cosine'), 1);
    assert.deepEqual(
      [12, 13].map((s) => at(s, 'cosine')),
      [0, 0],
    );
    assert.deepEqual(
      [16, 64, 400].map((s) => at(s, 'rsqrt')),
      [1, 0.5, 0.2],
    );
    assert.equal(at(1, 'linear', 0, 10), 1.8); // no warmup: step 1 is already 1/10 into the decay
    assert.equal(at(4, 'rsqrt', 0), 1);
  });

  it('rejects steps before 1 and warmup past total', () => {
    assert.throws(() => at(0, 'none'), /step must be ≥ 1/);
    assert.throws(() => at(1, 'linear', 5, 4), /warmup ≤ total/);
  });
});

describe('decays', () => {
  it('decays exactly the encoder weight matrices other than embeddings', () => {
    const params = encoderParams({ batch: 1, seqLen: 4, heads: 2, dModel: 4, layers: 2, dFf: 8, vocab: 5 }, 0);
    for (const p of params) {
      const matrix = p.shape.length >= 2 && p.name !== 'embedding' && p.name !== 'positions';
      assert.equal(decays(p.name), matrix, p.name);
    }
    assert.equal(decays('head.bias'), false);
  });
});
