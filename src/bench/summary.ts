/** The lines under the bench table: crossover lengths L* and scaling exponents k. */
import { hasRole } from '../kernels/index.ts';
import { linearFit } from '../stats/descriptive.ts';
import { seriesKey } from '../results/keys.ts';
import type { BenchRecord, Crossover, Exponent } from './types.ts';

export type { Crossover, Exponent } from './types.ts';

const okTimes = (rs: readonly BenchRecord[]) => rs.filter((r) => r.status === 'ok' && r.medianMs !== null).sort((a, b) => a.seqLen - b.seqLen);

function groups(records: readonly BenchRecord[]): Map<string, BenchRecord[]> {
  const m = new Map<string, BenchRecord[]>();
  for (const r of records) m.set(seriesKey(r), [...(m.get(seriesKey(r)) ?? []), r]);
  return m;
}

/** For each linear kernel series: where log(t_kernel / t_best_softmax) crosses 0. */
export function crossovers(records: readonly BenchRecord[]): Crossover[] {
  const out: Crossover[] = [];
  for (const series of groups(records).values()) {
    const first = series[0]!;
    if (!hasRole(first.kernel, 'linear')) continue;
    const pts = okTimes(series).filter((r) => r.speedupVsSoftmax !== null);
    const base = { kernel: first.kernel, pass: first.pass, causal: first.causal };
    if (!pts.length) {
      out.push({ ...base, seqLen: null, bound: 'none' });
      continue;
    }
    const ratio = pts.map((r) => Math.log(1 / r.speedupVsSoftmax!)); // < 0: the kernel is faster
    if (ratio[0]! <= 0) {
      out.push({ ...base, seqLen: pts[0]!.seqLen, bound: 'below' });
      continue;
    }
    const i = ratio.findIndex((x) => x <= 0);
    if (i < 0) {
      out.push({ ...base, seqLen: pts.at(-1)!.seqLen, bound: 'above' });
      continue;
    }
    const [l0, l1] = [Math.log(pts[i - 1]!.seqLen), Math.log(pts[i]!.seqLen)];
    const [r0, r1] = [ratio[i - 1]!, ratio[i]!];
    out.push({ ...base, seqLen: Math.exp(l0 + ((l1 - l0) * r0) / (r0 - r1)), bound: 'exact' });
  }
  return out;
}

/** Least-squares slope of log t on log L per series (time ∝ L^k), over its ok points. */
export function exponents(records: readonly BenchRecord[]): Exponent[] {
  const out: Exponent[] = [];
  for (const series of groups(records).values()) {
    const pts = okTimes(series);
    if (pts.length < 2) continue;
    const { slope } = linearFit(pts.map((r) => Math.log(r.seqLen)), pts.map((r) => Math.log(r.medianMs!)));
    out.push({ kernel: pts[0]!.kernel, pass: pts[0]!.pass, causal: pts[0]!.causal, k: slope, points: pts.length });
  }
  return out;
}

