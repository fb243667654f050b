import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getKernel } from '../src/kernels/index.ts';
import { estimateSoftmaxKernel } from '../src/reference/features.ts';
import { runLeakProbe } from '../src/error/leak.ts';
import { runErrorSweep, type ErrorOptions } from '../src/error/sweep.ts';
import { geometry, mseHyp, mseOrthogonalBound, msePos, mseTrig, utilityRatio } from '../src/reference/closed-forms.ts';
import { KERNELS } from '../src/kernels/index.ts';
import { projectionMatrix } from '../src/kernels/projection.ts';
import { cli } from './helpers/cli.ts';

/** A pair with ‖x‖ = ‖y‖ = l at angle φ in d dimensions. */
function pair(d: number, l: number, angle: number): [number[], number[]] {
  const x = Array.from({ length: d }, (_, i) => (i === 0 ? l : 0));
  const y = Array.from({ length: d }, (_, i) => (i === 0 ? l * Math.cos(angle) : i === 1 ? l * Math.sin(angle) : 0));
  return [x, y];
}

/** Empirical MSE over `draws` independent projections of m rows, and its standard error. */
type SoftmaxEstimator = 'favor-pos' | 'favor-trig' | 'favor-hyp';
const estimateKernel = (kind: SoftmaxEstimator, w: Float64Array, d: number, x: number[], y: number[]) =>
  estimateSoftmaxKernel(getKernel(kind).estimator!.pairTerm, w, d, x, y);

function empiricalMse(kind: SoftmaxEstimator, type: 'iid' | 'orthogonal', m: number, d: number, x: number[], y: number[], draws: number) {
  const exact = Math.exp(x.reduce((a, v, i) => a + v * y[i]!, 0));
  const sq = Array.from({ length: draws }, (_, s) => (estimateKernel(kind, projectionMatrix(m, d, type, 10_000 + s), d, x, y) - exact) ** 2);
  const mean = sq.reduce((a, b) => a + b, 0) / draws;
  const sd = Math.sqrt(sq.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws - 1));
  return { mean, se: sd / Math.sqrt(draws) };
}

describe('closed forms (docs/formulas.md §5)', () => {
  it('r(φ, l = 1): r(π/2) ≈ 0.43, r(2.0) ≈ 3.4, r(2.5) ≈ 35, r → ∞ as φ → π', () => {
    assert.ok(Math.abs(utilityRatio(Math.PI / 2, 1) - 0.43) < 0.005);
    assert.ok(Math.abs(utilityRatio(2.0, 1) - 3.4) < 0.05);
    assert.ok(Math.abs(utilityRatio(2.5, 1) - 35) < 1);
    assert.ok(utilityRatio(Math.PI - 1e-3, 1) > 1e6);
    assert.equal(utilityRatio(1.3, 0.7), utilityRatio(1.3, -0.7), 'symmetric in l');
  });

  for (const [kind, theory] of [
    ['favor-pos', msePos],
    ['favor-trig', mseTrig],
    ['favor-hyp', mseHyp],
  ] as const)
    it(`${kind}: empirical MSE over 3000 iid draws matches the closed form within 4 standard errors`, () => {
      // Moderate norms keep the squared errors' tails light enough for the CLT: the sample mean of
      // 3000 i.i.d. squared errors is then normal with the standard error estimated from the sample;
      // 4 SE is a two-sided test at level ~6e-5 (the draws are seeded, so the test is deterministic).
      const [x, y] = pair(6, 0.6, 1.9);
      const m = 8;
      const { mean, se } = empiricalMse(kind, 'iid', m, 6, x, y, 3000);
      const expected = theory(geometry(x, y), m);
      assert.ok(Math.abs(mean - expected) < 4 * se, `${kind}: empirical ${mean} ± ${se}, theory ${expected}`);
    });

  it('orthogonal features beat iid at m ≤ d and respect the Theorem 2 bound (favor-pos, empirical)', () => {
    // ‖x‖ = ‖y‖ = 0.5 keeps the estimator's tails light; with 20000 draws the standard errors are
    // ~1.5% of the MSE, and the bound predicts a gain of ≥ 14% here (0.0731 → ≤ 0.0627). A
    // two-sample z statistic above 3 (one-sided level 0.0013) shows the gain.
    const [x, y] = pair(16, 0.5, 1.2);
    const iid = empiricalMse('favor-pos', 'iid', 16, 16, x, y, 20000);
    const ort = empiricalMse('favor-pos', 'orthogonal', 16, 16, x, y, 20000);
    const z = (iid.mean - ort.mean) / Math.hypot(iid.se, ort.se);
    assert.ok(z > 3, `orthogonal ${ort.mean} ± ${ort.se} vs iid ${iid.mean} ± ${iid.se}: z = ${z}`);
    assert.ok(ort.mean < mseOrthogonalBound(geometry(x, y), 16, 16) + 4 * ort.se);
  });

  it('positive features beat trig where SM(x, y) is small (closed form and empirical)', () => {
    const [x, y] = pair(6, 1, 2.6); // SM = exp(cos 2.6) ≈ 0.42
    const g = geometry(x, y);
    assert.ok(msePos(g, 8) * 10 < mseTrig(g, 8));
    const pos = empiricalMse('favor-pos', 'iid', 8, 6, x, y, 1000);
    const trig = empiricalMse('favor-trig', 'iid', 8, 6, x, y, 1000);
    assert.ok(pos.mean * 5 < trig.mean, `pos ${pos.mean} trig ${trig.mean}`);
  });
});

describe('performer error', () => {
  const small: ErrorOptions = {
    kernels: ['favor-pos', 'favor-trig'],
    featureTypes: ['iid', 'orthogonal'],
    features: [8, 32],
    seqLen: 64,
    dim: 8,
    seeds: 3,
    causal: false,
    causalImpl: 'chunked',
    chunkSize: 16,
    inputScale: 0.5,
    target: 'output',
    ep: 'cpu',
    threads: 1,
  };

  it('identical options and seeds give identical numbers', async () => {
    const a = await runErrorSweep(small);
    const b = await runErrorSweep(small);
    assert.deepEqual(a, b);
    assert.equal(a.length, 2 * 2 * 2);
    for (const r of a) assert.ok(r.mean > 0 && r.min <= r.mean && r.mean <= r.max && r.seeds === 3);
    assert.ok(a.filter((r) => r.kernel === 'favor-trig').every((r) => r.nonPositiveDenominators !== null));
  });

  it('every target produces its metrics', async () => {
    const grad = await runErrorSweep({ ...small, target: 'grad', features: [16, 1024], featureTypes: ['iid'], kernels: ['favor-pos'] });
    assert.deepEqual(
      grad.map((r) => r.metric),
      ['relerr-dq', 'relerr-dk', 'relerr-dv', 'relerr-dq', 'relerr-dk', 'relerr-dv'],
    );
    // Gradient errors are large at small m (≈ 1 at m = 16) and fall roughly like 1/√m: 64× more
    // features must at least halve each component's error.
    for (let i = 0; i < 3; i++) assert.ok(grad[i + 3]!.mean * 2 < grad[i]!.mean, `${grad[i]!.metric}: ${grad[i]!.mean} → ${grad[i + 3]!.mean}`);
    const matrix = await runErrorSweep({ ...small, target: 'matrix', features: [16], featureTypes: ['orthogonal'], kernels: ['favor-pos'], causal: true });
    assert.deepEqual(
      matrix.map((r) => r.metric),
      ['mse', 'tv'],
    );
    assert.ok(matrix[1]!.mean > 0 && matrix[1]!.mean <= 1, 'total variation is in (0, 1]');
    const kernel = await runErrorSweep({ ...small, target: 'kernel', kernels: ['favor-pos', 'favor-hyp'], features: [8], featureTypes: ['iid'] });
    assert.ok(kernel.every((r) => r.theoryMse !== null && r.theoryMse > 0));
  });

  it('the leak probe is exactly 0 for every shipped causal path', async () => {
    const linear = Object.values(KERNELS)
      .filter((k) => k.role === 'linear')
      .map((k) => k.name);
    const recs = await runLeakProbe({ kernels: [...linear, 'softmax', 'softmax-fused'], seqLen: 50, dim: 8, features: 16, chunkSize: 8, seed: 3, ep: 'cpu' });
    assert.equal(recs.length, linear.length * 2 + 2);
    for (const r of recs) assert.equal(r.maxChange, 0, `${r.kernel} ${r.causalImpl}`);
  });

  it('theory utility writes the grid; bad error options exit 2', () => {
    const r = cli(['theory', 'utility', '--angle-steps', '5', '--norm-steps', '3']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim().split('\n').length, 1 + 15);
    for (const [args, msg] of [
      [['error', '--kernels', 'softmax'], /--kernels: 'softmax' is not a feature kernel/],
      [['error', '--target', 'kernel', '--kernels', 'elu'], /--target: kernel needs softmax estimators/],
      [['theory', 'mse', '--x-norm', '-1', '--y-norm', '1', '--angle', '0', '--features', '4'], /--x-norm: '-1' is negative/],
    ] as const) {
      const e = cli([...args]);
      assert.equal(e.code, 2, e.stderr);
      assert.match(e.stderr, msg);
    }
  });
});

describe('numerical defects of the accuracy audit', () => {
  const base: ErrorOptions = {
    kernels: ['favor-trig'],
    featureTypes: ['iid'],
    features: [8],
    seqLen: 48,
    dim: 4,
    seeds: 2,
    causal: false,
    causalImpl: 'chunked',
    chunkSize: 16,
    inputScale: 25,
    target: 'output',
    ep: 'cpu',
    threads: 1,
  };

  it('the fraction of trig denominators ≤ 0 is exact at large inputs (σ = 25), against a log-space float64 reference', async () => {
    // Reference, written independently of the feature maps: D_i ∝ Σ_j exp(‖y_j‖²/2) · c_ij with
    // c_ij = mean_f cos(ω_fᵀ(x_i − y_j)). Its sign compares the log-sum-exp of the positive and the
    // negative terms, so no exponent overflows (‖x‖²/2 + ‖y‖²/2 reaches ~10³ here, past exp's ~709,
    // where an unshifted product of query and key factors is ∞).
    const { errorInputs } = await import('../src/error/sweep.ts');
    const fractions: number[] = [];
    for (let s = 0; s < base.seeds; s++) {
      const x = errorInputs(base, s);
      const d = base.dim;
      const w = projectionMatrix(8, d, 'iid', s);
      const row = (a: Float64Array, i: number) => Array.from(a.subarray(i * d, (i + 1) * d), (v) => v * d ** -0.25);
      let bad = 0;
      for (let i = 0; i < base.seqLen; i++) {
        const q = row(x.q, i);
        const [pos, neg] = [[] as number[], [] as number[]];
        for (let j = 0; j < base.seqLen; j++) {
          const k = row(x.k, j);
          let c = 0;
          for (let f = 0; f < 8; f++) c += Math.cos(q.reduce((acc, v, t) => acc + w[f * d + t]! * (v - k[t]!), 0)) / 8;
          const logTerm = k.reduce((acc, v) => acc + v * v, 0) / 2 + Math.log(Math.abs(c));
          (c > 0 ? pos : neg).push(logTerm);
        }
        const lse = (xs: number[]) => (xs.length ? Math.max(...xs) + Math.log(xs.reduce((acc, v) => acc + Math.exp(v - Math.max(...xs)), 0)) : -Infinity);
        if (lse(pos) <= lse(neg)) bad++;
      }
      fractions.push(bad / base.seqLen);
    }
    const [rec] = await runErrorSweep(base);
    const expected = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    assert.equal(rec!.nonPositiveDenominators, expected);
    assert.ok(expected > 0.2, `at σ = 25 many denominators are ≤ 0 (${expected}); an unshifted exp reported 0`);
  });

  it('causal favor-trig with growing key norms gives no NaN, and matches the float64 reference', async () => {
    // Key j scaled by (1 + j/2): ‖k‖²/2 after the d^(-1/4) scaling grows to ~10³, far past float32's
    // exp overflow (~88) without the capped key shift. The reference caps the same way, so the
    // outputs agree to float32 rounding of weights spread over e^60 (1e-3 relative, max-norm).
    const shape = { batch: 1, heads: 1, seqLen: 32, dim: 8 };
    const { randomInputs, runKernel, relErr, allFinite } = await import('./helpers/run.ts');
    const { referenceLinearAttention } = await import('./helpers/reference-features.ts');
    const x = randomInputs(5, shape);
    for (let j = 0; j < 32; j++) for (let c = 0; c < 8; c++) x.k[j * 8 + c]! *= 1 + j / 2;
    for (const causalImpl of ['prefix', 'chunked'] as const) {
      const { outputs, projection } = await runKernel('favor-trig', shape, x, { config: { causal: true, causalImpl, chunkSize: 8, features: 16 } });
      assert.ok(allFinite(outputs.out!), `${causalImpl}: finite`);
      const ref = referenceLinearAttention('favor-trig', x.q, x.k, x.v, shape, projection, true);
      assert.ok(relErr(outputs.out!, ref) < 1e-3, `${causalImpl}: ${relErr(outputs.out!, ref)}`);
    }
  });

  it('the bias column is Σ(estimate − SM)/Σ SM over the pairs, averaged over seeds: matches a float64 recomputation', async () => {
    const o: ErrorOptions = {
      ...base,
      kernels: ['favor-pos'],
      featureTypes: ['orthogonal-fixed', 'iid'],
      features: [8],
      inputScale: 0.5,
      target: 'kernel',
      seeds: 3,
      seqLen: 40,
    };
    const recs = await runErrorSweep(o);
    const { errorInputs } = await import('../src/error/sweep.ts');
    const x0 = errorInputs(o, 0);
    const d = o.dim;
    for (const rec of recs) {
      let mean = 0;
      for (let s = 0; s < o.seeds; s++) {
        const w = projectionMatrix(8, d, rec.featureType as 'iid' | 'orthogonal-fixed', s);
        let err = 0;
        let sum = 0;
        for (let i = 0; i < o.seqLen; i++) {
          const xi = Array.from(x0.q.subarray(i * d, (i + 1) * d), (v) => v * d ** -0.25);
          const yi = Array.from(x0.k.subarray(i * d, (i + 1) * d), (v) => v * d ** -0.25);
          const sm = Math.exp(xi.reduce((a, v, t) => a + v * yi[t]!, 0));
          let est = 0;
          for (let f = 0; f < 8; f++) {
            const wx = xi.reduce((a, v, t) => a + v * w[f * d + t]!, 0);
            const wy = yi.reduce((a, v, t) => a + v * w[f * d + t]!, 0);
            est += Math.exp(wx + wy - (xi.reduce((a, v) => a + v * v, 0) + yi.reduce((a, v) => a + v * v, 0)) / 2) / 8;
          }
          err += est - sm;
          sum += sm;
        }
        mean += err / sum / o.seeds;
      }
      // Same float64 arithmetic in another order: agreement to 1e-12 relative.
      assert.ok(Math.abs(rec.bias! - mean) <= 1e-12 * Math.abs(mean), `${rec.featureType}: ${rec.bias} vs ${mean}`);
    }
  });

  it('softmax FLOPs are counted alike fused and unfused: 5 per score element', async () => {
    const { buildAttentionGraph } = await import('../src/kernels/build.ts');
    const { graphFlops } = await import('../src/limit/cost.ts');
    const { DEFAULT_KERNEL_CONFIG } = await import('../src/defaults.ts');
    const shape = { batch: 2, heads: 4, seqLen: 64, dim: 16 };
    const flops = (k: string) =>
      graphFlops(buildAttentionGraph({ kernel: getKernel(k), shape, config: DEFAULT_KERNEL_CONFIG, dtype: 'float32', pass: 'forward' }).graph);
    // Both: 4·B·H·L²·d for the two products and 5·B·H·L² for the softmax; the unfused graph also
    // scales q by 1/√d (B·H·L·d).
    assert.equal(flops('softmax'), 4 * 2 * 4 * 64 * 64 * 16 + 5 * 2 * 4 * 64 * 64 + 2 * 4 * 64 * 16);
    assert.equal(flops('softmax-fused'), 4 * 2 * 4 * 64 * 64 * 16 + 5 * 2 * 4 * 64 * 64);
  });
});

describe('regime map and Fig. 4 statistics', () => {
  const rec = (kernel: string, featureType: string, perSeed: number[], theoryMse: number | null) =>
    ({
      kernel,
      featureType,
      features: 16,
      target: 'output',
      metric: 'mse',
      seqLen: 64,
      dim: 16,
      causal: false,
      causalImpl: 'chunked',
      chunkSize: 64,
      inputScale: 0.35,
      seeds: perSeed.length,
      ep: 'cpu',
      status: 'ok',
      mean: perSeed.reduce((a, b) => a + b, 0) / perSeed.length,
      std: 0,
      min: Math.min(...perSeed),
      max: Math.max(...perSeed),
      theoryMse,
      theoryRelMse: theoryMse,
      theoryBound: null,
      bias: null,
      nonPositiveDenominators: null,
      perSeed,
    }) as unknown as import('../src/error/sweep.ts').ErrorRecord;

  it('pairs the two sides of each claim seed by seed: the ratio is the geometric mean of per-seed ratios, with a paired test', async () => {
    const { claimRows } = await import('../src/report/regime.ts');
    // Orthogonal is 0.7× iid on every seed while the seeds themselves vary 10×: paired, the ratio
    // is exactly 0.7 with a zero-width interval; an unpaired test would drown in the seed spread.
    const iid = [1, 10, 3, 0.5, 7];
    const rows = claimRows([
      rec('favor-pos', 'iid', iid, 2),
      rec(
        'favor-pos',
        'orthogonal',
        iid.map((x) => 0.7 * x),
        1.5,
      ),
      rec(
        'favor-trig',
        'iid',
        iid.map((x) => 3 * x),
        8,
      ),
    ]);
    const orth = rows.find((r) => r.claim === 'orthogonal<iid')!;
    assert.ok(Math.abs(orth.ratio - 0.7) < 1e-12 && orth.p < 1e-6 && orth.holds);
    assert.equal(orth.predicted, 0.75);
    const trig = rows.find((r) => r.claim === 'positive<trig')!;
    assert.ok(Math.abs(trig.ratio - 1 / 3) < 1e-12 && trig.holds);
    assert.equal(trig.predicted, 2 / 8);
    // Noise around equal: the claim does not hold.
    const mixed = claimRows([rec('favor-pos', 'iid', [1, 2, 3, 4], null), rec('favor-pos', 'orthogonal', [1.1, 1.8, 3.2, 3.9], null)]);
    assert.equal(mixed[0]!.holds, false);
  });

  it('theory mse --feature-type orthogonal prints the exact value beside the Theorem 2 bound (and needs --dim)', () => {
    const r = cli([
      'theory',
      'mse',
      '--x-norm',
      '0.8',
      '--y-norm',
      '1',
      '--angle',
      String(Math.PI / 2),
      '--features',
      '4',
      '--dim',
      '8',
      '--feature-type',
      'orthogonal',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout);
    const exact = rows['favor-pos (orthogonal, exact)'];
    const bound = rows['orthogonal bound (Theorem 2, favor-pos)'];
    const orthogonalMse = getKernel('favor-pos').estimator!.orthogonalMse!;
    assert.equal(exact, orthogonalMse({ xy: 0.8 * Math.cos(Math.PI / 2), xx: 0.64, yy: 1 }, 4, 8));
    assert.ok(exact < bound && bound < msePos({ xy: 0.8 * Math.cos(Math.PI / 2), xx: 0.64, yy: 1 }, 4));
    assert.equal(cli(['theory', 'mse', '--x-norm', '1', '--y-norm', '1', '--angle', '0', '--features', '4', '--feature-type', 'orthogonal']).code, 2);
  });
});
