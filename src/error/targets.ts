/** What `performer error` measures (no ONNX Runtime import: parsing options stays fast). */
export const TARGETS = ['output', 'matrix', 'kernel', 'grad'] as const;
export type Target = (typeof TARGETS)[number];

/**
 * Which evaluation of an estimator `performer error` measures: `graph`, the ONNX graph bench times
 * (float32, ε = 1e-6 after the stabiliser shifts); `exact`, the same estimator on the host in
 * float64 without ε (src/error/exact.ts).
 */
export const ESTIMATOR_PATHS = ['graph', 'exact'] as const;
export type EstimatorPath = (typeof ESTIMATOR_PATHS)[number];

/** The targets `--estimator exact` evaluates: `kernel` is float64 without ε already, `grad` has no exact path. */
export const EXACT_TARGETS: readonly Target[] = ['output', 'matrix'];

/**
 * FAVOR#'s full estimators, evaluated on the host in float64 without ε (src/error/derf.ts): no
 * graph, so only `error --inputs` (targets output and kernel, bidirectional) takes them in --kernels.
 */
export const HOST_ESTIMATORS = ['sderf', 'aderf'] as const;
export type HostEstimator = (typeof HOST_ESTIMATORS)[number];
export const isHostEstimator = (k: string): k is HostEstimator => (HOST_ESTIMATORS as readonly string[]).includes(k);
