/**
 * Assembles a kernel's exported model: inputs `q`, `k`, `v` [B, H, L, d], the `projection`
 * initializer [m, d] for kernels that draw one, output `out`; for the backward pass also input
 * `grad_out` and outputs `grad_q`, `grad_k`, `grad_v`. These names are a public interface.
 */
import { gradients } from '../autodiff/backward.ts';
import { usage } from '../errors.ts';
import { GraphBuilder } from '../onnx/builder.ts';
import type { DType, Graph } from '../onnx/ir.ts';
import { projectionMatrix } from './projection.ts';
import type { AttentionShape, KernelConfig, KernelSpec } from './types.ts';

export const PASSES = ['forward', 'backward'] as const;
export type Pass = (typeof PASSES)[number];

export interface AttentionGraphRequest {
  readonly kernel: KernelSpec;
  readonly shape: AttentionShape;
  readonly config: KernelConfig;
  readonly dtype: DType;
  readonly pass: Pass;
  /** Width of v (default d): V = I_L with valueDim = L makes `out` the attention matrix. */
  readonly valueDim?: number;
  /** Adds input `key_mask` [B, 1, L, 1] (1 token, 0 padding): padded keys get no weight (given inputs, `error --inputs`). */
  readonly keyMask?: boolean;
}

export interface AttentionGraph {
  readonly graph: Graph;
  /** W [m, d] in float64, when the kernel draws one. */
  readonly projection?: Float64Array;
}

/** Rejects kernel/option combinations the kernel cannot build, naming the flag. */
export function checkSupported(kernel: KernelSpec, config: KernelConfig, pass: Pass, dtype: DType = 'float32'): void {
  if (kernel.dtypes && !kernel.dtypes.includes(dtype)) {
    throw usage('--dtype', `kernel ${kernel.name} does not support ${dtype}`, kernel.dtypes.join(', '));
  }
  if (config.causal && !kernel.supportsCausal) throw usage('--causal', `kernel ${kernel.name} has no causal mode`);
  if (pass === 'backward' && !kernel.supportsBackward) {
    throw usage('--pass', `kernel ${kernel.name} has no backward graph`, 'forward');
  }
}

/** Builds the forward (or forward+backward) graph of one kernel at one size. */
export function buildAttentionGraph(req: AttentionGraphRequest): AttentionGraph {
  const { kernel, shape, config, dtype, pass } = req;
  checkSupported(kernel, config, pass, dtype);
  const b = new GraphBuilder(`${kernel.name}${config.causal ? '-causal' : ''}-${pass}`, dtype);
  const dims = [shape.batch, shape.heads, shape.seqLen, shape.dim];
  const q = b.input('q', dims);
  const k = b.input('k', dims);
  const vDims = [shape.batch, shape.heads, shape.seqLen, req.valueDim ?? shape.dim];
  const v = b.input('v', vDims);
  let projection: AttentionGraph['projection'];
  let projValue;
  if (kernel.projection) {
    projection = projectionMatrix(config.features, shape.dim, config.featureType, config.seed);
    projValue = b.constant(projection, [config.features, shape.dim], { name: 'projection' });
  }
  const keyMask = req.keyMask ? b.input('key_mask', [shape.batch, 1, shape.seqLen, 1]) : undefined;
  const ctx = {
    q,
    k,
    v,
    shape,
    config,
    ...(projValue && projection ? { projection: { value: projValue, host: projection } } : {}),
    ...(keyMask ? { keyMask } : {}),
  };
  const raw = kernel.build(b, ctx);
  const out = b.named(raw, 'out');
  if (pass === 'forward') return { graph: b.build([out]), ...(projection ? { projection } : {}) };
  const gradOut = b.input('grad_out', vDims);
  const [gq, gk, gv] = gradients(b, out, [q, k, v], gradOut);
  const outs = [out, b.named(gq!, 'grad_q'), b.named(gk!, 'grad_k'), b.named(gv!, 'grad_v')];
  return { graph: b.build(outs), ...(projection ? { projection } : {}) };
}
