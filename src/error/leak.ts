/**
 * Causal leak probe: perturb every token after position i (queries, keys ×5 − 2 so any
 * sequence-wide key max moves, values negated) and report the largest change of the outputs at
 * positions ≤ i. A causal kernel gives 0 (or float rounding); the number is reported as measured.
 */
import { DEFAULT_KERNEL_CONFIG } from '../defaults.ts';
import { buildAttentionGraph } from '../kernels/build.ts';
import { getKernel } from '../kernels/index.ts';
import { Rng } from '../random.ts';
import type { CausalImpl } from '../kernels/types.ts';
import { type ExecutionProvider, Session } from '../runtime/session.ts';

export interface LeakRecord {
  readonly kernel: string;
  readonly causalImpl: CausalImpl | null;
  readonly seqLen: number;
  readonly position: number;
  /** max |Δ out| at positions ≤ position. */
  readonly maxChange: number;
  /** max |out| at those positions, for scale. */
  readonly maxOutput: number;
}

export interface LeakOptions {
  readonly kernels: readonly string[];
  readonly seqLen: number;
  readonly dim: number;
  readonly features: number;
  readonly chunkSize: number;
  readonly seed: number;
  readonly ep: ExecutionProvider;
}

export async function runLeakProbe(o: LeakOptions): Promise<LeakRecord[]> {
  const out: LeakRecord[] = [];
  const L = o.seqLen;
  const d = o.dim;
  const i = Math.floor((L - 1) / 2);
  const rng = new Rng(o.seed);
  const base = { q: new Float32Array(L * d), k: new Float32Array(L * d), v: new Float32Array(L * d) };
  for (const t of Object.values(base)) for (let j = 0; j < t.length; j++) t[j] = rng.gaussian();
  const moved = { q: base.q.slice(), k: base.k.slice(), v: base.v.slice() };
  for (let j = (i + 1) * d; j < L * d; j++) {
    moved.q[j] = moved.q[j]! * 3 + 1;
    moved.k[j] = moved.k[j]! * 5 - 2;
    moved.v[j] = -moved.v[j]!;
  }
  for (const name of o.kernels) {
    const kernel = getKernel(name, '--kernels');
    if (!kernel.supportsCausal) continue;
    for (const causalImpl of kernel.role === 'linear' ? (['prefix', 'chunked'] as const) : [null]) {
      const config = {
        ...DEFAULT_KERNEL_CONFIG,
        causal: true,
        causalImpl: causalImpl ?? 'chunked',
        chunkSize: o.chunkSize,
        features: o.features,
        seed: o.seed,
      };
      const { graph } = buildAttentionGraph({ kernel, shape: { batch: 1, heads: 1, seqLen: L, dim: d }, config, dtype: 'float32', pass: 'forward' });
      const session = await Session.fromGraph(graph, { ep: o.ep });
      const run = async (x: typeof base) =>
        (await session.run(Object.fromEntries(Object.entries(x).map(([k, data]) => [k, { dtype: 'float32' as const, dims: [1, 1, L, d], data }])))).out!
          .data as Float32Array;
      const a = await run(base);
      const b = await run(moved);
      await session.release();
      let maxChange = 0;
      let maxOutput = 0;
      for (let j = 0; j < (i + 1) * d; j++) {
        maxChange = Math.max(maxChange, Math.abs(a[j]! - b[j]!));
        maxOutput = Math.max(maxOutput, Math.abs(a[j]!));
      }
      out.push({ kernel: name, causalImpl, seqLen: L, position: i, maxChange, maxOutput });
    }
  }
  return out;
}
