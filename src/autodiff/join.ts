/**
 * The product-joining pass of the reverse walk: when a value's gradient parts are summed, parts
 * that are products sharing structure become one product or one Concat (fewer passes over
 * L×m tensors). Each join returns the parts to sum, joined or as they were.
 */
import type { GraphBuilder } from '../onnx/builder.ts';
import type { Value } from '../onnx/ir.ts';

/**
 * Σ_k A_k·B_k as one product [A_1 … A_n]·[B_1; …; B_n], for the parts that are MatMuls (no
 * broadcasting) no other gradient shares, when copying the operands into the two Concats writes
 * fewer elements than the n − 1 products and Adds it saves (M·K + K·N ≤ (n − 1)·M·N, K the joined
 * inner dimension). A query block's gradient g_num·Sᵀ + g_den·zᵀ (M = L, K = 64 + 1, N = m) is
 * then one product, not an L×m outer product and an L×m Add; the chunked causal strategy's
 * per-block sums (M = C, K = C + d + 1) are left as they are. The parts' own products are left
 * unused and dropped when the graph is built.
 */
export function joinedProducts(b: GraphBuilder, parts: readonly Value[], shared: (g: Value) => boolean): Value[] {
  const operands = new Map<Value, [Value, Value]>();
  for (const g of parts) {
    const p = b.producer(g);
    if (p?.op !== 'MatMul' || shared(g)) continue;
    const [x, y] = p.inputs as [Value, Value];
    const rank = g.shape.length;
    if (rank < 2 || x.shape.length !== rank || y.shape.length !== rank) continue;
    if (g.shape.slice(0, -1).some((d, i) => d !== x.shape[i]) || g.shape.some((d, i) => i !== rank - 2 && d !== y.shape[i])) continue;
    operands.set(g, [x, y]);
  }
  const inner = [...operands.values()].reduce((n, [x]) => n + x.shape.at(-1)!, 0);
  const [M, N] = parts[0]!.shape.slice(-2) as [number, number];
  if (operands.size < 2 || M * inner + inner * N > (operands.size - 1) * M * N) return [...parts];
  // The order of the terms is free: take one whose left Concat already exists (the same
  // [g_num g_den] the state's gradient was made from), so it is not copied twice.
  const xs = orderings([...operands.values()]).find((o) =>
    b.hasConcat(
      o.map(([x]) => x),
      -1,
    ),
  ) ?? [...operands.values()];
  const joined = b.matMul(
    b.concat(
      xs.map(([x]) => x),
      -1,
    ),
    b.concat(
      xs.map(([, y]) => y),
      -2,
    ),
  );
  return [joined, ...parts.filter((g) => !operands.has(g))];
}

/**
 * Slice gradients [0 … g_k … 0] of disjoint pieces of one tensor, summed as one Concat of the
 * pieces (zeros in the gaps) instead of Adds of zero-padded copies. When the pieces tile the
 * last axis and are products A·X_k with one left operand A, the Concat is the product
 * A·[X_1 … X_n]: the gradient of a [.., r, d+1] state whose first d columns and last column
 * met the query features in two products (see kernels/linear.ts) is again one product.
 */
export function joinedPieces(b: GraphBuilder, parts: readonly Value[], shared: (g: Value) => boolean): Value[] {
  const full = parts[0]!.shape;
  const pieces = new Map<Value, { axis: number; start: number; value: Value }>();
  for (const part of parts) {
    const p = b.producer(part);
    if (p?.op !== 'Concat' || p.attrs.axis?.type !== 'int' || shared(part)) continue;
    const axis = p.attrs.axis.value;
    const nonzero = p.inputs.filter((x) => !b.isFill(x, 0));
    if (nonzero.length !== 1) continue;
    const start = p.inputs.slice(0, p.inputs.indexOf(nonzero[0]!)).reduce((n, x) => n + x.shape[axis]!, 0);
    pieces.set(part, { axis, start, value: nonzero[0]! });
  }
  const a = pieces.values().next().value?.axis;
  const sorted = [...pieces.values()].sort((x, y) => x.start - y.start);
  if (sorted.length < 2 || sorted.some((p) => p.axis !== a)) return [...parts];
  const blocks: Value[] = [];
  let at = 0;
  for (const { start, value } of sorted) {
    if (start < at) return [...parts];
    if (start > at)
      blocks.push(
        b.fill(
          full.map((d, k) => (k === a ? start - at : d)),
          0,
        ),
      );
    blocks.push(value);
    at = start + value.shape[a!]!;
  }
  if (at < full[a!]!)
    blocks.push(
      b.fill(
        full.map((d, k) => (k === a ? full[a!]! - at : d)),
        0,
      ),
    );
  const rest = parts.filter((g) => !pieces.has(g));
  const products = blocks.map((v) => b.producer(v));
  const left = products[0]?.inputs[0];
  if (a === full.length - 1 && products.every((p) => p?.op === 'MatMul' && p.inputs[0] === left && p.inputs[1]!.shape.length === full.length)) {
    return [
      b.matMul(
        left!,
        b.concat(
          products.map((p) => p!.inputs[1]!),
          a,
        ),
      ),
      ...rest,
    ];
  }
  return [b.concat(blocks, a!), ...rest];
}

/** Every ordering of a few items (the items themselves first); more than 4 keep their order. */
function orderings<T>(items: readonly T[]): T[][] {
  if (items.length > 4 || items.length < 2) return [[...items]];
  return items.flatMap((x, i) => orderings(items.filter((_, j) => j !== i)).map((rest) => [x, ...rest]));
}
