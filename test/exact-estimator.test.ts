import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exactOutput } from '../src/error/exact.ts';
import { errorInputs, type ErrorOptions, runErrorSweep } from '../src/error/sweep.ts';
import { type FeatureType, projectionMatrix } from '../src/kernels/projection.ts';
import { cli } from './helpers/cli.ts';
import type { ErrorRecord } from '../src/error/sweep.ts';

type Kernel = 'favor-pos' | 'favor-opr' | 'favor-sade';

/**
 * Random-feature attention written out from the formulas (ESTIMATORS.md §2, §3), with none of
 * src/'s helpers: x = q·d^(-1/4); favor-opr/favor-sade fit, over all rows (or the first token
 * when causal), Ψ_l = ((mean y_l² + 1e-6)/(mean x_l² + 1e-6))^(1/4) (favor-sade only), then
 * φ = mean over all pairs (i, j) of ‖Ψx_i + y_j/Ψ‖² and A = (d − 2φ − √((2φ+d)² + 8dφ))/(16d);
 * f_r(z) = exp(B·w_rᵀz + A‖w_r‖² − ‖z‖²/2), B = √(1 − 4A) (D and m^(-1/2) cancel);
 * K_ij = Σ_r f_r(x̂_i) f_r(ŷ_j); out_i = Σ_j K_ij v_j / Σ_j K_ij (j ≤ i when causal). No shifts and
 * no ε: the inputs are tame, every exponent is O(1).
 */
function independentOutput(
  kernel: Kernel,
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  L: number,
  d: number,
  w: Float64Array,
  causal: boolean,
): number[] {
  const m = w.length / d;
  const row = (a: Float64Array, i: number) => Array.from({ length: d }, (_, c) => a[i * d + c]! * d ** -0.25);
  let x = Array.from({ length: L }, (_, i) => row(q, i));
  let y = Array.from({ length: L }, (_, i) => row(k, i));
  const n = causal ? 1 : L;
  let a = 0;
  if (kernel !== 'favor-pos') {
    if (kernel === 'favor-sade') {
      const psi = Array.from({ length: d }, (_, l) => {
        let sx = 0;
        let sy = 0;
        for (let i = 0; i < n; i++) {
          sx += x[i]![l]! ** 2 / n;
          sy += y[i]![l]! ** 2 / n;
        }
        return ((sy + 1e-6) / (sx + 1e-6)) ** 0.25;
      });
      x = x.map((r) => r.map((t, l) => t * psi[l]!));
      y = y.map((r) => r.map((t, l) => t / psi[l]!));
    }
    let phi = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let c = 0; c < d; c++) phi += (x[i]![c]! + y[j]![c]!) ** 2 / (n * n);
    a = (d - 2 * phi - Math.sqrt((2 * phi + d) ** 2 + 8 * d * phi)) / (16 * d);
  }
  const b = Math.sqrt(1 - 4 * a);
  const f = (z: number[]) =>
    Array.from({ length: m }, (_, r) => {
      let wz = 0;
      let ww = 0;
      for (let c = 0; c < d; c++) {
        wz += w[r * d + c]! * z[c]!;
        ww += w[r * d + c]! ** 2;
      }
      return Math.exp(b * wz + a * ww - z.reduce((s, t) => s + t * t, 0) / 2);
    });
  const fx = x.map(f);
  const fy = y.map(f);
  const out: number[] = [];
  for (let i = 0; i < L; i++) {
    let den = 0;
    const num = new Array<number>(d).fill(0);
    for (let j = 0; j <= (causal ? i : L - 1); j++) {
      const kij = fx[i]!.reduce((s, t, r) => s + t * fy[j]![r]!, 0);
      den += kij;
      for (let c = 0; c < d; c++) num[c]! += kij * v[j * d + c]!;
    }
    out.push(...num.map((t) => t / den));
  }
  return out;
}

/** Softmax attention written out: P_ij ∝ exp(q_iᵀk_j/√d) over j (≤ i when causal). */
function softmaxOutput(q: Float64Array, k: Float64Array, v: Float64Array, L: number, d: number, causal: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < L; i++) {
    const js = Array.from({ length: causal ? i + 1 : L }, (_, j) => j);
    const e = js.map((j) => Math.exp(Array.from({ length: d }, (_, c) => q[i * d + c]! * k[j * d + c]!).reduce((s, t) => s + t, 0) / Math.sqrt(d)));
    const z = e.reduce((s, t) => s + t, 0);
    for (let c = 0; c < d; c++) out.push(js.reduce((s, j) => s + e[j]! * v[j * d + c]!, 0) / z);
  }
  return out;
}

describe('performer error --estimator exact', () => {
  const o: ErrorOptions = {
    kernels: ['favor-pos', 'favor-opr', 'favor-sade'],
    featureTypes: ['iid', 'orthogonal'],
    features: [8],
    seqLen: 12,
    dim: 4,
    seeds: 2,
    causal: false,
    causalImpl: 'chunked',
    chunkSize: 4,
    inputScale: 0.6,
    target: 'output',
    estimator: 'exact',
    ep: 'cpu',
    threads: 1,
  };

  for (const causal of [false, true]) {
    it(`matches an independent float64 evaluation to 1e-10 (${causal ? 'causal' : 'bidirectional'})`, async () => {
      // Both are float64 evaluations of the same sums, in different orders and, on the exact
      // path, with stabiliser shifts that cancel: they differ by rounding, ~1e-15 relative per
      // output and ~1e-13 relative in an MSE of O(1e-2) built from O(1) outputs. 1e-10 leaves
      // room for that and still fails at the graph's ε = 1e-6 (a ~1e-6 relative change) or float32.
      const recs = await runErrorSweep({ ...o, causal });
      assert.equal(recs.length, 3 * 2);
      for (const rec of recs) {
        assert.equal(rec.estimator, 'exact');
        for (let s = 0; s < o.seeds; s++) {
          const x = errorInputs(o, s);
          const w = projectionMatrix(8, o.dim, rec.featureType as FeatureType, s);
          const ind = independentOutput(rec.kernel as Kernel, x.q, x.k, x.v, o.seqLen, o.dim, w, causal);
          const got = exactOutput(rec, s, { seqLen: o.seqLen, dim: o.dim, causal }, x.q, x.k, x.v);
          const worst = Math.max(...ind.map((t, i) => Math.abs(t - got[i]!)));
          assert.ok(worst <= 1e-12, `${rec.kernel} ${rec.featureType} seed ${s}: outputs differ by ${worst}`);
          const truth = softmaxOutput(x.q, x.k, x.v, o.seqLen, o.dim, causal);
          const mse = ind.reduce((acc, t, i) => acc + (t - truth[i]!) ** 2, 0) / ind.length;
          assert.ok(Math.abs(rec.perSeed[s]! - mse) <= 1e-10 * mse, `${rec.kernel} ${rec.featureType} seed ${s}: ${rec.perSeed[s]} vs ${mse}`);
        }
      }
    });
  }

  it('where the features span many e-folds, the graph (ε after the shift) and the exact estimator part ways', async () => {
    // d = 64, σ = 1: most shifted key features fall below ε = 1e-6, and ε flattens the attention
    // towards the mean of V. Here (L = 256, m = 64, 2 seeds) the graph's MSE is 20% below the
    // exact one (−40% at L = 512, m = 256, issue #34); 10% is far outside what float32 rounding
    // of the same estimator could do (graph in float64 equals it to 4 digits: scripts/eps-gap.ts).
    const heavy: ErrorOptions = { ...o, kernels: ['favor-pos'], featureTypes: ['iid'], features: [64], seqLen: 256, dim: 64, inputScale: 1 };
    const [exact] = await runErrorSweep(heavy);
    const [graph] = await runErrorSweep({ ...heavy, estimator: 'graph' });
    assert.equal(graph!.estimator, 'graph');
    assert.ok(graph!.mean < 0.9 * exact!.mean, `graph ${graph!.mean} vs exact ${exact!.mean}`);
  });

  it('bad --estimator values and unsupported combinations exit 2 with one line naming the flag', () => {
    for (const [args, msg] of [
      [['--estimator', 'exakt'], /--estimator: 'exakt' is not supported/],
      [['--estimator', 'exact', '--target', 'grad'], /--estimator: exact evaluates --target output\/matrix, not grad/],
      [['--estimator', 'graph,exact', '--target', 'kernel'], /--estimator: exact evaluates --target output\/matrix, not kernel/],
      [['--estimator', 'exact', '--kernels', 'elu'], /--estimator: exact needs softmax estimators, not 'elu'/],
    ] as const) {
      const r = cli(['error', '--seq-len', '16', '--dim', '4', '--features', '4', '--seeds', '1', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const ok = cli([
      'error',
      '--kernels',
      'favor-pos',
      '--feature-type',
      'iid',
      '--seq-len',
      '16',
      '--dim',
      '4',
      '--features',
      '4',
      '--seeds',
      '1',
      '--estimator',
      'graph,exact',
      '--format',
      'json',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(
      JSON.parse(ok.stdout).records.map((r: { estimator: string }) => r.estimator),
      ['graph', 'exact'],
    );
  });
});

describe('graph and exact records in the reports', () => {
  const rec = (kernel: string, featureType: string, estimator: 'graph' | 'exact' | undefined, perSeed: number[]) =>
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
      inputScale: 1,
      seeds: perSeed.length,
      ep: 'cpu',
      status: 'ok',
      mean: perSeed.reduce((a, b) => a + b, 0) / perSeed.length,
      std: 0,
      min: 0,
      max: 0,
      theoryMse: null,
      theoryRelMse: null,
      theoryBound: null,
      bias: null,
      nonPositiveDenominators: null,
      perSeed,
      ...(estimator ? { estimator } : {}),
    }) as unknown as ErrorRecord;

  it('claims pair cases of the same path; gaps compare graph with exact seed by seed; a record without the field is graph', async () => {
    const { claimRows, gapCells } = await import('../src/report/regime.ts');
    const { estimatorGaps } = await import('../src/report/estimator-gap.ts');
    const seeds = [1, 4, 2, 8];
    // graph (no field, an older file): orthogonal 0.5× iid; exact: orthogonal 2× iid, iid 3× graph's.
    const records = [
      rec('favor-pos', 'iid', undefined, seeds),
      rec(
        'favor-pos',
        'orthogonal',
        undefined,
        seeds.map((x) => 0.5 * x),
      ),
      rec(
        'favor-pos',
        'iid',
        'exact',
        seeds.map((x) => 3 * x),
      ),
      rec(
        'favor-pos',
        'orthogonal',
        'exact',
        seeds.map((x) => 6 * x),
      ),
    ];
    const rows = claimRows(records);
    assert.deepEqual(
      rows.map((r) => [r.estimator, Number(r.ratio.toFixed(12))]),
      [
        ['graph', 0.5],
        ['exact', 2],
      ],
    );
    const gaps = estimatorGaps(records);
    assert.deepEqual(
      gaps.map((g) => [g.featureType, Number(g.ratio.toFixed(12)), g.differs]),
      [
        ['iid', Number((1 / 3).toFixed(12)), true],
        ['orthogonal', Number((1 / 12).toFixed(12)), true],
      ],
    );
    assert.deepEqual(
      gapCells(records).map((c) => c.label),
      ['orthogonal / iid (favor-pos)'],
    );
    // Within 10%: no gap, no shaded cell.
    const close = [
      rec('favor-pos', 'iid', 'graph', seeds),
      rec(
        'favor-pos',
        'iid',
        'exact',
        seeds.map((x) => 1.05 * x),
      ),
    ];
    assert.equal(estimatorGaps(close)[0]!.differs, false);
    assert.deepEqual(gapCells(close), []);
  });

  it('results files: estimator is graph, exact or absent (older files), nothing else', async () => {
    const { errorRecordSchema } = await import('../src/results/schema.ts');
    const base = rec('favor-pos', 'iid', undefined, [1, 2]);
    assert.ok(errorRecordSchema.safeParse(base).success);
    assert.ok(errorRecordSchema.safeParse({ ...base, estimator: 'exact' }).success);
    assert.equal(errorRecordSchema.safeParse({ ...base, estimator: 'float64' }).success, false);
  });
});
