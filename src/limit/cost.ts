/**
 * Analytic cost of a graph, read off the IR (one formula per op, defined here only):
 * - FLOPs: MatMul [.., M, K] × [.., K, N] costs 2·M·K·N per batch element; every other float op
 *   costs one FLOP per output element (Exp, Sin … counted as one), except Softmax, 5 per element
 *   (max, subtract, exp, sum, divide: the same count as the fused kernel's); shape-only ops (Reshape,
 *   Transpose, Slice, Concat, Identity, Expand, Unsqueeze, Squeeze) cost none; MultiHeadAttention
 *   costs 4·B·H·L²·d + 5·B·H·L² (two products and the softmax).
 * - Memory: the peak of live values when the nodes run in order and each value is freed after its
 *   last use (initializers and graph inputs stay live). An estimate of the largest live tensors,
 *   before ONNX Runtime's fusions and memory planning. MultiHeadAttention adds no L×L workspace:
 *   ONNX Runtime's CPU kernel is tiled (measured: 67 MiB peak at L = 16384, H = 1, where L×L
 *   scores would take 1 GiB).
 */
import { type Graph, type Node, type Op, dtypeBytes, numel } from '../onnx/ir.ts';

/** A softmax costs 5 FLOPs per element (max, subtract, exp, sum, divide), fused or not. */
export const SOFTMAX_FLOPS = 5;

const SHAPE_ONLY = new Set<Op>(['Reshape', 'Transpose', 'Slice', 'Concat', 'Identity', 'Expand', 'Unsqueeze', 'Squeeze']);

/** FLOPs of one node. */
export function nodeFlops(n: Node): number {
  const out = n.outputs[0];
  if (!out || SHAPE_ONLY.has(n.op) || out.dtype === 'bool') return 0;
  if (n.op === 'MatMul') {
    const k = n.inputs[0]!.shape.at(-1)!;
    return 2 * k * numel(out.shape);
  }
  if (n.op === 'Softmax') return SOFTMAX_FLOPS * numel(out.shape);
  if (n.op === 'MultiHeadAttention') {
    const [B, L, hidden] = out.shape as [number, number, number];
    const heads = n.attrs.num_heads?.type === 'int' ? n.attrs.num_heads.value : 1;
    return 4 * B * L * L * hidden + SOFTMAX_FLOPS * B * heads * L * L;
  }
  return numel(out.shape);
}

export function graphFlops(g: Graph): number {
  return g.nodes.reduce((a, n) => a + nodeFlops(n), 0);
}

/** Peak bytes of live values (see the module comment). */
export function estimateMemory(g: Graph): number {
  const bytes = (v: { dtype: Parameters<typeof dtypeBytes>[0]; shape: readonly number[] }) => numel(v.shape) * dtypeBytes(v.dtype);
  const lastUse = new Map<string, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach((v) => lastUse.set(v.name, i)));
  for (const o of g.outputs) lastUse.set(o.name, Infinity);
  let live = [...g.inputs, ...g.initializers.map((i) => i.value)].reduce((a, v) => a + bytes(v), 0);
  const pinned = new Set([...g.inputs.map((v) => v.name), ...g.initializers.map((i) => i.value.name)]);
  let peak = live;
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) live += bytes(o);
    peak = Math.max(peak, live);
    const inputs = new Map(n.inputs.map((v) => [v.name, v]));
    for (const v of inputs.values()) if (lastUse.get(v.name) === i && !pinned.has(v.name)) live -= bytes(v);
    for (const o of n.outputs) if (!lastUse.has(o.name)) live -= bytes(o);
  });
  return peak;
}
