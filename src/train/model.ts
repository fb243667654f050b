/**
 * The classifier `performer train` trains: the encoder of src/model/encoder.ts (any kernel), a
 * pooling of its last layer (mean over real tokens, or the first token, CLS), a linear head and
 * the cross-entropy loss, all one ONNX graph. Parameters are graph inputs, so one session serves
 * every step; the optimiser (optimizer.ts) updates them on the host.
 */
import { gradients } from '../autodiff/backward.ts';
import { checkSupported } from '../kernels/build.ts';
import { Rng } from '../random.ts';
import { type KernelConfig, type KernelSpec, kernelConfig } from '../kernels/types.ts';
import { checkModelWidth, encoderBody, encoderParams, type ModelShape, type Param } from '../model/encoder.ts';
import { GraphBuilder } from '../onnx/builder.ts';
import { graphFingerprint } from '../onnx/fingerprint.ts';
import type { DType, Graph, Value } from '../onnx/ir.ts';
import type { TrainRequest } from './types.ts';

export const POOLINGS = ['mean', 'cls'] as const;
export type Pooling = (typeof POOLINGS)[number];

export interface ClassifierRequest {
  readonly kernel: KernelSpec;
  readonly shape: ModelShape;
  readonly config: KernelConfig;
  readonly classes: number;
  readonly pooling: Pooling;
  /** `train`: loss, logits and a gradient per parameter; `eval`: logits only. */
  readonly mode: 'train' | 'eval';
  /** float32 for training; float64 for gradient checks. */
  readonly dtype?: DType;
  /**
   * classify (default): one label per sequence; lm: every position predicts the next token; mlm:
   * masked positions predict their original token (bidirectional). lm and mlm: `classes` = vocabulary.
   */
  readonly objective?: Objective;
}

export const OBJECTIVES = ['classify', 'lm', 'mlm'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/**
 * The encoder's parameters (without the bench loss's w_out) and the head's, drawn from the seed:
 * the same seed gives every kernel the same initial weights. Head: N(0, 1/d_model) weights, zero bias.
 */
export function classifierParams(s: ModelShape, classes: number, seed: number): Param[] {
  const rng = new Rng(seed + 0xc1a55);
  const D = s.dModel;
  return [
    ...encoderParams(s, seed).filter((p) => p.name !== 'w_out'),
    { name: 'head.w', shape: [D, classes], data: Float64Array.from({ length: D * classes }, () => rng.gaussian() * D ** -0.5) },
    { name: 'head.b', shape: [classes], data: new Float64Array(classes) },
  ];
}

/**
 * Inputs: `tokens` int64 [B, L], `mask` [B, L] (1 token, 0 padding), `labels` [B, C] one-hot
 * (train only) and one input per parameter. Outputs: `logits` [B, C]; train adds `loss` (mean
 * cross-entropy) and `grad_<param>`.
 */
export function buildClassifierGraph(req: ClassifierRequest): { graph: Graph; params: Param[] } {
  const { kernel, shape: s, config } = req;
  const dtype = req.dtype ?? 'float32';
  checkSupported(kernel, config, req.mode === 'train' ? 'backward' : 'forward', dtype);
  checkModelWidth(s.dModel, s.heads);
  const b = new GraphBuilder(`classifier-${kernel.name}-${req.mode}`, dtype);
  const tokens = b.input('tokens', [s.batch, s.seqLen], 'int64');
  const mask = b.input('mask', [s.batch, s.seqLen]);
  const params = classifierParams(s, req.classes, config.seed);
  const values = new Map(params.map((p) => [p.name, b.input(p.name, p.shape)]));
  const P = (name: string) => values.get(name)!;
  const x = encoderBody(b, { kernel, shape: s, config, param: P, tokens, mask });
  // lm and mlm share the graph: logits at every position, cross-entropy where tmask is 1.
  const lm = req.objective === 'lm' || req.objective === 'mlm';
  const logits = b.named(b.add(b.matMul(lm ? x : pool(b, x, mask, req.pooling), P('head.w')), P('head.b')), 'logits');
  if (req.mode === 'eval') return { graph: b.build([logits]), params };
  let loss: Value;
  if (lm) {
    const targets = b.input('targets', [s.batch, s.seqLen], 'int64');
    const tmask = b.input('tmask', [s.batch, s.seqLen]);
    loss = b.named(maskedCrossEntropy(b, logits, b.oneHot(targets, req.classes), tmask), 'loss');
  } else {
    loss = b.named(crossEntropy(b, logits, b.input('labels', [s.batch, req.classes])), 'loss');
  }
  const grads = gradients(
    b,
    loss,
    params.map((p) => P(p.name)),
    b.scalar(1),
  );
  return { graph: b.build([loss, logits, ...grads.map((g, i) => b.named(g, `grad_${params[i]!.name}`))]), params };
}

/** A training run's attention options with projection seed `seed`. */
export const trainKernelConfig = (r: Pick<TrainRequest, 'causal' | 'causalImpl' | 'chunkSize' | 'features' | 'featureType'>, seed: number): KernelConfig =>
  kernelConfig({ ...r, seed });

/**
 * The fingerprint of a training graph (src/onnx/fingerprint.ts): the build at seed 0 against the
 * build at seed 7919, so the projection's draws do not enter. Fixed seeds, not a run's own, so two
 * builds never share a seed. Training records carry it and `reproduce --status` recomputes it,
 * through this one function.
 */
export function classifierFingerprint(req: Omit<ClassifierRequest, 'config' | 'mode'>, config: (seed: number) => KernelConfig): string {
  const build = (seed: number) => buildClassifierGraph({ ...req, config: config(seed), mode: 'train' }).graph;
  return graphFingerprint(build(0), build(7919));
}

/** [B, L, D] → [B, D]: the mean over real tokens, or the first (CLS) token's vector. */
function pool(b: GraphBuilder, x: Value, mask: Value, pooling: Pooling): Value {
  const [B, , D] = x.shape as [number, number, number];
  if (pooling === 'cls') return b.reshape(b.slice(x, [1], [0], [1]), [B, D]);
  const m = b.unsqueeze(mask, [-1]);
  return b.div(b.reduceSum(b.mul(x, m), [1], false), b.reduceSum(m, [1], false));
}

/**
 * mean_b(logsumexp(z_b) − z_b·y_b) with the row max as a stop-gradient shift: exact, and no exp
 * overflows (the gradient softmax(z) − y does not depend on the shift).
 */
export function crossEntropy(b: GraphBuilder, logits: Value, labels: Value): Value {
  return b.reduceMean(tokenLosses(b, logits, labels), [0, 1], false);
}

/** logsumexp(z) − z·y per row, [.., 1], with the row max as a stop-gradient shift. */
function tokenLosses(b: GraphBuilder, logits: Value, labels: Value): Value {
  const shift = b.stopGradient(b.reduceMax(logits, [-1]));
  const lse = b.add(b.log(b.reduceSum(b.exp(b.sub(logits, shift)), [-1])), shift);
  return b.sub(lse, b.reduceSum(b.mul(logits, labels), [-1]));
}

/** Σ_positions tmask·(logsumexp − picked) / Σ tmask: the mean over positions that have a next token. */
function maskedCrossEntropy(b: GraphBuilder, logits: Value, labels: Value, tmask: Value): Value {
  const per = b.mul(tokenLosses(b, logits, labels), b.unsqueeze(tmask, [-1]));
  return b.div(b.reduceSum(per, [0, 1, 2], false), b.reduceSum(tmask, [0, 1], false));
}
