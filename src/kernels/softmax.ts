import type { KernelSpec } from './types.ts';

/** Exact softmax attention, O(L²) (docs/formulas.md §1). */
export const softmaxKernel: KernelSpec = {
  name: 'softmax',
  role: 'exact',
  description: 'exact softmax(QKᵀ/√d)V, O(L²) time and memory (causal: masked)',
  formula: 'out = softmax(Q Kᵀ / √d + M) V, M = 0 (bidirectional) or −∞ above the diagonal (causal); no ε',
  projection: false,
  supportsCausal: true,
  supportsBackward: true,
  build(b, { q, k, v, shape, config, keyMask }) {
    let scores = b.matMul(b.mul(q, b.scalar(shape.dim ** -0.5)), b.transposeLast(k));
    // Padded keys: −1e9 added to their scores (exp underflows to exactly 0 in float32 and 64).
    if (keyMask) scores = b.add(scores, b.mul(b.sub(b.transposeLast(keyMask), b.scalar(1)), b.scalar(1e9)));
    if (config.causal) {
      const L = shape.seqLen;
      // −∞ strictly above the diagonal, 0 elsewhere; a constant ONNX Runtime folds at load.
      scores = b.add(scores, b.trilu(b.fill([L, L], -Infinity), true, 1));
    }
    return b.matMul(b.softmax(scores, -1), v);
  },
};
