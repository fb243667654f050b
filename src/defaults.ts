/** One source of truth for the defaults the paper and the reference code fix (PAPER.md §3). */
import type { KernelConfig } from './kernels/types.ts';

/** m, the number of random features. */
export const DEFAULT_FEATURES = 256;
/** ε of the softmax-kernel features (make_fast_softmax_attention). */
export const SOFTMAX_FEATURE_EPS = 1e-6;
/** ε of the ReLU features (relu_kernel_transformation's numerical_stabilizer). */
export const RELU_FEATURE_EPS = 1e-3;
/** ε of the denominator guard R += 2ε·(|R| ≤ ε). */
export const DENOMINATOR_EPS = 1e-6;
/**
 * Tokens per block of the chunked causal strategy: 64 beat 32, 128 and 256 in interleaved runs
 * (README, "Causal strategies").
 */
export const DEFAULT_CHUNK_SIZE = 64;
export const DEFAULT_SEED = 0;

export const DEFAULT_KERNEL_CONFIG: KernelConfig = {
  causal: false,
  causalImpl: 'chunked',
  chunkSize: DEFAULT_CHUNK_SIZE,
  features: DEFAULT_FEATURES,
  featureType: 'orthogonal',
  seed: DEFAULT_SEED,
};
