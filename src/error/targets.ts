/** What `performer error` measures (no ONNX Runtime import: parsing options stays fast). */
export const TARGETS = ['output', 'matrix', 'kernel', 'grad'] as const;
export type Target = (typeof TARGETS)[number];
