import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holm, holmLevel, minDetectableRatio, pairedLogRatio, runsNeeded, studentTCdf, studentTQuantile, type RatioTest } from '../src/stats/significance.ts';
import { welchLogRatio } from './helpers/significance.ts';

/** mulberry32: a tiny seeded 32-bit PRNG, uniform on [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box–Muller from a seeded uniform source. */
function gaussian(rng: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} vs ${expected} (tol ${tol})`);

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleVar = (xs: readonly number[]) => xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1);

describe('Student t distribution', () => {
  it('quantiles match the printed tables', () => {
    // Table values are rounded to 4–5 decimals, so half a unit in the last printed place.
    close(studentTQuantile(0.975, 1), 12.7062, 5e-5, 't_.975,1');
    close(studentTQuantile(0.975, 4), 2.7764, 5e-5, 't_.975,4');
    close(studentTQuantile(0.95, 10), 1.8125, 5e-5, 't_.95,10');
    close(studentTQuantile(0.99, 3), 4.5407, 5e-5, 't_.99,3');
    close(studentTQuantile(0.975, 1e7), 1.95996, 5e-6, 't_.975,1e7');
    close(studentTQuantile(0.975, Infinity), 1.959964, 5e-7, 'z_.975');
    close(studentTQuantile(0.025, 4), -2.7764, 5e-5, 't_.025,4');
    assert.equal(studentTQuantile(0.5, 3.3), 0);
  });

  it('CDF and quantile match closed forms for df = 1, 2 and 4 to 1e-9', () => {
    // Closed forms (e.g. Johnson, Kotz & Balakrishnan, ch. 28) are exact, so the only error is
    // float64 rounding in the continued fraction (~1e-15) and the bisection stop (1e-13 relative):
    // 1e-9 relative leaves four orders of margin while still checking the "~1e-8" requirement.
    const cdf4 = (t: number) => 0.5 + (((3 / 8) * t) / Math.sqrt(1 + (t * t) / 4)) * (1 - (t * t) / (12 * (1 + (t * t) / 4)));
    for (const t of [-40, -3.1, -0.7, 0, 0.05, 1.3, 2.5, 9, 250]) {
      close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-12, `F1(${t})`);
      close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-12, `F2(${t})`);
      close(studentTCdf(t, 4), cdf4(t), 1e-12, `F4(${t})`);
    }
    for (const p of [1e-6, 0.01, 0.1, 0.3, 0.6, 0.8, 0.95, 0.999]) {
      const q1 = Math.tan(Math.PI * (p - 0.5));
      const q2 = (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
      close(studentTQuantile(p, 1), q1, 1e-9 * Math.max(1, Math.abs(q1)), `Q1(${p})`);
      close(studentTQuantile(p, 2), q2, 1e-9 * Math.max(1, Math.abs(q2)), `Q2(${p})`);
    }
  });

  it('quantile(cdf(x)) round-trips, including non-integer df', () => {
    // |x| ≤ 6 keeps the tail probability ≥ ~1e-7, where the CDF's relative precision (~1e-15/tail)
    // still pins x to better than 1e-8.
    for (const df of [0.7, 1, 2.5, 5, 12.34, 30, 1e4]) {
      for (const x of [-6, -2.2, -0.4, 0.01, 1, 3.3, 6]) {
        close(studentTQuantile(studentTCdf(x, df), df), x, 1e-8 * Math.max(1, Math.abs(x)), `df ${df} x ${x}`);
      }
    }
  });

  it('edges: 0 and 1 map to ∓Infinity, bad arguments to NaN', () => {
    assert.equal(studentTQuantile(0, 3), -Infinity);
    assert.equal(studentTQuantile(1, 3), Infinity);
    assert.ok(Number.isNaN(studentTQuantile(1.2, 3)));
    assert.ok(Number.isNaN(studentTCdf(1, 0)));
    assert.equal(studentTCdf(Infinity, 3), 1);
    assert.equal(studentTCdf(-Infinity, 3), 0);
  });
});

describe("Welch's test (yuenLogRatio at trim 0)", () => {
  it('a literal example: cur = 2 × base exactly', () => {
    // log cur = log base + ln 2 with equal variances (ln 2)² and n = 3 per side, so ratio = 2,
    // Welch df = 2(n − 1) = 4, se = ln 2 · √(2/3), t = √1.5; the one-sided p is the t₄ upper tail
    // at √1.5, 0.14393206736334527 (scipy.stats.t.sf(sqrt(1.5), 4)). Tolerances: float64 rounding.
    const r = welchLogRatio([1, 2, 4], [2, 4, 8], 0.05)!;
    close(r.ratio, 2, 1e-14, 'ratio');
    close(r.df, 4, 1e-12, 'df');
    close(r.se, Math.LN2 * Math.sqrt(2 / 3), 1e-15, 'se');
    close(r.pSlower, 0.14393206736334527, 1e-12, 'pSlower');
    close(r.pFaster, 1 - 0.14393206736334527, 1e-12, 'pFaster');
    close(r.lo, Math.exp(Math.LN2 - 2.7764451051977934 * r.se), 1e-9, 'lo');
    close(r.hi, Math.exp(Math.LN2 + 2.7764451051977934 * r.se), 1e-9, 'hi');
    assert.deepEqual(r.n, [3, 3]);
  });

  it('matches the Welch–Satterthwaite formulas computed by hand (unequal n and variances)', () => {
    // Expected values recomputed here from the textbook formulas in float64; 1e-12 covers the
    // different summation order only.
    const base = [10.2, 9.8, 11.5, 10.1, 10.9];
    const cur = [11.0, 12.3, 11.4, 13.0];
    const lb = base.map(Math.log);
    const lc = cur.map(Math.log);
    const vb = sampleVar(lb) / base.length;
    const vc = sampleVar(lc) / cur.length;
    const se = Math.sqrt(vb + vc);
    const df = (vb + vc) ** 2 / (vb ** 2 / (base.length - 1) + vc ** 2 / (cur.length - 1));
    const d = mean(lc) - mean(lb);
    const half = studentTQuantile(0.95, df) * se;
    const r = welchLogRatio(base, cur, 0.1)!;
    close(r.ratio, Math.exp(d), 1e-12, 'ratio');
    close(r.se, se, 1e-12, 'se');
    close(r.df, df, 1e-9, 'df');
    close(r.lo, Math.exp(d - half), 1e-12, 'lo');
    close(r.hi, Math.exp(d + half), 1e-12, 'hi');
    close(r.pSlower, 1 - studentTCdf(d / se, df), 1e-12, 'pSlower');
    close(r.pSlower + r.pFaster, 1, 1e-12, 'p sum');
    assert.ok(r.lo < r.ratio && r.ratio < r.hi);
    assert.deepEqual(r.n, [5, 4]);
  });

  it('equal samples give ratio 1 and symmetric p = 0.5', () => {
    const r = welchLogRatio([9, 10, 11, 12], [12, 11, 10, 9], 0.05)!;
    close(r.ratio, 1, 1e-15, 'ratio');
    close(r.pSlower, 0.5, 1e-15, 'pSlower');
    close(r.pFaster, 0.5, 1e-15, 'pFaster');
    close(Math.log(r.hi), -Math.log(r.lo), 1e-12, 'symmetric CI');
  });

  it('zero variance on both sides: se 0, p by the sign, degenerate interval', () => {
    const slower = welchLogRatio([2, 2, 2], [3, 3, 3], 0.05)!;
    assert.equal(slower.se, 0);
    assert.equal(slower.pSlower, 0);
    assert.equal(slower.pFaster, 1);
    close(slower.ratio, 1.5, 1e-15, 'ratio');
    assert.equal(slower.lo, slower.ratio);
    assert.equal(slower.hi, slower.ratio);
    const same = welchLogRatio([2, 2], [2, 2], 0.05)!;
    assert.deepEqual([same.pSlower, same.pFaster, same.ratio], [0.5, 0.5, 1]);
  });

  it('returns null for too few, non-positive or non-finite values; rejects a bad alpha', () => {
    assert.equal(welchLogRatio([1], [1, 2], 0.05), null);
    assert.equal(welchLogRatio([1, 2], [0, 2], 0.05), null);
    assert.equal(welchLogRatio([1, -2], [1, 2], 0.05), null);
    assert.equal(welchLogRatio([1, NaN], [1, 2], 0.05), null);
    assert.equal(welchLogRatio([1, Infinity], [1, 2], 0.05), null);
    assert.throws(() => welchLogRatio([1, 2], [1, 2], 0), RangeError);
    assert.throws(() => welchLogRatio([1, 2], [1, 2], 1), RangeError);
  });
});

describe('pairedLogRatio', () => {
  it('a constant 1.2× ratio across very different pairs is found with tiny p; Welch cannot see it', () => {
    // Per-process log noise sd 1e-3 on each side: the mean log-difference over 8 pairs has sd
    // 1e-3·√2/√8 = 5e-4, so 3e-3 relative on the ratio is a 6σ bound. t ≈ 0.18/5e-4 ≈ 360 on 7 df,
    // so pSlower is far below 1e-9.
    const normal = gaussian(mulberry32(7));
    const base = [5, 9, 14, 20, 31, 47, 60, 88].map((b) => b * Math.exp(1e-3 * normal()));
    const cur = base.map((b) => 1.2 * b * Math.exp(1e-3 * normal()));
    const r = pairedLogRatio(base, cur, 0.05)!;
    close(r.ratio, 1.2, 1.2 * 3e-3, 'ratio');
    assert.equal(r.df, 7);
    assert.deepEqual(r.n, [8, 8]);
    assert.ok(r.pSlower < 1e-9, `pSlower ${r.pSlower}`);
    assert.ok(r.pFaster > 1 - 1e-9);
    assert.ok(r.lo > 1.19 && r.hi < 1.21, `CI [${r.lo}, ${r.hi}]`);
    // The pairs span 5–88 ms, so between-pair spread swamps the 20% shift for the unpaired test.
    assert.ok(welchLogRatio(base, cur, 0.05)!.pSlower > 0.2);
  });

  it('needs equal lengths ≥ 2 of positive finite values', () => {
    assert.equal(pairedLogRatio([1, 2, 3], [1, 2], 0.05), null);
    assert.equal(pairedLogRatio([1], [1], 0.05), null);
    assert.equal(pairedLogRatio([1, 2], [1, 0], 0.05), null);
    const exact = pairedLogRatio([1, 2, 4], [1.5, 3, 6], 0.05)!;
    assert.equal(exact.se, 0);
    assert.equal(exact.pSlower, 0);
  });
});

describe('minDetectableRatio and runsNeeded', () => {
  const test = (se: number, df: number, n: number): RatioTest => ({ ratio: 1, lo: 1, hi: 1, se, df, pSlower: 0.5, pFaster: 0.5, n: [n, n + 2] });

  it('MDR uses t_{1−α} + t_{power} and shrinks with more runs', () => {
    // t_.95,10 = 1.8125 and t_.80,10 = 0.8791 from tables (4 decimals, hence 1e-4·se slack).
    close(minDetectableRatio(0.1, 10, 0.05), Math.exp((1.8125 + 0.8791) * 0.1), 1e-4, 'MDR');
    let prev = Infinity;
    for (const n of [3, 5, 7, 10, 20, 50]) {
      const mdr = minDetectableRatio(0.08 * Math.sqrt(7 / n), 2 * (n - 1), 0.05);
      assert.ok(mdr < prev && mdr > 1, `n ${n}: ${mdr}`);
      prev = mdr;
    }
    assert.ok(minDetectableRatio(0.1, 10, 0.05, 0.9) > minDetectableRatio(0.1, 10, 0.05, 0.8));
  });

  it('runsNeeded is ≥ n, minimal, n when already enough, and capped at 1000', () => {
    const t = test(0.05, 12, 7);
    const mdr = minDetectableRatio(0.05, 12, 0.05);
    assert.equal(runsNeeded(t, mdr - 1 + 1e-6, 0.05), 7);
    assert.equal(runsNeeded(test(0, 12, 7), 0.01, 0.05), 7);
    const need = runsNeeded(t, 0.05, 0.05);
    assert.ok(need > 7);
    const at = (m: number) => minDetectableRatio(0.05 * Math.sqrt(7 / m), (12 * m) / 7, 0.05);
    assert.ok(at(need) <= 1.05 && at(need - 1) > 1.05, `need ${need}`);
    assert.ok(runsNeeded(t, 0.02, 0.05) > need);
    assert.equal(runsNeeded(t, 1e-5, 0.05), 1000);
  });
});

describe('holm', () => {
  it('steps down and stops at the first failure; null is untested', () => {
    // Sorted: 0.005 ≤ .05/4, 0.01 ≤ .05/3, 0.03 > .05/2 → stop (0.04 is not rejected either).
    assert.deepEqual(holm([0.01, 0.04, 0.03, 0.005], 0.05), [true, false, false, true]);
    assert.deepEqual(holm([null, 0.02, 0.03], 0.05), [false, true, true]);
    assert.deepEqual(holm([null, null], 0.05), [false, false]);
    assert.deepEqual(holm([0.05, 0.05], 0.05), [false, false]);
    assert.equal(holmLevel(0, 4, 0.05), 0.0125);
    assert.equal(holmLevel(3, 4, 0.05), 0.05);
  });
});

describe('simulated CI gate (per-process medians, N = 7 per side, 1000 repetitions)', () => {
  const REPS = 1000;
  const N = 7;
  const ALPHA = 0.05;

  /** One process's median: 10 ms × lognormal(sd) × 1.3 with probability 10% (a slow process). */
  const processMedian = (rng: () => number, normal: () => number, sd: number) => 10 * Math.exp(sd * normal()) * (rng() < 0.1 ? 1.3 : 1);

  /** Fraction of repetitions with pSlower < ALPHA; `round` is the sd of a log effect shared by pair i. */
  function detectionRate(seed: number, sd: number, scale: number, paired: boolean, round = 0): number {
    const rng = mulberry32(seed);
    const normal = gaussian(rng);
    let hits = 0;
    for (let r = 0; r < REPS; r++) {
      const shared = Array.from({ length: N }, () => Math.exp(round * normal()));
      const base = shared.map((s) => s * processMedian(rng, normal, sd));
      const cur = shared.map((s) => s * scale * processMedian(rng, normal, sd));
      const test = paired ? pairedLogRatio(base, cur, ALPHA) : welchLogRatio(base, cur, ALPHA);
      if (test!.pSlower < ALPHA) hits++;
    }
    return hits / REPS;
  }

  // Binomial 3σ band for a rate estimated from 1000 repetitions: 3·√(p(1 − p)/1000).
  const band = (p: number) => 3 * Math.sqrt((p * (1 - p)) / REPS);

  it('false alarms stay within α (+3σ) for identical runs, Welch and paired', (t) => {
    const welch = detectionRate(1, 0.1, 1, false);
    const paired = detectionRate(2, 0.1, 1, true, 0.1);
    t.diagnostic(`false-alarm rate: welch ${welch}, paired ${paired} (bound ${(ALPHA + band(ALPHA)).toFixed(4)})`);
    assert.ok(welch <= ALPHA + band(ALPHA), `welch ${welch}`);
    assert.ok(paired <= ALPHA + band(ALPHA), `paired ${paired}`);
  });

  it('detects a 15% slowdown with power ≈ 0.8 (sd 0.05 plus the slow-process tail)', (t) => {
    // The tail adds variance 0.1·0.9·ln(1.3)² ≈ 0.0062 to 0.05² = 0.0025: per-process log sd ≈ 0.093,
    // se = 0.093·√(2/7) ≈ 0.050 on ≈ 12 df, so MDR = exp((1.782 + 0.873)·0.050) ≈ 1.14: a 1.15×
    // slowdown sits right at 80% power (≈ 0.82 over 50k repetitions), so asserting ≥ 0.8 on 1000
    // repetitions would be a coin flip of the seed. We assert the power is not below 0.8 by more
    // than the binomial 3σ band instead.
    const welch = detectionRate(3, 0.05, 1.15, false);
    t.diagnostic(`power at 1.15×: welch ${welch} (bound ${(0.8 - band(0.8)).toFixed(4)})`);
    assert.ok(welch >= 0.8 - band(0.8), `welch ${welch}`);
  });

  it('with shared round effects, pairing recovers the power that Welch loses', (t) => {
    // A round effect of sd 0.10 shared by each pair cancels in d_i, so paired power is ≈ 0.78
    // (df 6 instead of ≈ 12; 50k-repetition estimate); Welch sees sd √(0.1² + 0.093²) ≈ 0.137 and
    // drops to ≈ 0.6. Binomial σ over 1000 repetitions is ≈ 0.013 for one rate and ≈ 0.02 for the
    // difference, so 0.7 is 6σ below 0.78 and the 0.1 gap 4.5σ below the expected ≈ 0.19.
    const paired = detectionRate(4, 0.05, 1.15, true, 0.1);
    const welch = detectionRate(4, 0.05, 1.15, false, 0.1);
    t.diagnostic(`power at 1.15× with round effects: paired ${paired}, welch ${welch}`);
    assert.ok(paired >= 0.7, `paired ${paired}`);
    assert.ok(paired > welch + 0.1, `paired ${paired} vs welch ${welch}`);
  });
});
