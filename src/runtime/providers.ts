/** The execution providers `--ep` names (no ONNX Runtime import: parsing options stays fast). */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'webgpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
