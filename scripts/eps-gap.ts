/**
 * Where `performer error`'s graph path and the exact estimator part ways (issue #34, part A): the
 * output MSE of favor-pos and favor-opr at one cell, per seed, evaluated seven ways that change one
 * thing at a time, on the seeds, inputs and projections of `performer error`:
 *
 *   graph-f32      the ONNX graph, float32, ε = 1e-6 after the shifts   (`--estimator graph`)
 *   graph-f64      the same graph built in float64                        (float32's share: f32 vs f64)
 *   host-eps       float64 host features with the deployed ε and shifts   (graph-f64 vs this: a defect)
 *   host-eps-keys  ε on the key features only
 *   host-eps-query ε on the query features only
 *   exact          float64, ε = 0, shifts that cancel exactly            (`--estimator exact`)
 *   unshifted      float64, ε = 0, features exp(logit) with no shift      (the shifts' share: vs exact)
 *
 * Usage: node --import tsx scripts/eps-gap.ts [dim seqLen features sigma featureType seeds]...
 * (no arguments: the four cells of issue #34, 20 seeds). Prints one Markdown table per cell.
 */
import { pairedLogRatio } from '../src/stats/significance.ts';
import { caseFeatures, type ExactCase, linearAttention64 } from '../src/error/exact.ts';
import { errorInputs, type ErrorOptions } from '../src/error/sweep.ts';
import { SOFTMAX_FEATURE_EPS } from '../src/defaults.ts';
import { buildAttentionGraph } from '../src/kernels/build.ts';
import { getKernel } from '../src/kernels/index.ts';
import { type FeatureType, projectionMatrix } from '../src/kernels/projection.ts';
import type { DType } from '../src/onnx/ir.ts';
import { exactAttention } from '../src/reference/attention.ts';
import type { FeatureRows } from '../src/reference/features.ts';
import { attentionPhi, oprfA } from '../src/reference/oprf.ts';
import { runGraph } from '../src/runtime/session.ts';

const KERNELS = ['favor-pos', 'favor-opr'] as const;
const VARIANTS = ['graph-f32', 'graph-f64', 'host-eps', 'host-eps-keys', 'host-eps-query', 'exact', 'unshifted'] as const;
type Variant = (typeof VARIANTS)[number];

interface Cell {
  dim: number;
  seqLen: number;
  features: number;
  sigma: number;
  featureType: FeatureType;
  seeds: number;
}

const ISSUE_CELLS: Cell[] = [
  { dim: 64, seqLen: 512, features: 256, sigma: 0.5, featureType: 'iid', seeds: 20 },
  { dim: 64, seqLen: 512, features: 256, sigma: 0.5, featureType: 'orthogonal', seeds: 20 },
  { dim: 64, seqLen: 512, features: 64, sigma: 1, featureType: 'orthogonal', seeds: 20 },
  { dim: 64, seqLen: 512, features: 256, sigma: 1, featureType: 'iid', seeds: 20 },
];

const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / b.length;
};

async function graphOutput(kernel: string, cell: Cell, seed: number, x: ReturnType<typeof errorInputs>, dtype: DType): Promise<Float64Array> {
  const shape = { batch: 1, heads: 1, seqLen: cell.seqLen, dim: cell.dim };
  const config = { causal: false, causalImpl: 'chunked' as const, chunkSize: 64, features: cell.features, featureType: cell.featureType, seed };
  const { graph } = buildAttentionGraph({ kernel: getKernel(kernel), shape, config, dtype, pass: 'forward' });
  const t = (a: Float64Array) => ({ dtype, dims: [1, 1, cell.seqLen, cell.dim], data: dtype === 'float64' ? a : Float32Array.from(a) });
  const out = await runGraph(graph, { q: t(x.q), k: t(x.k), v: t(x.v) }, { ep: 'cpu', threads: 1 });
  return Float64Array.from(out.out!.data as Float32Array | Float64Array);
}

/** exp(logit) without any shift, written out here: favor-pos exp(wᵀx − ‖x‖²/2); favor-opr exp(B·wᵀx + A‖w‖² − ‖x‖²/2). */
function unshiftedFeatures(kernel: string, cell: Cell, seed: number, x: ReturnType<typeof errorInputs>): FeatureRows {
  const { dim: d, seqLen: L, features: m } = cell;
  const w = projectionMatrix(m, d, cell.featureType, seed);
  const rows = (a: Float64Array) => Array.from({ length: L }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d), (v) => v * d ** -0.25));
  const [xs, ys] = [rows(x.q), rows(x.k)];
  const a = kernel === 'favor-opr' ? oprfA(attentionPhi(xs, ys), d) : 0;
  const b = Math.sqrt(1 - 4 * a);
  const feats = (z: number[][]) =>
    z.map((r) => {
      const half = r.reduce((s, v) => s + v * v, 0) / 2;
      return Array.from({ length: m }, (_, f) => {
        let wz = 0;
        let ww = 0;
        for (let c = 0; c < d; c++) {
          wz += w[f * d + c]! * r[c]!;
          ww += w[f * d + c]! ** 2;
        }
        return Math.exp(b * wz + a * ww - half) / Math.sqrt(m);
      });
    });
  return { q: feats(xs), k: feats(ys) };
}

async function runCell(cell: Cell) {
  const o = { seqLen: cell.seqLen, dim: cell.dim, inputScale: cell.sigma } as ErrorOptions;
  const shape = { seqLen: cell.seqLen, dim: cell.dim, causal: false };
  const perSeed = new Map<string, number[]>();
  const push = (k: string, v: number) => perSeed.set(k, [...(perSeed.get(k) ?? []), v]);
  const below = { q: 0, k: 0, n: 0 };
  for (let s = 0; s < cell.seeds; s++) {
    const x = errorInputs(o, s);
    const truth = exactAttention(x.q, x.k, x.v, { batch: 1, heads: 1, seqLen: cell.seqLen, dim: cell.dim }, false).out;
    for (const kernel of KERNELS) {
      const c: ExactCase = { kernel, featureType: cell.featureType, features: cell.features };
      const withEps = caseFeatures(c, s, shape, x.q, x.k, undefined);
      const noEps = caseFeatures(c, s, shape, x.q, x.k, 0);
      const outs: Record<Variant, Float64Array> = {
        'graph-f32': await graphOutput(kernel, cell, s, x, 'float32'),
        'graph-f64': await graphOutput(kernel, cell, s, x, 'float64'),
        'host-eps': linearAttention64(withEps, x.v, shape),
        'host-eps-keys': linearAttention64({ q: noEps.q, k: withEps.k }, x.v, shape),
        'host-eps-query': linearAttention64({ q: withEps.q, k: noEps.k }, x.v, shape),
        exact: linearAttention64(noEps, x.v, shape),
        unshifted: linearAttention64(unshiftedFeatures(kernel, cell, s, x), x.v, shape),
      };
      for (const v of VARIANTS) push(`${kernel}|${v}`, mse(outs[v], truth));
      push(`${kernel}|graph-f64 vs host-eps`, Math.max(...outs['graph-f64'].map((y, i) => Math.abs(y - outs['host-eps'][i]!))));
      push(`${kernel}|unshifted vs exact`, Math.max(...outs.unshifted.map((y, i) => Math.abs(y - outs.exact[i]!))));
      // Features below ε before the ratio m^(-1/2): ε replaces them (shifted key features, softmax query rows).
      const ratio = cell.features ** 0.5;
      for (const r of noEps.k) for (const p of r) if (p * ratio < SOFTMAX_FEATURE_EPS) below.k++;
      for (const r of noEps.q) for (const p of r) if (p * ratio < SOFTMAX_FEATURE_EPS) below.q++;
      below.n += cell.seqLen * cell.features;
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const fmtCi = (t: ReturnType<typeof pairedLogRatio>) => (t ? `${t.ratio.toPrecision(3)} (${t.lo.toPrecision(3)}–${t.hi.toPrecision(3)})` : '–');
  const lines = [
    `### d = ${cell.dim}, L = ${cell.seqLen}, m = ${cell.features}, σ = ${cell.sigma}, ${cell.featureType}, ${cell.seeds} seeds`,
    '',
    '| variant | favor-pos MSE | favor-opr MSE | favor-pos ÷ exact | favor-opr ÷ exact | favor-opr ÷ favor-pos (95% CI) | opr wins |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const v of VARIANTS) {
    const [p, r] = KERNELS.map((k) => perSeed.get(`${k}|${v}`)!);
    const [pe, re] = KERNELS.map((k) => perSeed.get(`${k}|exact`)!);
    const wins = r!.filter((y, i) => y < p![i]!).length / r!.length;
    lines.push(
      `| ${v} | ${mean(p!).toExponential(3)} | ${mean(r!).toExponential(3)} | ${fmtCi(pairedLogRatio(pe!, p!, 0.05))} | ${fmtCi(pairedLogRatio(re!, r!, 0.05))} | ${fmtCi(pairedLogRatio(p!, r!, 0.05))} | ${(100 * wins).toFixed(0)}% |`,
    );
  }
  const maxOf = (k: string) => Math.max(...KERNELS.map((kn) => Math.max(...perSeed.get(`${kn}|${k}`)!)));
  lines.push(
    '',
    `max |graph-f64 − host-eps| = ${maxOf('graph-f64 vs host-eps').toExponential(2)}; max |unshifted − exact| = ${maxOf('unshifted vs exact').toExponential(2)}; ` +
      `features below ε (both kernels): keys ${((100 * below.k) / below.n).toFixed(1)}%, queries ${((100 * below.q) / below.n).toFixed(1)}%`,
    '',
  );
  return lines.join('\n');
}

const args = process.argv.slice(2);
const cells: Cell[] = args.length
  ? Array.from({ length: Math.floor(args.length / 6) }, (_, i) => {
      const [dim, seqLen, features, sigma, featureType, seeds] = args.slice(6 * i, 6 * i + 6);
      return {
        dim: Number(dim),
        seqLen: Number(seqLen),
        features: Number(features),
        sigma: Number(sigma),
        featureType: featureType as FeatureType,
        seeds: Number(seeds),
      };
    })
  : ISSUE_CELLS;
for (const cell of cells) console.log(await runCell(cell));
