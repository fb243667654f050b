/** Test helpers: seeded inputs, running a kernel's graph through ONNX Runtime, error metrics. */
import { DEFAULT_KERNEL_CONFIG } from '../../src/defaults.ts';
import { buildAttentionGraph, type Pass } from '../../src/kernels/build.ts';
import { getKernel } from '../../src/kernels/index.ts';
import { Rng } from '../../src/random.ts';
import type { AttentionShape, KernelConfig, KernelSpec } from '../../src/kernels/types.ts';
import type { DType } from '../../src/onnx/ir.ts';
import { fromHalfBits, toHalfBits } from '../../src/onnx/serialize.ts';
import { runGraph } from '../../src/runtime/session.ts';

export const numelOf = (s: AttentionShape) => s.batch * s.heads * s.seqLen * s.dim;

/** i.i.d. N(0, scale²) values from a fixed seed (never zeros). */
export function randn(seed: number, n: number, scale = 1): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.gaussian() * scale);
}

export interface Inputs {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  gradOut?: Float64Array;
}

export function randomInputs(seed: number, shape: AttentionShape, scale = 1): Required<Inputs> {
  const n = numelOf(shape);
  return { q: randn(seed, n, scale), k: randn(seed + 1, n, scale), v: randn(seed + 2, n), gradOut: randn(seed + 3, n) };
}

/** Runs `kernel` through ONNX Runtime; returns every output as float64 plus the projection used. */
export async function runKernel(
  kernel: string | KernelSpec,
  shape: AttentionShape,
  inputs: Inputs,
  opts: { config?: Partial<KernelConfig>; dtype?: DType; pass?: Pass } = {},
): Promise<{ outputs: Record<string, Float64Array>; projection?: Float64Array }> {
  const dtype = opts.dtype ?? 'float32';
  const pass = opts.pass ?? 'forward';
  const config = { ...DEFAULT_KERNEL_CONFIG, ...opts.config };
  const { graph, projection } = buildAttentionGraph({ kernel: typeof kernel === 'string' ? getKernel(kernel) : kernel, shape, config, dtype, pass });
  const dims = [shape.batch, shape.heads, shape.seqLen, shape.dim];
  const cast = (x: Float64Array) => ({
    dtype,
    dims,
    data: dtype === 'float64' ? x : dtype === 'float16' ? Uint16Array.from(x, toHalfBits) : Float32Array.from(x),
  });
  const feeds: Record<string, ReturnType<typeof cast>> = { q: cast(inputs.q), k: cast(inputs.k), v: cast(inputs.v) };
  if (pass === 'backward') feeds.grad_out = cast(inputs.gradOut!);
  const raw = await runGraph(graph, feeds, { ep: 'cpu', threads: 1 });
  const outputs: Record<string, Float64Array> = {};
  for (const [name, t] of Object.entries(raw))
    outputs[name] = t.dtype === 'float16' ? Float64Array.from(t.data as Uint16Array, fromHalfBits) : Float64Array.from(t.data as Float32Array);
  return { outputs, ...(projection ? { projection } : {}) };
}

/** Norm-wise relative error max|a − b| / max|b| (the absolute error when b is all zeros). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}

export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}
