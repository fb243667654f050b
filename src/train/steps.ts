/**
 * Seconds per training step against L (`performer train --step-time`): per length, every
 * kernel's training graph on synthetic tokens (batches of full length, no padding), two untimed
 * steps, then `rounds` timed steps in interleaved rounds (one step of each kernel per round, so
 * drift hits all alike); the ratio to the softmax baseline is paired by round.
 */
import { pairedLogRatio } from '../stats/significance.ts';
import { median } from '../stats/descriptive.ts';
import { isSoftmaxBaseline } from '../kernels/index.ts';
import { Rng } from '../random.ts';
import { makeBatch } from './batches.ts';
import { BYTE_VOCAB } from './data/types.ts';
import { KernelRun } from './session.ts';
import type { TrainRequest } from './types.ts';

export interface StepTimeRecord {
  readonly kernel: string;
  readonly seqLen: number;
  readonly status: 'ok' | 'oom' | 'failed';
  readonly samplesS: readonly number[];
  readonly medianS: number | null;
  /** Geometric mean over rounds of this kernel's step time ÷ the softmax baseline's, with its 95% interval. */
  readonly vsSoftmax: { ratio: number; lo: number; hi: number } | null;
  readonly estimatedMemoryBytes: number | null;
  /** Fingerprint of the training graph timed (src/onnx/fingerprint.ts); absent in older files. */
  readonly graphHash?: string | null;
  readonly error: string | null;
}

export async function runStepTimes(
  req: TrainRequest,
  seqLens: readonly number[],
  rounds: number,
  memoryBudget: number,
  hooks: { progress?(t: string): void; signal?: AbortSignal } = {},
): Promise<StepTimeRecord[]> {
  const out: StepTimeRecord[] = [];
  for (const L of seqLens) {
    const shape = { batch: req.batch, seqLen: L, heads: req.heads, dModel: req.dim, layers: req.layers, dFf: req.dFf, vocab: BYTE_VOCAB };
    const rng = new Rng(L);
    const batch = makeBatch(
      Array.from({ length: req.batch }, (_, b) => ({ tokens: Int32Array.from({ length: L }, () => 2 + Math.floor(rng.uniform() * 256)), label: b % 2 })),
      L,
      2,
    );
    const runs: { kernel: string; run: KernelRun | null; samples: number[]; error: string | null; status: StepTimeRecord['status'] }[] = [];
    for (const kernel of req.kernels) {
      hooks.progress?.(`L=${L} ${kernel}: building`);
      try {
        const estimate = KernelRun.estimate(kernel, { ...req, seqLen: L }, shape, 2);
        if (estimate > memoryBudget) {
          runs.push({
            kernel,
            run: null,
            samples: [],
            error: `the training graph's estimated ${(estimate / 2 ** 30).toFixed(1)} GiB exceed the memory budget`,
            status: 'oom',
          });
          continue;
        }
        runs.push({ kernel, run: await KernelRun.open(kernel, 0, { ...req, seqLen: L }, shape, 2, 0), samples: [], error: null, status: 'ok' });
      } catch (e) {
        runs.push({ kernel, run: null, samples: [], error: (e as Error).message, status: 'failed' });
      }
    }
    for (let r = -2; r < rounds && !hooks.signal?.aborted; r++)
      for (const x of runs.filter((x) => x.run)) {
        hooks.progress?.(`L=${L} ${x.kernel}: step ${r + 3}/${rounds + 2}`);
        const t0 = performance.now();
        await x.run!.step(batch, Math.max(1, r + 3));
        if (r >= 0) x.samples.push((performance.now() - t0) / 1000);
      }
    const base = runs.find((x) => isSoftmaxBaseline(x.kernel) && x.samples.length === rounds);
    for (const x of runs) {
      const t = base && x !== base && x.samples.length === rounds ? pairedLogRatio(base.samples, x.samples, 0.05) : null;
      out.push({
        kernel: x.kernel,
        seqLen: L,
        status: x.status,
        samplesS: x.samples,
        medianS: x.samples.length ? median(x.samples) : null,
        vsSoftmax: x === base ? { ratio: 1, lo: 1, hi: 1 } : t ? { ratio: t.ratio, lo: t.lo, hi: t.hi } : null,
        estimatedMemoryBytes: x.run?.estimatedMemoryBytes ?? null,
        graphHash: x.run?.graphHash ?? null,
        error: x.error,
      });
      await x.run?.release();
    }
  }
  return out;
}
