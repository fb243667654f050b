/**
 * The time left in a sweep, from a cost model calibrated by the processes already run: each
 * process costs a fixed overhead (start, graph, session) plus its timed phase, which lasts at
 * least the time budget and at least (2 + warm-up + min-runs) runs of the point's analytic FLOPs
 * at the rate the finished processes achieved. Far better than the mean time per process, which
 * runs 4× low when the long sequence lengths come last.
 */
import { getKernel } from '../kernels/index.ts';
import { pointConfig } from './graph.ts';
import { type BenchPoint, isModelScope, type Measurement, type MeasureOptions } from './types.ts';

/** Analytic FLOPs of one run of a point, from its sizes alone (no graph is built). */
export function approxFlops(p: BenchPoint): number {
  const spec = getKernel(p.kernel);
  const bh = p.batch * p.heads;
  const L = p.seqLen;
  const model = isModelScope(p.scope);
  const d = model ? p.dim / p.heads : p.dim;
  const r = spec.featureWidth?.(pointConfig(p), d) ?? 0;
  const attention = spec.role === 'linear' ? 6 * L * r * d : spec.role === 'opt' ? L * d : 4 * L * L * d + 5 * L * L;
  const dense = model ? (p.layers ?? 1) * p.batch * L * (8 * p.dim * p.dim + 4 * p.dim * (p.dFf ?? 4 * p.dim)) : 0;
  const perLayer = bh * attention * (model ? (p.layers ?? 1) : 1);
  return (perLayer + dense) * (p.pass === 'backward' ? 3 : 1);
}

const group = (p: BenchPoint) => `${getKernel(p.kernel).role}|${p.pass}`;

export class EtaModel {
  private overheads: number[] = [];
  /** (kernel role and pass, log FLOPs, log ms per run) of each finished process. */
  private points: [string, number, number][] = [];

  constructor(private readonly measure: MeasureOptions) {}

  /** A finished process: its wall time and what it measured. */
  observe(p: BenchPoint, wallMs: number, m: Measurement): void {
    if (m.status !== 'ok' || !m.samplesMs.length) return;
    const perRun = m.samplesMs.reduce((a, b) => a + b, 0) / m.samplesMs.length;
    const runs = m.samplesMs.length + 1 + this.measure.warmupRuns;
    this.overheads.push(Math.max(0, wallMs - perRun * runs));
    this.points.push([group(p), Math.log(approxFlops(p)), Math.log(perRun)]);
  }

  /**
   * ms per run as a power of the FLOPs, log t = a + k·log f, fitted to the finished processes of
   * the same kernel role and pass (all of them until two sizes of its own are seen): small points
   * run far below the machine's rate, so one FLOP rate from them overestimates the large ones (k is
   * clamped to [0.3, 1.2]; with one size seen, k = 1).
   */
  private perRun(p: BenchPoint): number {
    const own = this.points.filter(([g]) => g === group(p));
    const pts = new Set(own.map(([, x]) => x)).size > 1 ? own : this.points;
    const n = pts.length;
    const mx = pts.reduce((s, [, x]) => s + x, 0) / n;
    const my = pts.reduce((s, [, , y]) => s + y, 0) / n;
    const sxx = pts.reduce((s, [, x]) => s + (x - mx) ** 2, 0);
    const sxy = pts.reduce((s, [, x, y]) => s + (x - mx) * (y - my), 0);
    const k = sxx > 1e-9 ? Math.min(1.2, Math.max(0.3, sxy / sxx)) : 1;
    return Math.exp(my + k * (Math.log(approxFlops(p)) - mx));
  }

  /** Milliseconds the given processes will take, or null before any process finished. */
  predict(remaining: readonly BenchPoint[]): number | null {
    if (!this.overheads.length) return null;
    const sorted = [...this.overheads].sort((a, b) => a - b);
    const overhead = sorted[Math.floor(sorted.length / 2)]!;
    const { timeMs, minRuns, warmupRuns } = this.measure;
    return remaining.reduce((t, p) => {
      const run = this.perRun(p);
      return t + overhead + (1 + warmupRuns) * run + Math.max(timeMs, minRuns * run);
    }, 0);
  }
}
