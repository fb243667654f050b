/**
 * src/error/derf.ts: FAVOR#'s SDERF and ADERF on the host. Unbiasedness and the closed-form
 * second moment against Monte Carlo (float64, fixed seeds, tolerance 4 standard errors), the
 * transforms keeping xᵀy, and the linear-attention output against the brute-force sum of raw
 * estimates.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { derfAttention, derfEstimate, derfSecondMoment, fitDerf } from '../src/error/derf.ts';
import { Rng } from '../src/random.ts';

const rng = new Rng(2302);
const rows = (n: number, scales: number[]) => Array.from({ length: n }, () => scales.map((s) => rng.gaussian() * s));
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
// Anisotropic, differently for queries and keys (where ADERF and SDERF differ from OPRF), d = 3.
const x = rows(40, [0.6, 0.2, 0.35]);
const y = rows(40, [0.15, 0.5, 0.3]).map((r) => r.map((v, l) => v + [0.2, -0.1, 0][l]!));

describe('SDERF and ADERF (host, float64)', () => {
  for (const kind of ['sderf', 'aderf'] as const) {
    const fit = fitDerf(kind, x, y);
    it(`${kind}: the transforms keep uᵀv = xᵀy, and every a_l ≤ 0`, () => {
      const [xi, yj] = [x[3]!, y[7]!];
      const u = fit.tq.map((r) => dot(r, xi));
      const v = fit.tk.map((r) => dot(r, yj));
      assert.ok(Math.abs(dot(u, v) - dot(xi, yj)) < 1e-12, `${dot(u, v)} vs ${dot(xi, yj)}`);
      assert.ok(fit.a.every((a) => a <= 0));
    });
    it(`${kind}: Monte Carlo mean → exp(xᵀy) and variance → S₂ − SM² (4 SE)`, () => {
      const [xi, yj] = [x[0]!, y[1]!];
      const n = 200_000;
      const terms = new Float64Array(n);
      const w = new Float64Array(3);
      for (let i = 0; i < n; i++) {
        for (let l = 0; l < 3; l++) w[l] = rng.gaussian();
        terms[i] = derfEstimate(fit, w, xi, yj);
      }
      const mean = terms.reduce((a, b) => a + b, 0) / n;
      const variance = terms.reduce((a, t) => a + (t - mean) ** 2, 0) / (n - 1);
      const sm = Math.exp(dot(xi, yj));
      assert.ok(Math.abs(mean - sm) < 4 * Math.sqrt(variance / n), `mean ${mean} vs ${sm}`);
      const closed = derfSecondMoment(fit, xi, yj) - sm * sm;
      // The variance's standard error needs the fourth moment; estimate it from the same terms.
      const m4 = terms.reduce((a, t) => a + (t - mean) ** 4, 0) / n;
      assert.ok(Math.abs(variance - closed) < 4 * Math.sqrt((m4 - variance ** 2) / n), `variance ${variance} vs ${closed}`);
    });
    it(`${kind}: attention through shifted features equals Σ_j K̂(x_i, y_j) v_j / Σ_j K̂(x_i, y_j)`, () => {
      const m = 16;
      const w = Float64Array.from({ length: m * 3 }, () => rng.gaussian());
      const v = rows(40, [1, 1, 1]);
      const out = derfAttention(fit, w, x.slice(0, 10), y, v);
      for (let i = 0; i < 10; i++) {
        const k = y.map((yj) => derfEstimate(fit, w, x[i]!, yj));
        const z = k.reduce((a, b) => a + b, 0);
        const brute = [0, 1, 2].map((l) => k.reduce((a, kj, j) => a + kj * v[j]![l]!, 0) / z);
        // Same float64 sums in another order and with exp shifts: 1e-12 relative.
        brute.forEach((b, l) => assert.ok(Math.abs(out[i]![l]! - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${out[i]![l]} vs ${b}`));
      }
    });
  }
  it('ADERF refuses singular moments (fewer rows than d) with a RangeError', () => {
    assert.throws(() => fitDerf('aderf', x.slice(0, 2), y.slice(0, 2)), RangeError);
  });
});
