/**
 * One source of truth for the defaults: those the paper and the reference code fix
 * (docs/formulas.md §3) and the problem sizes every command starts from.
 */

/** m, the number of random features. */
export const DEFAULT_FEATURES = 256;
/** ε of the softmax-kernel features (make_fast_softmax_attention). */
export const SOFTMAX_FEATURE_EPS = 1e-6;
/**
 * ε of FAVOR#'s per-coordinate rescaling Ψ_l = ((mean y_l² + ε)/(mean x_l² + ε))^(1/4): keeps Ψ
 * finite where a coordinate is zero throughout (x, y scaled by d^(-1/4)).
 */
export const SADERF_PSI_EPS = 1e-6;
/** ε of the ReLU features (relu_kernel_transformation's numerical_stabilizer). */
export const RELU_FEATURE_EPS = 1e-3;
/** ε of the denominator guard R += 2ε·(|R| ≤ ε). */
export const DENOMINATOR_EPS = 1e-6;
/**
 * Tokens per block of the chunked causal strategy: 64 beat 128 and 256 and tied or beat 32 in
 * rounds of separate `performer bench` processes (docs/performance.md; docs/formulas.md, causal strategies).
 */
export const DEFAULT_CHUNK_SIZE = 64;
export const DEFAULT_SEED = 0;

/** The kernel options every command starts from (a KernelConfig). */
export const DEFAULT_KERNEL_CONFIG = {
  causal: false,
  causalImpl: 'chunked',
  chunkSize: DEFAULT_CHUNK_SIZE,
  features: DEFAULT_FEATURES,
  featureType: 'orthogonal',
  seed: DEFAULT_SEED,
} as const;

/** Problem sizes every command defaults to (bench, export, error's --dim aside, see below). */
export const DEFAULT_BATCH = 1;
/**
 * One head: attention cost is linear in B·H, and with 8 heads the exact-softmax points at
 * L = 8192 alone take minutes (the bare `performer bench` must finish in about a minute).
 * `export` uses the same default so an exported graph is the one bench times.
 */
export const DEFAULT_HEADS = 1;
export const DEFAULT_DIM = 64;
/**
 * `performer error` defaults to the paper's Fig. 4 problem (d = 16, L = 4096), not bench's:
 * its numbers are compared with the paper's figure.
 */
export const DEFAULT_ERROR_DIM = 16;
export const DEFAULT_ERROR_SEQ_LEN = 4096;
