/**
 * Graph builder: one method per ONNX op, each checking its inputs and inferring the output shape
 * when the node is added, so a malformed graph fails here with the node's name, never inside
 * ONNX Runtime.
 */
import { GraphError } from '../errors.ts';
import {
  type Attr,
  type Op,
  type DType,
  type Graph,
  type HostData,
  type Initializer,
  type Node,
  type Value,
  FLOAT_DTYPES,
  ONNX_ELEM_TYPE,
  float,
  int,
  ints,
  numel,
} from './ir.ts';

type Shape = readonly number[];

/** Numpy-style broadcast of two shapes, or null when they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

const fmt = (s: Shape) => `[${s.join(',')}]`;

/** The permutation of r axes that swaps the last two. */
function lastSwap(r: number): number[] {
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [r - 1, r - 2];
  return perm;
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  /** Index in `nodes` of the node computing each value. */
  private readonly producers = new Map<string, number>();
  private readonly transposes = new Map<string, Value>();
  private readonly concats = new Map<string, Value>();
  readonly inputs: Value[] = [];
  readonly initializers: Initializer[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  /** @param dtype the float type of the graph's activations and constants */
  constructor(
    readonly name: string,
    readonly dtype: DType = 'float32',
  ) {
    if (!FLOAT_DTYPES.includes(dtype)) throw new GraphError(`graph ${name}: dtype ${dtype} is not a float type`);
  }

  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new GraphError(`graph ${this.name}: the name '${name}' is already used`);
    this.used.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, shape: Shape, dtype: DType = this.dtype): Value {
    if (shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new GraphError(`input ${name}: every dimension must be a positive integer, got ${fmt(shape)}`);
    }
    const v: Value = { name: this.claim(name), dtype, shape: [...shape] };
    this.inputs.push(v);
    return v;
  }

  /** Adds an initializer; float data is stored in the graph's dtype unless another is given. */
  constant(data: ArrayLike<number>, shape: Shape, opts: { name?: string; dtype?: DType } = {}): Value {
    const dtype = opts.dtype ?? this.dtype;
    if (data.length !== numel(shape)) {
      throw new GraphError(`constant ${opts.name ?? ''}: ${data.length} values for shape ${fmt(shape)}`);
    }
    const value: Value = { name: opts.name ? this.claim(opts.name) : this.fresh('const'), dtype, shape: [...shape] };
    this.initializers.push({ value, data: toHost(data, dtype) });
    return value;
  }

  /** A scalar constant of the graph's float dtype. */
  scalar(x: number): Value {
    return this.constant([x], []);
  }

  /** A 1-D int64 constant (axes, shapes, slice bounds). */
  int64s(values: readonly number[]): Value {
    return this.constant(values, [values.length], { dtype: 'int64' });
  }

  /** Adds a node whose output shapes the caller has inferred. Checked: inputs must exist. */
  node(op: Op, inputs: readonly Value[], outputs: { shape: Shape; dtype: DType }[], attrs: Record<string, Attr> = {}, domain = ''): Value[] {
    const name = this.fresh(op);
    const outs = outputs.map((o, i) => ({ name: outputs.length === 1 ? `${name}_out` : `${name}_out${i}`, dtype: o.dtype, shape: [...o.shape] }));
    for (const o of outs) {
      this.claim(o.name);
      this.producers.set(o.name, this.nodes.length);
    }
    this.nodes.push({ name, op, domain, inputs: [...inputs], outputs: outs, attrs });
    return outs;
  }

  private one(op: Op, inputs: readonly Value[], shape: Shape, dtype: DType, attrs: Record<string, Attr> = {}): Value {
    return this.node(op, inputs, [{ shape, dtype }], attrs)[0]!;
  }

  private fail(op: Op, msg: string): never {
    throw new GraphError(`node ${op}_${this.counter} (${op}) in graph ${this.name}: ${msg}`);
  }

  private axis(op: Op, axis: number, rank: number): number {
    const a = axis < 0 ? axis + rank : axis;
    if (!Number.isInteger(a) || a < 0 || a >= rank) this.fail(op, `axis ${axis} is out of range for rank ${rank}`);
    return a;
  }

  private sameDtype(op: Op, ...vs: Value[]): DType {
    const d = vs[0]!.dtype;
    for (const v of vs) if (v.dtype !== d) this.fail(op, `mixed dtypes ${vs.map((x) => `${x.name}:${x.dtype}`).join(', ')}`);
    return d;
  }

  private binary(op: Op, a0: Value, b0: Value, outDtype?: DType): Value {
    // An Expand meeting a one-element constant: the op runs on the Expand's input and the result
    // is expanded (a scalar commutes with broadcasting), so the full-size pass is never made.
    for (const [x, c, first] of [[a0, b0, true], [b0, a0, false]] as const) {
      const p = this.producer(x);
      if (p?.op === 'Expand' && numel(c.shape) === 1 && this.constantData(c) && c.shape.length <= x.shape.length) {
        const inner = p.inputs[0]!;
        return this.expand(first ? this.binary(op, inner, c, outDtype) : this.binary(op, c, inner, outDtype), x.shape);
      }
    }
    const [a1, b1] = this.unexpanded(a0, b0);
    const a = this.columnScalar(a1, b1);
    const b = this.columnScalar(b1, a1);
    const dtype = this.sameDtype(op, a, b);
    const shape = broadcastShapes(a.shape, b.shape);
    if (!shape) this.fail(op, `shapes ${fmt(a.shape)} (${a.name}) and ${fmt(b.shape)} (${b.name}) do not broadcast`);
    return this.one(op, [a, b], shape, outDtype ?? dtype);
  }

  /** Constants the builder derives (a scalar at a column's rank, a row of ones), made once each. */
  private readonly derived = new Map<string, Value>();

  /**
   * An operand made by Expand is replaced by the Expand's input when broadcasting that input gives
   * the same result shape: the op broadcasts it anyway, and the expanded copy (one pass over the
   * full tensor; the reverse pass's broadcast gradients make many) is never read. Where the other
   * operand is also expanded, only one side is unwrapped, so the shape stays the same.
   */
  private unexpanded(a: Value, b: Value): [Value, Value] {
    const out = broadcastShapes(a.shape, b.shape);
    const inner = (v: Value) => {
      const p = this.producer(v);
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
  }

  /**
   * A one-element constant meeting a column (a tensor whose last axis is 1, like [B, H, L, 1])
   * takes the column's rank: ONNX Runtime's CPU broadcast of a column with a rank-0 scalar walks
   * one element per span (measured 0.5–0.9 ms at L = 16384), with a [1, 1, 1, 1] constant one
   * span (36–67 µs). Same values, same result; other shapes keep their scalar.
   */
  private columnScalar(c: Value, other: Value): Value {
    const rank = other.shape.length;
    if (rank <= c.shape.length || other.shape[rank - 1] !== 1 || numel(c.shape) !== 1) return c;
    const data = this.constantData(c);
    if (!data) return c;
    const key = `${c.name}/${rank}`;
    if (!this.derived.has(key)) this.derived.set(key, this.constant([Number(data[0])], new Array<number>(rank).fill(1), { dtype: c.dtype }));
    return this.derived.get(key)!;
  }

  add = (a: Value, b: Value) => this.binary('Add', a, b);
  sub = (a: Value, b: Value) => this.binary('Sub', a, b);
  mul = (a: Value, b: Value) => this.binary('Mul', a, b);
  div = (a: Value, b: Value) => this.binary('Div', a, b);
  max = (a: Value, b: Value) => this.binary('Max', a, b);
  lessOrEqual = (a: Value, b: Value) => this.binary('LessOrEqual', a, b, 'bool');
  greater = (a: Value, b: Value) => this.binary('Greater', a, b, 'bool');

  /** Cast to another element type (ONNX's TensorProto codes). */
  cast(x: Value, dtype: DType): Value {
    return this.one('Cast', [x], x.shape, dtype, { to: int(ONNX_ELEM_TYPE[dtype]) });
  }
  equal = (a: Value, b: Value) => this.binary('Equal', a, b, 'bool');

  private unary(op: Op, x: Value, attrs: Record<string, Attr> = {}): Value {
    return this.one(op, [x], x.shape, x.dtype, attrs);
  }

  exp = (x: Value) => this.unary('Exp', x);
  log = (x: Value) => this.unary('Log', x);
  sqrt = (x: Value) => this.unary('Sqrt', x);
  sin = (x: Value) => this.unary('Sin', x);
  cos = (x: Value) => this.unary('Cos', x);
  relu = (x: Value) => this.unary('Relu', x);
  neg = (x: Value) => this.unary('Neg', x);
  abs = (x: Value) => this.unary('Abs', x);
  identity = (x: Value) => this.unary('Identity', x);
  elu = (x: Value, alpha = 1) => this.unary('Elu', x, { alpha: float(alpha) });

  /** Identity marked constant for differentiation (the stabiliser maxima of docs/formulas.md §3). */
  stopGradient(x: Value): Value {
    const out = this.identity(x);
    const last = this.nodes.pop()!;
    this.nodes.push({ ...last, stopGradient: true });
    return out;
  }

  /** Batched MatMul with broadcasting over the leading dimensions (both ranks ≥ 2). */
  matMul(a: Value, b: Value): Value {
    const dtype = this.sameDtype('MatMul', a, b);
    if (a.shape.length < 2 || b.shape.length < 2) this.fail('MatMul', `needs rank ≥ 2, got ${fmt(a.shape)} x ${fmt(b.shape)}`);
    const [m, k1] = a.shape.slice(-2) as [number, number];
    const [k2, n] = b.shape.slice(-2) as [number, number];
    if (k1 !== k2) this.fail('MatMul', `inner dimensions differ: ${fmt(a.shape)} (${a.name}) x ${fmt(b.shape)} (${b.name})`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (!batch) this.fail('MatMul', `batch dimensions of ${fmt(a.shape)} and ${fmt(b.shape)} do not broadcast`);
    // An outer product with a ones vector (K = 1) only repeats the other operand: an Expand, which
    // a binary op then reads unexpanded (the gradient of a [1, L] ones-row sum is one of these, an
    // L×n product feeding an Add).
    if (k1 === 1 && (this.isOnes(a) || this.isOnes(b))) {
      const other = this.isOnes(a) ? b : a;
      const lead = new Array<number>(batch.length + 2 - other.shape.length).fill(1);
      return this.expand(lead.length ? this.reshape(other, [...lead, ...other.shape]) : other, [...batch, m, n]);
    }
    return this.one('MatMul', [a, b], [...batch, m, n], dtype);
  }

  /** Whether `v` is all ones: a constant, a fill, or a transpose of either. */
  isOnes(v: Value): boolean {
    const data = this.constantData(v);
    if (data) return Array.from(data as ArrayLike<number>).every((x) => Number(x) === 1);
    const p = this.producer(v);
    if (p?.op === 'Transpose') return this.isOnes(p.inputs[0]!);
    return this.isFill(v, 1);
  }

  transpose(x: Value, perm: readonly number[]): Value {
    const r = x.shape.length;
    if (perm.length !== r || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
      this.fail('Transpose', `perm [${perm}] is not a permutation of rank ${r}`);
    }
    // Transpose of a Transpose that undoes it: the original value (the reverse pass of
    // MatMul(Eᵀ, ·) would otherwise transpose an L×m gradient twice).
    const inner = this.producer(x);
    if (inner?.op === 'Transpose' && inner.attrs.perm?.type === 'ints') {
      const p0 = inner.attrs.perm.value;
      if (perm.every((p, i) => p0[p] === i)) return inner.inputs[0]!;
    }
    // One node per (value, perm): the reverse pass transposes the same operand once per use.
    const key = `${x.name}|${perm.join(',')}`;
    const known = this.transposes.get(key);
    if (known) return known;
    const out = this.one('Transpose', [x], perm.map((p) => x.shape[p]!), x.dtype, { perm: ints(perm) });
    this.transposes.set(key, out);
    return out;
  }

  /** The node that computes `v`, or undefined for inputs and initializers. */
  producer(v: Value): Node | undefined {
    const i = this.producers.get(v.name);
    return i === undefined ? undefined : this.nodes[i];
  }

  /** Whether `v` is a `fill(shape, value)`: an Expand of a one-element constant equal to `value`. */
  isFill(v: Value, value: number): boolean {
    const p = this.producer(v);
    if (p?.op !== 'Expand') return false;
    const data = this.constantData(p.inputs[0]!);
    return data !== undefined && data.length === 1 && Number(data[0]) === value;
  }

  /** Swaps the last two axes. */
  transposeLast(x: Value): Value {
    return this.transpose(x, lastSwap(x.shape.length));
  }

  /** Whether `v` is the output of a Transpose that swaps its last two axes only (a `transposeLast`). */
  isTransposeLast(v: Value): boolean {
    const p = this.producer(v);
    if (p?.op !== 'Transpose' || p.attrs.perm?.type !== 'ints') return false;
    const perm = p.attrs.perm.value;
    return perm.length >= 2 && perm.join() === lastSwap(perm.length).join();
  }

  reshape(x: Value, shape: Shape): Value {
    if (numel(shape) !== numel(x.shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      this.fail('Reshape', `cannot reshape ${fmt(x.shape)} (${x.name}) to ${fmt(shape)}`);
    }
    return this.one('Reshape', [x, this.int64s(shape)], shape, x.dtype);
  }

  concat(xs: readonly Value[], axis: number): Value {
    const first = xs[0];
    if (!first) this.fail('Concat', 'needs at least one input');
    const dtype = this.sameDtype('Concat', ...xs);
    const a = this.axis('Concat', axis, first.shape.length);
    const shape = [...first.shape];
    shape[a] = 0;
    for (const x of xs) {
      if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
        this.fail('Concat', `shape ${fmt(x.shape)} (${x.name}) does not match ${fmt(first.shape)} off axis ${axis}`);
      }
      shape[a]! += x.shape[a]!;
    }
    // One node per (inputs, axis): the reverse pass joins the same operands more than once.
    const key = concatKey(xs, a);
    const known = this.concats.get(key);
    if (known) return known;
    const out = this.one('Concat', xs, shape, dtype, { axis: int(a) });
    this.concats.set(key, out);
    return out;
  }

  /** Whether a Concat of exactly these values along `axis` has been made. */
  hasConcat(xs: readonly Value[], axis: number): boolean {
    const rank = xs[0]?.shape.length ?? 0;
    return this.concats.has(concatKey(xs, axis < 0 ? axis + rank : axis));
  }

  /** Slice [start, end) along each axis (step 1; bounds clamped as ONNX does, end ≥ start after clamping). */
  slice(x: Value, axes: readonly number[], starts: readonly number[], ends: readonly number[]): Value {
    const shape = [...x.shape];
    const norm = axes.map((ax, i) => {
      const a = this.axis('Slice', ax, x.shape.length);
      const dim = x.shape[a]!;
      const s = sliceIndex(starts[i]!, dim);
      const e = sliceIndex(ends[i]!, dim);
      if (e <= s) this.fail('Slice', `empty slice [${starts[i]}, ${ends[i]}) of axis ${ax} (size ${dim})`);
      shape[a] = e - s;
      return a;
    });
    return this.one('Slice', [x, this.int64s(starts), this.int64s(ends), this.int64s(norm)], shape, x.dtype);
  }

  unsqueeze(x: Value, axes: readonly number[]): Value {
    const rank = x.shape.length + axes.length;
    const norm = axes.map((a) => this.axis('Unsqueeze', a, rank)).sort((p, q) => p - q);
    const shape = [...x.shape];
    for (const a of norm) shape.splice(a, 0, 1);
    return this.one('Unsqueeze', [x, this.int64s(norm)], shape, x.dtype);
  }

  squeeze(x: Value, axes: readonly number[]): Value {
    const norm = axes.map((a) => this.axis('Squeeze', a, x.shape.length));
    for (const a of norm) if (x.shape[a] !== 1) this.fail('Squeeze', `axis ${a} of ${fmt(x.shape)} is not 1`);
    return this.one('Squeeze', [x, this.int64s(norm)], x.shape.filter((_, i) => !norm.includes(i)), x.dtype);
  }

  private reduced(op: Op, x: Value, axes: readonly number[], keepdims: boolean): { norm: number[]; shape: number[] } {
    const norm = axes.map((a) => this.axis(op, a, x.shape.length));
    const shape = keepdims ? x.shape.map((d, i) => (norm.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !norm.includes(i));
    return { norm, shape };
  }

  /** ReduceSum (opset 13+: axes as an input). */
  reduceSum(x: Value, axes: readonly number[], keepdims = true): Value {
    const { norm, shape } = this.reduced('ReduceSum', x, axes, keepdims);
    if (keepdims && this.overRows(x, norm)) return this.matMul(this.rowOf(x, 1), x);
    const leading = keepdims ? this.overLeading(x, norm) : undefined;
    if (leading) return this.reshape(this.matMul(this.rowOf(leading, 1), leading), shape);
    return this.one('ReduceSum', [x, this.int64s(norm)], shape, x.dtype, { keepdims: int(keepdims ? 1 : 0) });
  }

  /**
   * Whether a reduction runs over the second-to-last axis alone (the sequence axis of [.., L, n]):
   * ONNX Runtime's CPU ReduceSum/ReduceMean walk that axis with a stride of n, about ten times
   * slower than a [1, L]·[.., L, n] product (measured 1.2–1.3 ms against a 0.13 ms bound at
   * L = 16384, n = 64), so such sums become that product. float32/64 only, and long axes only.
   */
  private overRows(x: Value, norm: readonly number[]): boolean {
    const r = x.shape.length;
    return r >= 2 && norm.length === 1 && norm[0] === r - 2 && x.shape[r - 2]! >= 64 && productDtype(x);
  }

  /**
   * A sum over the leading axes [0, k) of x (k < rank: a bias's or a shared weight's gradient,
   * summed over batch and sequence) as x reshaped to [P, R] (P the product of those axes) met by
   * a [1, P] ones row: ONNX Runtime's ReduceSum over leading axes runs at a tenth of the
   * bandwidth (0.59 ms against 0.06 ms for the product, [16, 512, 64] over the batch, one
   * process alternating 200 runs of each). The reshaped x, or undefined where the rule does not
   * apply (tensors under 4096 elements, other axes, non-float types).
   */
  private overLeading(x: Value, norm: readonly number[]): Value | undefined {
    const k = norm.length;
    const r = x.shape.length;
    if (!k || k >= r || [...norm].sort((p, q) => p - q).some((a, i) => a !== i) || !productDtype(x)) return undefined;
    const P = numel(x.shape.slice(0, k));
    if (P < 2 || numel(x.shape) < 4096) return undefined;
    return this.reshape(x, [P, numel(x.shape.slice(k))]);
  }

  /** A constant row [1, L] of `value`, L = x's second-to-last dimension. */
  private rowOf(x: Value, value: number): Value {
    const L = x.shape.at(-2)!;
    const key = `row/${L}/${value}/${x.dtype}`;
    if (!this.derived.has(key)) this.derived.set(key, this.constant(new Array<number>(L).fill(value), [1, L], { dtype: x.dtype }));
    return this.derived.get(key)!;
  }

  /** ReduceMax (opset 17: axes as an attribute). */
  reduceMax(x: Value, axes: readonly number[], keepdims = true): Value {
    const { norm, shape } = this.reduced('ReduceMax', x, axes, keepdims);
    return this.one('ReduceMax', [x], shape, x.dtype, { axes: ints(norm), keepdims: int(keepdims ? 1 : 0) });
  }

  /** ReduceMin (opset 17: axes as an attribute). No gradient rule: used under stopGradient only. */
  reduceMin(x: Value, axes: readonly number[], keepdims = true): Value {
    const { norm, shape } = this.reduced('ReduceMin', x, axes, keepdims);
    return this.one('ReduceMin', [x], shape, x.dtype, { axes: ints(norm), keepdims: int(keepdims ? 1 : 0) });
  }

  /** ReduceMean (opset 17: axes as an attribute). */
  reduceMean(x: Value, axes: readonly number[], keepdims = true): Value {
    const { norm, shape } = this.reduced('ReduceMean', x, axes, keepdims);
    if (keepdims && this.overRows(x, norm)) return this.matMul(this.rowOf(x, 1 / x.shape.at(-2)!), x);
    return this.one('ReduceMean', [x], shape, x.dtype, { axes: ints(norm), keepdims: int(keepdims ? 1 : 0) });
  }

  softmax(x: Value, axis = -1): Value {
    return this.unary('Softmax', x, { axis: int(this.axis('Softmax', axis, x.shape.length)) });
  }

  cumSum(x: Value, axis: number, opts: { exclusive?: boolean; reverse?: boolean } = {}): Value {
    const a = this.axis('CumSum', axis, x.shape.length);
    const axisValue = this.constant([a], [], { dtype: 'int64' });
    return this.one('CumSum', [x, axisValue], x.shape, x.dtype, {
      exclusive: int(opts.exclusive ? 1 : 0),
      reverse: int(opts.reverse ? 1 : 0),
    });
  }

  where(cond: Value, x: Value, y: Value): Value {
    if (cond.dtype !== 'bool') this.fail('Where', `condition ${cond.name} must be bool, got ${cond.dtype}`);
    const dtype = this.sameDtype('Where', x, y);
    const s1 = broadcastShapes(x.shape, y.shape);
    const shape = s1 && broadcastShapes(cond.shape, s1);
    if (!shape) this.fail('Where', `shapes ${fmt(cond.shape)}, ${fmt(x.shape)}, ${fmt(y.shape)} do not broadcast`);
    return this.one('Where', [cond, x, y], shape, dtype);
  }

  /** Broadcasts x to `shape` (ONNX Expand). */
  expand(x: Value, shape: Shape): Value {
    const out = broadcastShapes(x.shape, shape);
    if (!out || out.some((d, i) => d !== shape[i]) || out.length !== shape.length) {
      this.fail('Expand', `cannot expand ${fmt(x.shape)} (${x.name}) to ${fmt(shape)}`);
    }
    return this.one('Expand', [x, this.int64s(shape)], shape, x.dtype);
  }

  /** A tensor of `shape` filled with `value` in the graph dtype; ONNX Runtime folds it at load. */
  fill(shape: Shape, value: number): Value {
    return this.expand(this.scalar(value), shape);
  }


  /** Trilu: keeps the lower (or upper) triangle of the last two axes, offset by k; zeros elsewhere. */
  trilu(x: Value, upper: boolean, k = 0): Value {
    if (x.shape.length < 2) this.fail('Trilu', `needs rank ≥ 2, got ${fmt(x.shape)}`);
    const kv = this.constant([k], [], { dtype: 'int64' });
    return this.one('Trilu', [x, kv], x.shape, x.dtype, { upper: int(upper ? 1 : 0) });
  }

  /**
   * One-hot of int64 indices along a new last axis of size `depth`, in the graph's float dtype:
   * Cast(indices[..., None] == [0, …, depth−1]) (ONNX Runtime's OneHot lacks float64). A Cast, not
   * Where(·, 1, 0): ONNX Runtime's Where broadcasts its two scalars element by element (measured
   * 7.1 ms against 1.4 ms for [16, 512, 256]).
   */
  oneHot(indices: Value, depth: number): Value {
    if (indices.dtype !== 'int64') this.fail('OneHot', `indices ${indices.name} must be int64`);
    const range = this.constant(Array.from({ length: depth }, (_, i) => i), [depth], { dtype: 'int64' });
    return this.cast(this.equal(this.unsqueeze(indices, [-1]), range), this.dtype);
  }

  /**
   * LayerNormalization over the last axis (ONNX opset 17): y = (x − μ)/√(σ² + ε)·γ + β, one node
   * that also outputs μ and 1/√(σ² + ε) ([.., 1]) for its gradient (autodiff/rules.ts). float64
   * graphs get the decomposed form instead: ONNX Runtime's CPU kernel has no float64 statistics
   * (stash_type 11 finds no implementation), and float32 ones would spoil a float64 reference.
   */
  layerNorm(x: Value, gamma: Value, beta: Value, eps: number): Value {
    const d = x.shape.at(-1)!;
    if (gamma.shape.join() !== String(d) || beta.shape.join() !== String(d)) this.fail('LayerNormalization', `γ ${fmt(gamma.shape)} and β ${fmt(beta.shape)} must be [${d}]`);
    const dtype = this.sameDtype('LayerNormalization', x, gamma, beta);
    if (dtype === 'float64') {
      const centred = this.sub(x, this.reduceMean(x, [-1]));
      const variance = this.reduceMean(this.mul(centred, centred), [-1]);
      return this.add(this.mul(this.div(centred, this.sqrt(this.add(variance, this.scalar(eps)))), gamma), beta);
    }
    const stats = [...x.shape.slice(0, -1), 1];
    // μ and 1/σ are float32 (float16 graphs cast them in the gradient rule).
    const stash: DType = 'float32';
    const outs = [{ shape: x.shape, dtype }, { shape: stats, dtype: stash }, { shape: stats, dtype: stash }];
    return this.node('LayerNormalization', [x, gamma, beta], outs, { axis: int(-1), epsilon: float(eps), stash_type: int(ONNX_ELEM_TYPE[stash]) })[0]!;
  }

  /** Rows of a 2-D table by int64 indices (ONNX Gather, axis 0): [..indices, width]. */
  gather(table: Value, indices: Value): Value {
    if (table.shape.length !== 2) this.fail('Gather', `table ${table.name} must be 2-D, got ${fmt(table.shape)}`);
    if (indices.dtype !== 'int64') this.fail('Gather', `indices ${indices.name} must be int64`);
    return this.one('Gather', [table, indices], [...indices.shape, table.shape[1]!], table.dtype, { axis: int(0) });
  }

  /**
   * zeros(shape) with each row of `updates` [..indices, width] added at its index (ONNX ScatterND,
   * reduction add): the gradient of `gather`.
   */
  scatterAddRows(shape: Shape, indices: Value, updates: Value): Value {
    if (shape.length !== 2 || updates.shape.at(-1) !== shape[1]) this.fail('ScatterND', `updates ${fmt(updates.shape)} do not fit rows of ${fmt(shape)}`);
    return this.one('ScatterND', [this.fill(shape, 0), this.unsqueeze(indices, [-1]), updates], shape, updates.dtype, { reduction: { type: 'string', value: 'add' } });
  }

  /** Renames a value to a stable graph-output name through an Identity node. */
  named(x: Value, name: string): Value {
    const node = this.fresh('Identity');
    const out: Value = { name: this.claim(name), dtype: x.dtype, shape: x.shape };
    this.producers.set(out.name, this.nodes.length);
    this.nodes.push({ name: node, op: 'Identity', domain: '', inputs: [x], outputs: [out], attrs: {} });
    return out;
  }

  /** The data of an initializer (constant axes, shapes and bounds read by gradient rules). */
  constantData(v: Value): Initializer['data'] | undefined {
    return this.initializers.find((i) => i.value.name === v.name)?.data;
  }

  /**
   * The graph computing `outputs`. Two rewrites run first, on the nodes the outputs need:
   * a last-axis Slice of a value nothing else reads is pushed into the op that made it (see
   * `sliced`), and a graph output named through an Identity of a computed value is written by
   * that value's node directly (ONNX Runtime copies through an Identity that makes a graph
   * output: 1.4 ms per 4 MiB gradient at L = 16384). Nodes nothing needs (left by rewrites) are
   * dropped, and the rest are put in an order where each node follows its inputs' producers.
   */
  build(outputs: readonly Value[]): Graph {
    const readers = this.readers(outputs);
    const alias = new Map<string, Value>();
    // Where each node runs: its place in the list; nodes a rewrite makes take the place of the
    // node they replace (ONNX Runtime keeps this order, and with it tensors' lifetimes).
    const position = new Map<string, number>(this.nodes.map((n, i) => [n.name, i]));
    const count = this.nodes.length;
    for (let i = 0; i < count; i++) {
      const n = this.nodes[i]!;
      if (n.op !== 'Slice' || !readers.has(n.outputs[0]!.name) || outputs.some((o) => o.name === n.outputs[0]!.name)) continue;
      const bounds = this.lastAxisBounds(n);
      if (!bounds) continue;
      const x = n.inputs[0]!;
      if ((readers.get(x.name) ?? 0) !== 1) continue;
      const before = this.nodes.length;
      const pushed = this.sliced(x, bounds[0], bounds[1], readers, true);
      if (pushed !== x) alias.set(n.outputs[0]!.name, pushed);
      const made = this.nodes.length - before;
      for (let j = 0; j < made; j++) position.set(this.nodes[before + j]!.name, i + (j + 1) / (made + 1));
    }
    const resolve = (v: Value): Value => {
      const a = alias.get(v.name);
      return a ? resolve(a) : v;
    };
    // Outputs through an Identity of a computed, not otherwise output, value: rename that value.
    const outNames = new Set(outputs.map((o) => o.name));
    const renamed = new Map<string, string>();
    const dropped = new Set<string>();
    for (const o of outputs) {
      const p = this.producer(o);
      if (p?.op !== 'Identity' || p.stopGradient) continue;
      const inner = resolve(p.inputs[0]!);
      if (!this.producer(inner) || outNames.has(inner.name) || renamed.has(inner.name)) continue;
      renamed.set(inner.name, o.name);
      dropped.add(p.name);
    }
    const renameTo = (v: Value): Value => {
      const to = renamed.get(v.name);
      return to ? { ...v, name: to } : v;
    };
    const byOutput = new Map<string, Node>();
    for (const n of this.nodes) {
      if (dropped.has(n.name)) continue;
      // Inputs read the values slices were pushed into; outputs keep their own names (a replaced
      // Slice is left unread and dropped below).
      const node: Node = { ...n, inputs: n.inputs.map((v) => renameTo(resolve(v))), outputs: n.outputs.map(renameTo) };
      for (const o of node.outputs) byOutput.set(o.name, node);
    }
    // The nodes the outputs need, in their places.
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
    kept.sort((x, y) => position.get(x.name)! - position.get(y.name)!);
    const needed = new Set(kept.flatMap((n) => n.inputs.map((x) => x.name)));
    const initializers = this.initializers.filter((i) => needed.has(i.value.name));
    return { name: this.name, inputs: [...this.inputs], outputs: [...outputs], nodes: kept, initializers };
  }

  /** How many nodes the outputs need read each value (graph outputs count as a reader). */
  private readers(outputs: readonly Value[]): Map<string, number> {
    const needed = new Set(outputs.map((v) => v.name));
    const count = new Map<string, number>(outputs.map((v) => [v.name, 1]));
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (!n.outputs.some((o) => needed.has(o.name))) continue;
      for (const x of n.inputs) {
        needed.add(x.name);
        count.set(x.name, (count.get(x.name) ?? 0) + 1);
      }
    }
    return count;
  }

  /** [start, end) of a Slice over the last axis alone, or undefined. */
  private lastAxisBounds(n: Node): [number, number] | undefined {
    const [x, starts, ends, axes] = n.inputs;
    const rank = x!.shape.length;
    const read = (v: Value | undefined) => (v ? this.constantData(v) : undefined);
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
  private sliced(x: Value, start: number, end: number, readers: Map<string, number>, top = false): Value {
    const p = this.producer(x);
    const single = (readers.get(x.name) ?? 0) === 1;
    const cut = (v: Value) => (v.shape.at(-1) === x.shape.at(-1) ? this.sliced(v, start, end, readers) : v);
    if (single && p?.op === 'MatMul' && p.inputs[1]!.shape.length >= 2) return this.matMul(p.inputs[0]!, this.sliced(p.inputs[1]!, start, end, readers));
    if (single && (p?.op === 'Add' || p?.op === 'Sub' || p?.op === 'Mul' || p?.op === 'Div')) {
      const [a, b] = p.inputs as [Value, Value];
      return this.binary(p.op, cut(a), cut(b));
    }
    return top ? x : this.slice(x, [-1], [start], [end]);
  }
}

/** A slice bound as ONNX reads it: negative from the end, clamped to [0, dim]. */
const sliceIndex = (v: number, dim: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);

/** The key of a Concat of `xs` along normalised axis `a`. */
const concatKey = (xs: readonly Value[], a: number) => `${xs.map((x) => x.name).join(',')}|${a}`;

/** Element types whose sums ONNX Runtime's MatMul computes (the ones-row rules). */
const productDtype = (x: Value) => x.dtype === 'float32' || x.dtype === 'float64';

function toHost(data: ArrayLike<number>, dtype: DType): HostData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(data);
    case 'float64':
    case 'float16': // kept in float64 on the host; the serialiser converts
      return Float64Array.from(data);
    case 'int64':
      return BigInt64Array.from(Array.from(data, (x) => BigInt(x)));
    case 'bool':
      return Uint8Array.from(data, (x) => (x ? 1 : 0));
  }
}
