/**
 * Figures derived across records: achieved GFLOP/s, fraction of the measured matmul rate, fraction
 * of the limit model's bound (limitMs, set by limit/price.ts or kept from a results file),
 * speed-up over the best softmax baseline at the same point, time relative to identity (OPT).
 */
import { hasRole, isSoftmaxBaseline } from '../kernels/index.ts';
import type { BenchPoint, BenchRecord } from './types.ts';

/** Same point but for the kernel (and its kernel-only options). */
const sibling = (p: BenchPoint) => [p.pass, p.causal, p.scope, p.seqLen, p.batch, p.heads, p.dim, p.ep, p.dtype].join('|');

export function deriveRecords(records: readonly BenchRecord[], matmulGflops: number | null): BenchRecord[] {
  const bestSoftmax = new Map<string, number>();
  const identity = new Map<string, number>();
  for (const r of records) {
    if (r.status !== 'ok' || r.medianMs === null) continue;
    const key = sibling(r);
    if (isSoftmaxBaseline(r.kernel)) bestSoftmax.set(key, Math.min(bestSoftmax.get(key) ?? Infinity, r.medianMs));
    if (hasRole(r.kernel, 'opt')) identity.set(key, r.medianMs);
  }
  return records.map((r) => {
    if (r.status !== 'ok' || r.medianMs === null) return r;
    const gflops = r.flops > 0 ? r.flops / r.medianMs / 1e6 : null;
    const soft = bestSoftmax.get(sibling(r));
    const opt = identity.get(sibling(r));
    return {
      ...r,
      gflopsPerSec: gflops,
      rooflineFraction: matmulGflops && gflops !== null ? gflops / matmulGflops : null,
      limitMs: r.limitMs ?? null,
      limitFraction: r.limitMs ? r.limitMs / r.medianMs : null,
      speedupVsSoftmax: soft !== undefined ? soft / r.medianMs : null,
      timeVsIdentity: opt !== undefined ? r.medianMs / opt : null,
    };
  });
}
