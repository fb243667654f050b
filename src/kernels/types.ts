/**
 * The kernel interface. A kernel builds its attention graph over q, k, v [B, H, L, d] with the
 * builder; everything a random-feature kernel needs (m, projection, seed, causal strategy)
 * travels in {@link KernelConfig} so each kernel is one file.
 */
import type { GraphBuilder } from '../onnx/builder.ts';
import type { DType, Value } from '../onnx/ir.ts';
import type { AttentionShape } from '../reference/attention.ts';
import type { PairGeometry } from '../reference/closed-forms.ts';
import type { EstimatorFit, ReferenceFeatureMap, Rows } from '../reference/features.ts';
import type { FeatureType } from './projection.ts';

export const CAUSAL_IMPLS = ['prefix', 'chunked'] as const;
export type CausalImpl = (typeof CAUSAL_IMPLS)[number];

export type { AttentionShape } from '../reference/attention.ts';
export type { EstimatorFit } from '../reference/features.ts';

/** Options every kernel receives (feature options are ignored by kernels without features). */
export interface KernelConfig {
  readonly causal: boolean;
  readonly causalImpl: CausalImpl;
  readonly chunkSize: number;
  readonly features: number;
  readonly featureType: FeatureType;
  readonly seed: number;
}

/** The kernel options of anything that carries them (parsed flags, a bench point, a training request), and nothing else. */
export function kernelConfig(o: KernelConfig): KernelConfig {
  return { causal: o.causal, causalImpl: o.causalImpl, chunkSize: o.chunkSize, features: o.features, featureType: o.featureType, seed: o.seed };
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
  /**
   * Key-padding mask [B, 1, L, 1]: 1 for tokens, 0 for padding (training batches). Padded keys
   * take no part in any output; sequence statistics (FAVOR++'s φ, FAVOR#'s Ψ) skip them.
   */
  readonly keyMask?: Value;
}

/**
 * What a kernel is for, so no code outside src/kernels/ asks for a kernel by name:
 * - `exact`: exact softmax attention, the baseline (O(L²));
 * - `fused`: exact softmax through a fused runtime operator, also a baseline;
 * - `opt`: returns V, the paper's "OPT" lower bound on any attention's time;
 * - `linear`: linear attention through a feature map φ (random or deterministic).
 */
export type KernelRole = 'exact' | 'fused' | 'opt' | 'linear';

/**
 * Facts of an unbiased random-feature estimator of the softmax kernel SM(x, y) = exp(xᵀy), for
 * the error sweep and `performer theory` (docs/formulas.md §2, §5 and §6).
 */
export interface EstimatorFacts {
  /**
   * One projection row's raw estimate of SM(x, y), from wx = ωᵀx, wy = ωᵀy, xx = ‖x‖², yy = ‖y‖²,
   * ww = ‖ω‖² and, for data-dependent estimators, the fit and d; without ε or stabiliser shifts.
   * The estimate is the mean over the m rows. Inputs are already transformed by the fit's Ψ.
   */
  pairTerm(wx: number, wy: number, xx: number, yy: number, ww: number, fit: EstimatorFit | undefined, d: number): number;
  /**
   * Closed-form MSE of the estimate for one pair with m i.i.d. rows (the paper's Lemma 2 and §5;
   * §6 for FAVOR++, which needs d and takes the per-pair optimal A when no fit is given).
   * NaN where it cannot be evaluated (FAVOR# without a fit: Ψ depends on coordinates).
   */
  mse(g: PairGeometry, m: number, d?: number, fit?: EstimatorFit): number;
  /** Fits the data-dependent parameters to one head's scaled rows x = q·d^(-1/4), y = k·d^(-1/4). */
  fit?(x: Rows, y: Rows, d: number): EstimatorFit;
  /** The paper's Theorem 2 bound with m ≤ d orthogonal rows, where the paper gives one. */
  orthogonalBound?(g: PairGeometry, m: number, d: number): number;
  /** The exact MSE with orthogonal rows (Haar blocks, χ_d norms), by quadrature (src/reference/orthogonal-mse.ts). */
  orthogonalMse?(g: PairGeometry, m: number, d: number): number;
  /** The features can be negative, so attention denominators can be ≤ 0 (counted by `error`). */
  readonly signed: boolean;
}

export interface KernelSpec {
  readonly name: string;
  readonly role: KernelRole;
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
  /** Present for unbiased estimators of the softmax kernel. */
  readonly estimator?: EstimatorFacts;
  /** The float64 feature map of a linear kernel (src/reference/features.ts), for tests and `error`. */
  readonly reference?: ReferenceFeatureMap;
  /** Builds the forward graph; returns `out` [B, H, L, d] (unnamed). */
  build(b: GraphBuilder, ctx: KernelContext): Value;
}
