/**
 * Whole-model scope (the paper's Fig. 3): a Transformer/Performer encoder whose attention is any
 * kernel. Token embedding (table rows by Gather; its gradient a ScatterND that adds rows back) plus learned positions,
 * then `layers` blocks of [multi-head attention (Q, K, V, O projections) + residual + LayerNorm +
 * ReLU feed-forward + residual + LayerNorm], and loss = mean(x · w_out). "Backward" differentiates
 * the loss with respect to every parameter: a training step without the optimiser.
 */
import { gradients } from '../autodiff/backward.ts';
import { usage } from '../errors.ts';
import { checkSupported, type Pass } from '../kernels/build.ts';
import { projectionMatrix } from '../kernels/projection.ts';
import { Rng } from '../random.ts';
import type { KernelConfig, KernelSpec } from '../kernels/types.ts';
import { GraphBuilder } from '../onnx/builder.ts';
import type { DType, Graph, Value } from '../onnx/ir.ts';

export interface ModelShape {
  readonly batch: number;
  readonly seqLen: number;
  readonly heads: number;
  /** Model width d_model (the head dimension is d_model / heads). */
  readonly dModel: number;
  readonly layers: number;
  readonly dFf: number;
  readonly vocab: number;
}

export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** LayerNorm's ε (PyTorch's default). */
export const LAYER_NORM_EPS = 1e-5;

/**
 * Parameters drawn from the seed: weights N(0, 1/fan_in), embeddings N(0, 1), positions
 * N(0, 0.1²), biases 0, LayerNorm γ = 1 and β = 0.
 */
export function encoderParams(s: ModelShape, seed: number): Param[] {
  const rng = new Rng(seed + 0x5eed);
  const normal = (shape: number[], sd: number) => Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.gaussian() * sd);
  const fill = (shape: number[], v: number) => new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(v);
  const D = s.dModel;
  const params: Param[] = [
    { name: 'embedding', shape: [s.vocab, D], data: normal([s.vocab, D], 1) },
    { name: 'positions', shape: [s.seqLen, D], data: normal([s.seqLen, D], 0.1) },
  ];
  for (let l = 0; l < s.layers; l++) {
    const p = (name: string, shape: number[], data: Float64Array) => params.push({ name: `layer${l}.${name}`, shape, data });
    for (const w of ['wq', 'wk', 'wv', 'wo']) p(w, [D, D], normal([D, D], D ** -0.5));
    p('ln1.gamma', [D], fill([D], 1));
    p('ln1.beta', [D], fill([D], 0));
    p('ff.w1', [D, s.dFf], normal([D, s.dFf], D ** -0.5));
    p('ff.b1', [s.dFf], fill([s.dFf], 0));
    p('ff.w2', [s.dFf, D], normal([s.dFf, D], s.dFf ** -0.5));
    p('ff.b2', [D], fill([D], 0));
    p('ln2.gamma', [D], fill([D], 1));
    p('ln2.beta', [D], fill([D], 0));
  }
  params.push({ name: 'w_out', shape: [D, 1], data: normal([D, 1], D ** -0.5) });
  return params;
}

/**
 * One LayerNormalization node, whose gradient reuses the node's μ and 1/σ (autodiff/rules.ts),
 * instead of nine nodes and their gradients (decomposed in float64 graphs: GraphBuilder.layerNorm).
 */
function layerNorm(b: GraphBuilder, x: Value, gamma: Value, beta: Value): Value {
  return b.layerNorm(x, gamma, beta, LAYER_NORM_EPS);
}

/** d_model must split evenly into heads; a usage error naming --dim otherwise. */
export function checkModelWidth(dModel: number, heads: number, flag = '--d-model'): void {
  if (dModel % heads) throw usage(flag, `model width ${dModel} is not divisible by ${heads} heads`, 'a multiple of --heads');
}

export interface EncoderRequest {
  readonly kernel: KernelSpec;
  readonly shape: ModelShape;
  readonly config: KernelConfig;
  readonly dtype: DType;
  readonly pass: Pass;
  /** Parameters as graph inputs (tests, finite differences) instead of initializers. */
  readonly paramsAsInputs?: boolean;
}

/** What the encoder's blocks need besides the builder. */
export interface EncoderBody {
  readonly kernel: KernelSpec;
  readonly shape: ModelShape;
  readonly config: KernelConfig;
  /** The parameter values by name (inputs or initializers). */
  readonly param: (name: string) => Value;
  /** int64 [B, L]. */
  readonly tokens: Value;
  /** Key-padding mask [B, L] (1 token, 0 padding), for training batches. */
  readonly mask?: Value;
}

/**
 * Embedding plus `layers` post-LayerNorm blocks: x [B, L, d_model]. Layer l draws its projection
 * from seed config.seed + l (a redraw changes config.seed).
 */
export function encoderBody(b: GraphBuilder, e: EncoderBody): Value {
  const { kernel, shape: s, config, param: P } = e;
  const dh = s.dModel / s.heads;
  const [B, L, H, D] = [s.batch, s.seqLen, s.heads, s.dModel];
  // Embedding rows by Gather (its gradient adds rows back by index: no [B, L, vocab] one-hot).
  let x = b.add(b.gather(P('embedding'), e.tokens), P('positions'));
  const heads = (t: Value) => b.transpose(b.reshape(t, [B, L, H, dh]), [0, 2, 1, 3]);
  const keyMask = e.mask ? b.reshape(e.mask, [B, 1, L, 1]) : undefined;
  for (let l = 0; l < s.layers; l++) {
    const w = (n: string) => P(`layer${l}.${n}`);
    let projection;
    if (kernel.projection) {
      const host = projectionMatrix(config.features, dh, config.featureType, config.seed + l);
      projection = { value: b.constant(host, [config.features, dh], { name: `layer${l}.projection` }), host };
    }
    const shape = { batch: B, heads: H, seqLen: L, dim: dh };
    const ctx = {
      q: heads(b.matMul(x, w('wq'))),
      k: heads(b.matMul(x, w('wk'))),
      v: heads(b.matMul(x, w('wv'))),
      shape,
      config,
      ...(projection ? { projection } : {}),
      ...(keyMask ? { keyMask } : {}),
    };
    const att = b.reshape(b.transpose(kernel.build(b, ctx), [0, 2, 1, 3]), [B, L, D]);
    x = layerNorm(b, b.add(x, b.matMul(att, w('wo'))), w('ln1.gamma'), w('ln1.beta'));
    const ff = b.add(b.matMul(b.relu(b.add(b.matMul(x, w('ff.w1')), w('ff.b1'))), w('ff.w2')), w('ff.b2'));
    x = layerNorm(b, b.add(x, ff), w('ln2.gamma'), w('ln2.beta'));
  }
  return x;
}

/** Inputs `tokens` [B, L] (int64); output `loss` (scalar); backward adds `grad_<param>` for every parameter. */
export function buildEncoderGraph(req: EncoderRequest): { graph: Graph; params: Param[] } {
  const { kernel, shape: s, config, dtype, pass } = req;
  checkSupported(kernel, config, pass, dtype);
  checkModelWidth(s.dModel, s.heads);
  const b = new GraphBuilder(`encoder-${kernel.name}-${pass}`, dtype);
  const tokens = b.input('tokens', [s.batch, s.seqLen], 'int64');
  const params = encoderParams(s, config.seed);
  const values = new Map(params.map((p) => [p.name, req.paramsAsInputs ? b.input(p.name, p.shape) : b.constant(p.data, p.shape, { name: p.name })]));
  const P = (name: string) => values.get(name)!;
  const x = encoderBody(b, { kernel, shape: s, config, param: P, tokens });
  const loss = b.named(b.reduceMean(b.matMul(x, P('w_out')), [0, 1, 2], false), 'loss');
  if (pass === 'forward') return { graph: b.build([loss]), params };
  const grads = gradients(
    b,
    loss,
    params.map((p) => P(p.name)),
    b.scalar(1),
  );
  return { graph: b.build([loss, ...grads.map((g, i) => b.named(g, `grad_${params[i]!.name}`))]), params };
}
