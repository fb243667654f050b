/**
 * The builder's graph rewrites, all in this file and listed in `RULES`. Each replaces a pattern
 * ONNX Runtime runs slowly (or a copy it need not make) by an equivalent: same values, same
 * shapes. Node rules run when the builder adds an op and are tried in their list's order: a rule
 * returns the value that stands for the op (a binary rule may instead return new operands for
 * the next rule), or undefined to pass. Build passes run in `GraphBuilder.build()`, in order, on
 * the nodes the outputs need. The builder's own caches (one Transpose per (value, perm), one
 * Concat per (inputs, axis), one derived constant per key) are not rules: they only reuse a node.
 */
import type { GraphBuilder } from './builder.ts';
import { type DType, type Graph, type Node, type Op, type Value, numel } from './ir.ts';
import { broadcastShapes, sliceIndex } from './shapes.ts';

/** A rule for an elementwise binary op: the value to use, new operands, or undefined. */
type BinaryRule = (g: GraphBuilder, op: Op, a: Value, b: Value, outDtype: DType | undefined) => Value | readonly [Value, Value] | undefined;
/** A rule for a checked MatMul of [..batch, m, k]·[..batch, k, n]. */
type MatMulRule = (g: GraphBuilder, a: Value, b: Value, dims: { batch: readonly number[]; m: number; k: number; n: number }) => Value | undefined;
/** A rule for a checked Transpose. */
type TransposeRule = (g: GraphBuilder, x: Value, perm: readonly number[]) => Value | undefined;
/** A rule for a checked ReduceSum or ReduceMean over the normalised `norm` axes (`shape` is the result's). */
type ReduceRule = (
  g: GraphBuilder,
  op: 'ReduceSum' | 'ReduceMean',
  x: Value,
  norm: readonly number[],
  shape: readonly number[],
  keepdims: boolean,
) => Value | undefined;
/** A pass of `build()` over the nodes the outputs need. */
type BuildPass = (g: GraphBuilder, outputs: readonly Value[], plan: BuildPlan) => void;

// ---------------------------------------------------------------------------------------------
// Elementwise binary ops (Add, Sub, Mul, Div, Max, Equal, LessOrEqual, Greater)
// ---------------------------------------------------------------------------------------------

/**
 * An Expand meeting a one-element constant: the op runs on the Expand's input and the result is
 * expanded (a scalar commutes with broadcasting), so the full-size pass is never made.
 */
const scalarThroughExpand: BinaryRule = (g, op, a0, b0, outDtype) => {
  for (const [x, c, first] of [
    [a0, b0, true],
    [b0, a0, false],
  ] as const) {
    const p = g.producer(x);
    if (p?.op === 'Expand' && numel(c.shape) === 1 && g.constantData(c) && c.shape.length <= x.shape.length) {
      const inner = p.inputs[0]!;
      return g.expand(first ? g.binary(op, inner, c, outDtype) : g.binary(op, c, inner, outDtype), x.shape);
    }
  }
  return undefined;
};

/**
 * An operand made by Expand is replaced by the Expand's input when broadcasting that input gives
 * the same result shape: the op broadcasts it anyway, and the expanded copy (one pass over the
 * full tensor; the reverse pass's broadcast gradients make many) is never read. Where the other
 * operand is also expanded, only one side is unwrapped, so the shape stays the same.
 */
const unexpandedOperands: BinaryRule = (g, _op, a, b) => {
  const out = broadcastShapes(a.shape, b.shape);
  const inner = (v: Value) => {
    const p = g.producer(v);
    return p?.op === 'Expand' ? p.inputs[0]! : undefined;
  };
  const same = (x: Value, y: Value) => {
    const s = broadcastShapes(x.shape, y.shape);
    return !!s && !!out && s.length === out.length && s.every((d, i) => d === out[i]);
  };
  const ia = inner(a);
  if (ia && same(ia, b)) return [ia, b];
  const ib = inner(b);
  if (ib && same(a, ib)) return [a, ib];
  return [a, b];
};

/**
 * A one-element constant meeting a column (a tensor whose last axis is 1, like [B, H, L, 1])
 * takes the column's rank: ONNX Runtime's CPU broadcast of a column with a rank-0 scalar walks
 * one element per span (measured 0.5–0.9 ms at L = 16384), with a [1, 1, 1, 1] constant one
 * span (36–67 µs). Same values, same result; other shapes keep their scalar.
 */
function columnScalar(g: GraphBuilder, c: Value, other: Value): Value {
  const rank = other.shape.length;
  if (rank <= c.shape.length || other.shape[rank - 1] !== 1 || numel(c.shape) !== 1) return c;
  const data = g.constantData(c);
  if (!data) return c;
  return g.derivedConstant(`${c.name}/${rank}`, () => g.constant([Number(data[0])], new Array<number>(rank).fill(1), { dtype: c.dtype }));
}

const columnScalars: BinaryRule = (g, _op, a, b) => [columnScalar(g, a, b), columnScalar(g, b, a)];

// ---------------------------------------------------------------------------------------------
// MatMul, Transpose
// ---------------------------------------------------------------------------------------------

/**
 * An outer product with a ones vector (K = 1) only repeats the other operand: an Expand, which a
 * binary op then reads unexpanded (the gradient of a [1, L] ones-row sum is one of these, an L×n
 * product feeding an Add).
 */
const onesOuterProduct: MatMulRule = (g, a, b, { batch, m, k, n }) => {
  if (!(k === 1 && (g.isOnes(a) || g.isOnes(b)))) return undefined;
  const other = g.isOnes(a) ? b : a;
  const lead = new Array<number>(batch.length + 2 - other.shape.length).fill(1);
  return g.expand(lead.length ? g.reshape(other, [...lead, ...other.shape]) : other, [...batch, m, n]);
};

/**
 * Transpose of a Transpose that undoes it: the original value (the reverse pass of MatMul(Eᵀ, ·)
 * would otherwise transpose an L×m gradient twice).
 */
const inverseTranspose: TransposeRule = (g, x, perm) => {
  const inner = g.producer(x);
  if (inner?.op === 'Transpose' && inner.attrs.perm?.type === 'ints') {
    const p0 = inner.attrs.perm.value;
    if (perm.every((p, i) => p0[p] === i)) return inner.inputs[0]!;
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// Reductions as products with a ones row
// ---------------------------------------------------------------------------------------------

/** Element types whose sums ONNX Runtime's MatMul computes (the ones-row rules). */
const productDtype = (x: Value) => x.dtype === 'float32' || x.dtype === 'float64';

/** A constant row [1, L] of `value`, L = x's second-to-last dimension. */
function rowOf(g: GraphBuilder, x: Value, value: number): Value {
  const L = x.shape.at(-2)!;
  return g.derivedConstant(`row/${L}/${value}/${x.dtype}`, () => g.constant(new Array<number>(L).fill(value), [1, L], { dtype: x.dtype }));
}

/**
 * A reduction over the second-to-last axis alone (the sequence axis of [.., L, n]) becomes a
 * [1, L]·[.., L, n] product with a row of ones (of 1/L for a mean): ONNX Runtime's CPU
 * ReduceSum/ReduceMean walk that axis with a stride of n, about ten times slower than the
 * product (measured 1.2–1.3 ms against a 0.13 ms bound at L = 16384, n = 64). float32/64 only,
 * and long axes only (L ≥ 64).
 */
const rowsAsProduct: ReduceRule = (g, op, x, norm, _shape, keepdims) => {
  const r = x.shape.length;
  const overRows = r >= 2 && norm.length === 1 && norm[0] === r - 2 && x.shape[r - 2]! >= 64 && productDtype(x);
  if (!keepdims || !overRows) return undefined;
  return g.matMul(rowOf(g, x, op === 'ReduceMean' ? 1 / x.shape.at(-2)! : 1), x);
};

/**
 * A sum over the leading axes [0, k) of x (k < rank: a bias's or a shared weight's gradient,
 * summed over batch and sequence) becomes x reshaped to [P, R] (P the product of those axes) met
 * by a [1, P] ones row: ONNX Runtime's ReduceSum over leading axes runs at a tenth of the
 * bandwidth (0.59 ms against 0.06 ms for the product, [16, 512, 64] over the batch, one process
 * alternating 200 runs of each). Not for tensors under 4096 elements, other axes or non-float types.
 */
const leadingAsProduct: ReduceRule = (g, op, x, norm, shape, keepdims) => {
  const k = norm.length;
  const r = x.shape.length;
  if (op !== 'ReduceSum' || !keepdims) return undefined;
  if (!k || k >= r || [...norm].sort((p, q) => p - q).some((a, i) => a !== i) || !productDtype(x)) return undefined;
  const P = numel(x.shape.slice(0, k));
  if (P < 2 || numel(x.shape) < 4096) return undefined;
  const leading = g.reshape(x, [P, numel(x.shape.slice(k))]);
  return g.reshape(g.matMul(rowOf(g, leading, 1), leading), shape);
};

// ---------------------------------------------------------------------------------------------
// Build passes
// ---------------------------------------------------------------------------------------------

/** What the build passes decide, then apply together. */
export interface BuildPlan {
  /** How many nodes the outputs need read each value (graph outputs count as a reader). */
  readonly readers: Map<string, number>;
  /** Values replaced by another (a pushed-down Slice's output by the value it became). */
  readonly alias: Map<string, Value>;
  /**
   * Where each node runs: its place in the list; nodes a rewrite makes take the place of the node
   * they replace (ONNX Runtime keeps this order, and with it tensors' lifetimes).
   */
  readonly position: Map<string, number>;
  /** Computed values renamed to the graph output they feed, and the Identity nodes that go. */
  readonly renamed: Map<string, string>;
  readonly dropped: Set<string>;
  /** The graph's nodes, once the last pass has run. */
  nodes: Node[];
}

/** How many nodes the outputs need read each value (graph outputs count as a reader). */
function readers(g: GraphBuilder, outputs: readonly Value[]): Map<string, number> {
  const needed = new Set(outputs.map((v) => v.name));
  const count = new Map<string, number>(outputs.map((v) => [v.name, 1]));
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o.name))) continue;
    for (const x of n.inputs) {
      needed.add(x.name);
      count.set(x.name, (count.get(x.name) ?? 0) + 1);
    }
  }
  return count;
}

/** [start, end) of a Slice over the last axis alone, or undefined. */
function lastAxisBounds(g: GraphBuilder, n: Node): [number, number] | undefined {
  const [x, starts, ends, axes] = n.inputs;
  const rank = x!.shape.length;
  const read = (v: Value | undefined) => (v ? g.constantData(v) : undefined);
  const [s, e, a] = [read(starts), read(ends), read(axes)];
  if (!s || !e || !a || a.length !== 1 || n.inputs.length > 4) return undefined;
  if (Number(a[0]) !== rank - 1 && Number(a[0]) !== -1) return undefined;
  const dim = x!.shape[rank - 1]!;
  return [sliceIndex(Number(s[0]), dim), sliceIndex(Number(e[0]), dim)];
}

/**
 * x[..., start:end] computed from smaller pieces where x is read by nothing else: a product
 * A·B gives A·B[..., start:end] (N = 64, not 65: ONNX Runtime packs the right operand in
 * 16-column panels), an elementwise op slices each operand that spans the axis (a broadcast
 * column stays as it is). Otherwise (or for a value read elsewhere) a plain Slice.
 */
function sliced(g: GraphBuilder, x: Value, start: number, end: number, readers: Map<string, number>, top = false): Value {
  const p = g.producer(x);
  const single = (readers.get(x.name) ?? 0) === 1;
  const cut = (v: Value) => (v.shape.at(-1) === x.shape.at(-1) ? sliced(g, v, start, end, readers) : v);
  if (single && p?.op === 'MatMul' && p.inputs[1]!.shape.length >= 2) return g.matMul(p.inputs[0]!, sliced(g, p.inputs[1]!, start, end, readers));
  if (single && (p?.op === 'Add' || p?.op === 'Sub' || p?.op === 'Mul' || p?.op === 'Div')) {
    const [a, b] = p.inputs as [Value, Value];
    return g.binary(p.op, cut(a), cut(b));
  }
  return top ? x : g.slice(x, [-1], [start], [end]);
}

/** A last-axis Slice of a value nothing else reads is pushed into the op that made it (`sliced`). */
const pushSlices: BuildPass = (g, outputs, { readers, alias, position }) => {
  const count = g.nodes.length;
  for (let i = 0; i < count; i++) {
    const n = g.nodes[i]!;
    if (n.op !== 'Slice' || !readers.has(n.outputs[0]!.name) || outputs.some((o) => o.name === n.outputs[0]!.name)) continue;
    const bounds = lastAxisBounds(g, n);
    if (!bounds) continue;
    const x = n.inputs[0]!;
    if ((readers.get(x.name) ?? 0) !== 1) continue;
    const before = g.nodes.length;
    const pushed = sliced(g, x, bounds[0], bounds[1], readers, true);
    if (pushed !== x) alias.set(n.outputs[0]!.name, pushed);
    const made = g.nodes.length - before;
    for (let j = 0; j < made; j++) position.set(g.nodes[before + j]!.name, i + (j + 1) / (made + 1));
  }
};

const resolve = (plan: BuildPlan, v: Value): Value => {
  const a = plan.alias.get(v.name);
  return a ? resolve(plan, a) : v;
};

/**
 * A graph output named through an Identity of a computed, not otherwise output, value is written
 * by that value's node directly (ONNX Runtime copies through an Identity that makes a graph
 * output: 1.4 ms per 4 MiB gradient at L = 16384).
 */
const outputsWithoutIdentity: BuildPass = (g, outputs, plan) => {
  const outNames = new Set(outputs.map((o) => o.name));
  for (const o of outputs) {
    const p = g.producer(o);
    if (p?.op !== 'Identity' || p.stopGradient) continue;
    const inner = resolve(plan, p.inputs[0]!);
    if (!g.producer(inner) || outNames.has(inner.name) || plan.renamed.has(inner.name)) continue;
    plan.renamed.set(inner.name, o.name);
    plan.dropped.add(p.name);
  }
};

/**
 * The nodes the outputs need, with the decisions above applied, in their places: nodes nothing
 * needs (left by rewrites) are dropped, and each node follows its inputs' producers.
 */
const neededNodes: BuildPass = (g, outputs, plan) => {
  const renameTo = (v: Value): Value => {
    const to = plan.renamed.get(v.name);
    return to ? { ...v, name: to } : v;
  };
  const byOutput = new Map<string, Node>();
  for (const n of g.nodes) {
    if (plan.dropped.has(n.name)) continue;
    // Inputs read the values slices were pushed into; outputs keep their own names (a replaced
    // Slice is left unread and dropped below).
    const node: Node = { ...n, inputs: n.inputs.map((v) => renameTo(resolve(plan, v))), outputs: n.outputs.map(renameTo) };
    for (const o of node.outputs) byOutput.set(o.name, node);
  }
  const kept: Node[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    const n = byOutput.get(name);
    if (!n || seen.has(n.name)) return;
    seen.add(n.name);
    for (const x of n.inputs) visit(x.name);
    kept.push(n);
  };
  for (const o of outputs) visit(o.name);
  kept.sort((x, y) => plan.position.get(x.name)! - plan.position.get(y.name)!);
  plan.nodes = kept;
};

/** Every rewrite, by where it applies, in the order it is tried. */
export const RULES = {
  binary: [scalarThroughExpand, unexpandedOperands, columnScalars] as readonly BinaryRule[],
  matMul: [onesOuterProduct] as readonly MatMulRule[],
  transpose: [inverseTranspose] as readonly TransposeRule[],
  reduce: [rowsAsProduct, leadingAsProduct] as readonly ReduceRule[],
  build: [pushSlices, outputsWithoutIdentity, neededNodes] as readonly BuildPass[],
};

/** The graph computing `outputs`: the build passes, then the initializers the kept nodes read. */
export function buildGraph(g: GraphBuilder, outputs: readonly Value[]): Graph {
  const plan: BuildPlan = {
    readers: readers(g, outputs),
    alias: new Map(),
    position: new Map(g.nodes.map((n, i) => [n.name, i])),
    renamed: new Map(),
    dropped: new Set(),
    nodes: [],
  };
  for (const pass of RULES.build) pass(g, outputs, plan);
  const needed = new Set(plan.nodes.flatMap((n) => n.inputs.map((x) => x.name)));
  const initializers = g.initializers.filter((i) => needed.has(i.value.name));
  return { name: g.name, inputs: [...g.inputs], outputs: [...outputs], nodes: plan.nodes, initializers };
}
