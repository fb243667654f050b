import type { KernelSpec } from './types.ts';

/** The paper's "OPT": attention that returns V, the fastest any attention can be. */
export const identityKernel: KernelSpec = {
  name: 'identity',
  role: 'opt',
  description: 'returns V: the paper\'s "OPT" lower bound on any attention\'s time',
  formula: 'out = V',
  projection: false,
  supportsCausal: true,
  supportsBackward: true,
  build: (b, { v }) => b.identity(v),
};
