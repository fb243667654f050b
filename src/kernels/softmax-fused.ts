import { GraphError } from '../errors.ts';
import { int } from '../onnx/ir.ts';
import type { KernelSpec } from './types.ts';

/**
 * ONNX Runtime's fused com.microsoft MultiHeadAttention: the strongest softmax baseline a user can
 * pick. It takes [B, L, H·d] tensors, so q, k, v are transposed in and the output back out
 * (O(L d) copies, negligible beside O(L² d)).
 */
export const softmaxFusedKernel: KernelSpec = {
  name: 'softmax-fused',
  role: 'fused',
  description: "exact softmax via ONNX Runtime's fused MultiHeadAttention (forward only)",
  formula: 'out = softmax(Q Kᵀ / √d + M) V computed by com.microsoft.MultiHeadAttention (unidirectional=1 when causal)',
  projection: false,
  supportsCausal: true,
  supportsBackward: false,
  // ONNX Runtime's CPU MultiHeadAttention takes float32 only (float16 on CUDA).
  dtypes: ['float32', 'float16'],
  build(b, { q, k, v, shape, config, keyMask }) {
    if (keyMask) throw new GraphError('softmax-fused takes no key-padding mask here (it has no backward graph to train with)');
    const { batch: B, heads: H, seqLen: L, dim: d } = shape;
    const flat = (x: typeof q) => b.reshape(b.transpose(x, [0, 2, 1, 3]), [B, L, H * d]);
    const attrs = { num_heads: int(H), ...(config.causal ? { unidirectional: int(1) } : {}) };
    const [o] = b.node('MultiHeadAttention', [flat(q), flat(k), flat(v)], [{ shape: [B, L, H * d], dtype: q.dtype }], attrs, 'com.microsoft');
    return b.transpose(b.reshape(o!, [B, L, H, d]), [0, 2, 1, 3]);
  },
};
