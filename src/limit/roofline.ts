/**
 * This machine's single-number roofline through ONNX Runtime: the float32 rate of one large square
 * product and the elementwise bandwidth. Both come from the limit cache (limit/rates.ts), so
 * they are the best ever measured on this machine fingerprint, never a reading taken under load.
 * The limit model (limit/analyse.ts) prices each graph at its own shapes; this number remains the
 * fallback rate for products without a measured case and the reference of rooflineFraction.
 */
import { RuntimeError } from '../errors.ts';
import type { ExecutionProvider } from '../runtime/session.ts';
import type { MatMulCase } from './analyse.ts';
import { caseKey } from './analyse.ts';
import { ensureRates } from './rates.ts';
import type { Roofline } from '../bench/types.ts';

export type { Roofline } from '../bench/types.ts';
export { fingerprint } from './rates.ts';

const MATMUL_N = 1536;

/** The square product the roofline is measured at. */
export const SQUARE_CASE: MatMulCase = {
  shape: { a: [MATMUL_N, MATMUL_N], b: [MATMUL_N, MATMUL_N], constantB: false },
  orientation: { transA: false, transB: false },
};

/** The roofline for this machine from the limit cache, measured when missing (or again with `refresh`, keeping the best). */
export async function getRoofline(ep: ExecutionProvider, threads: number | null, refresh = false): Promise<Roofline> {
  const limits = await ensureRates([SQUARE_CASE], ep, threads, { refresh });
  const square = limits.matmul[caseKey(SQUARE_CASE)];
  if (!square) throw new RuntimeError(`ONNX Runtime could not run the ${MATMUL_N}×${MATMUL_N} float32 product the roofline is measured at`);
  return {
    fingerprint: limits.fingerprint,
    matmulGflops: square.rate,
    bandwidthGBps: limits.bandwidth.rate,
    matmulSize: MATMUL_N,
    measuredAt: square.measuredAt,
    ep,
    threads,
  };
}
