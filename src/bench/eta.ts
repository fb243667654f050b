/**
 * The time left in a sweep, from a cost model calibrated by the processes already run: each
 * process costs a fixed overhead (start, graph, session) plus its timed phase, which lasts at
 * least the time budget and at least (2 + warm-up + min-runs) runs of the point's analytic FLOPs
 * at the rate the finished processes achieved. Far better than the mean time per process, which
 * runs 4× low when the long sequence lengths come last.
 */
import { getKernel } from '../kernels/index.ts';
import { pointConfig } from './graph.ts';
import type { BenchPoint, Measurement, MeasureOptions } from './types.ts';

/** Analytic FLOPs of one run of a point, from its sizes alone (no graph is built). */
export function approxFlops(p: BenchPoint): number {
  const spec = getKernel(p.kernel);
  const bh = p.batch * p.heads;
  const L = p.seqLen;
  const d = p.scope === 'model' ? p.dim / p.heads : p.dim;
  const r = spec.featureWidth?.(pointConfig(p), d) ?? 0;
  const attention = spec.role === 'linear' ? 6 * L * r * d : spec.role === 'opt' ? L * d : 4 * L * L * d + 5 * L * L;
  const model = p.scope === 'model' ? (p.layers ?? 1) * p.batch * L * (8 * p.dim * p.dim + 4 * p.dim * (p.dFf ?? 4 * p.dim)) : 0;
  const perLayer = bh * attention * (p.scope === 'model' ? (p.layers ?? 1) : 1);
  return (perLayer + model) * (p.pass === 'backward' ? 3 : 1);
}

export class EtaModel {
  private overheads: number[] = [];
  private flopsDone = 0;
  private timedMs = 0;

  constructor(private readonly measure: MeasureOptions) {}

  /** A finished process: its wall time and what it measured. */
  observe(p: BenchPoint, wallMs: number, m: Measurement): void {
    if (m.status !== 'ok' || !m.samplesMs.length) return;
    const timed = m.samplesMs.reduce((a, b) => a + b, 0) + (m.firstRunMs ?? 0);
    const runs = m.samplesMs.length + 1 + this.measure.warmupRuns;
    this.overheads.push(Math.max(0, wallMs - timed * (runs / (m.samplesMs.length + 1))));
    this.flopsDone += approxFlops(p) * (m.samplesMs.length + 1);
    this.timedMs += timed;
  }

  /** Milliseconds the given processes will take, or null before any process finished. */
  predict(remaining: readonly BenchPoint[]): number | null {
    if (!this.overheads.length || this.flopsDone === 0) return null;
    const sorted = [...this.overheads].sort((a, b) => a - b);
    const overhead = sorted[Math.floor(sorted.length / 2)]!;
    const msPerFlop = this.timedMs / this.flopsDone;
    const runs = 2 + this.measure.warmupRuns + this.measure.minRuns;
    return remaining.reduce((t, p) => t + overhead + Math.max(this.measure.timeMs, runs * approxFlops(p) * msPerFlop), 0);
  }
}
