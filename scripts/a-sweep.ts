/**
 * FAVOR++'s A against the normalised output (issue #34, docs/formulas.md §6): the exact estimator
 * (float64, no ε) of f(ω, x) = exp(A‖ω‖² + √(1−4A)·ωᵀx − ‖x‖²/2) with A held fixed instead of
 * fitted, on `performer error`'s seeds, inputs and projections. Prints per A the mean output MSE
 * and its paired geometric-mean ratio to A = 0 (FAVOR+), beside the fitted A* of each seed.
 *
 * Usage: node --import tsx scripts/a-sweep.ts [dim seqLen features sigma featureType seeds]
 * (default: 64 512 64 1 orthogonal 20).
 */
import { pairedLogRatio } from '../src/stats/significance.ts';
import { linearAttention64 } from '../src/error/exact.ts';
import { errorInputs, type ErrorOptions } from '../src/error/sweep.ts';
import { oprfFit } from '../src/kernels/favor-opr.ts';
import { type FeatureType, projectionMatrix } from '../src/kernels/projection.ts';
import { exactAttention } from '../src/reference/attention.ts';
import { oprfRows, scaleRows } from '../src/reference/features.ts';
import { rowsOf } from '../src/reference/linear-attention.ts';

const [dim = 64, seqLen = 512, features = 64, sigma = 1, featureType = 'orthogonal', seeds = 20] = process.argv
  .slice(2)
  .map((a, i) => (i === 4 ? a : Number(a))) as [number?, number?, number?, number?, string?, number?];
const A_VALUES = [-0.2, -0.15, -0.1, -0.05, -0.025, 0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12];

const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / b.length;
};

const o = { seqLen, dim, inputScale: sigma } as ErrorOptions;
const shape = { seqLen, dim, causal: false };
const perA = new Map<number, number[]>();
const fitted: number[] = [];
for (let s = 0; s < seeds; s++) {
  const x = errorInputs(o, s);
  const truth = exactAttention(x.q, x.k, x.v, { batch: 1, heads: 1, seqLen, dim }, false).out;
  const w = projectionMatrix(features, dim, featureType as FeatureType, s);
  const [q, k] = [rowsOf(x.q, 0, seqLen, dim), rowsOf(x.k, 0, seqLen, dim)];
  fitted.push(oprfFit(scaleRows(q, dim), scaleRows(k, dim), dim).a);
  for (const a of A_VALUES) {
    const f = oprfRows(q, k, { w, d: dim, causal: false }, () => ({ a }), 0);
    perA.set(a, [...(perA.get(a) ?? []), mse(linearAttention64(f, x.v, shape), truth)]);
  }
}
const mean = (xs: readonly number[]) => xs.reduce((p, v) => p + v, 0) / xs.length;
console.log(
  `### A sweep, exact estimator: d = ${dim}, L = ${seqLen}, m = ${features}, σ = ${sigma}, ${featureType}, ${seeds} seeds; fitted A* = ${mean(fitted).toFixed(4)} (${Math.min(...fitted).toFixed(4)} … ${Math.max(...fitted).toFixed(4)})\n`,
);
console.log('| A | mean output MSE | ÷ A = 0 (geo. mean, 95% CI) |\n|---|---|---|');
for (const a of A_VALUES) {
  const t = pairedLogRatio(perA.get(0)!, perA.get(a)!, 0.05);
  console.log(`| ${a} | ${mean(perA.get(a)!).toExponential(3)} | ${t ? `${t.ratio.toPrecision(3)} (${t.lo.toPrecision(3)}–${t.hi.toPrecision(3)})` : '–'} |`);
}
