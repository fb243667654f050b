/**
 * Formats for CI services: github-action-benchmark's `customSmallerIsBetter` JSON array, and the
 * Bencher Metric Format (latency in nanoseconds, with p10/p90 as bounds, plus GFLOP/s and rme).
 */
import type { BenchRecord } from '../bench/types.ts';
import { findKernel } from '../kernels/index.ts';
import { mode } from './bench.ts';

const name = (r: BenchRecord) =>
  `${r.kernel} ${r.pass} ${mode(r)} L=${r.seqLen} B=${r.batch} H=${r.heads} d=${r.dim}${findKernel(r.kernel)?.projection ? ` m=${r.features}` : ''} ${r.ep} ${r.dtype}`;
const ok = (rs: readonly BenchRecord[]) => rs.filter((r) => r.status === 'ok' && r.medianMs !== null);

export function toGab(records: readonly BenchRecord[]): string {
  const rows = ok(records).map((r) => ({
    name: name(r),
    unit: 'ms',
    value: r.medianMs,
    range: r.rme === null ? undefined : `±${(100 * r.rme).toFixed(1)}%`,
    extra: `p10 ${r.p10Ms?.toFixed(3)} ms, p90 ${r.p90Ms?.toFixed(3)} ms, ${r.runs} runs`,
  }));
  return `${JSON.stringify(rows, null, 2)}\n`;
}

export function toBmf(records: readonly BenchRecord[]): string {
  const out: Record<string, Record<string, { value: number; lower_value?: number; upper_value?: number }>> = {};
  for (const r of ok(records)) {
    const m: (typeof out)[string] = { latency: { value: r.medianMs! * 1e6, lower_value: r.p10Ms! * 1e6, upper_value: r.p90Ms! * 1e6 } };
    if (r.gflopsPerSec !== null) m['gflops-per-second'] = { value: r.gflopsPerSec };
    if (r.rme !== null) m['relative-margin-of-error'] = { value: r.rme };
    out[name(r)] = m;
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}
