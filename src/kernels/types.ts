/**
 * The kernel interface. A kernel builds its attention graph over q, k, v [B, H, L, d] with the
 * builder; everything a random-feature kernel needs (m, projection, seed, causal strategy)
 * travels in {@link KernelConfig} so each kernel is one file.
 */
import type { GraphBuilder } from '../onnx/builder.ts';
import type { DType, Value } from '../onnx/ir.ts';
import type { FeatureType } from './projection.ts';

export const CAUSAL_IMPLS = ['prefix', 'chunked'] as const;
export type CausalImpl = (typeof CAUSAL_IMPLS)[number];

/** Sizes of one attention problem. */
export interface AttentionShape {
  readonly batch: number;
  readonly heads: number;
  readonly seqLen: number;
  readonly dim: number;
}

/** Options every kernel receives (feature options are ignored by kernels without features). */
export interface KernelConfig {
  readonly causal: boolean;
  readonly causalImpl: CausalImpl;
  readonly chunkSize: number;
  readonly features: number;
  readonly featureType: FeatureType;
  readonly seed: number;
}

/** What a kernel's build function gets besides the builder. */
export interface KernelContext {
  readonly q: Value;
  readonly k: Value;
  readonly v: Value;
  readonly shape: AttentionShape;
  readonly config: KernelConfig;
  /** The `projection` initializer [m, d] and its float64 host copy, for kernels with `projection: true`. */
  readonly projection?: { readonly value: Value; readonly host: Float64Array };
}

export interface KernelSpec {
  readonly name: string;
  /** One line for `performer kernels`. */
  readonly description: string;
  /** The exact formula, ε and input scaling (documentation, shown by `performer kernels --verbose`). */
  readonly formula: string;
  /** Draws a random projection W [m, d]. */
  readonly projection: boolean;
  /** Feature width r of φ(x) (linear kernels), for FLOP and memory estimates. */
  readonly featureWidth?: (config: KernelConfig, dim: number) => number;
  readonly supportsCausal: boolean;
  readonly supportsBackward: boolean;
  /** Element types the kernel builds for; undefined: float32, float64 and float16. */
  readonly dtypes?: readonly DType[];
  /** True for kernels whose causal mode uses `causalImpl` (the linear kernels). */
  readonly linear: boolean;
  /** Builds the forward graph; returns `out` [B, H, L, d] (unnamed). */
  build(b: GraphBuilder, ctx: KernelContext): Value;
}
