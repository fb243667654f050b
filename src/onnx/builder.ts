/**
 * Graph builder: one method per ONNX op, each checking its inputs and inferring the output shape
 * when the node is added, so a malformed graph fails here with the node's name, never inside
 * ONNX Runtime. The rewrites the builder applies (as ops are added, and in `build()`) are listed
 * and explained in rewrites.ts.
 */
import { type Attr, type Op, type DType, type Graph, type Value, ONNX_ELEM_TYPE, float, int, ints, numel } from './ir.ts';
import { fmt, GraphBase, type Shape } from './graph-base.ts';
import { buildGraph, RULES } from './rewrites.ts';
import { broadcastShapes, lastSwap, sliceIndex } from './shapes.ts';

export { broadcastShapes } from './shapes.ts';

/** The op constructors; the graph they add to, and what they ask of it, is GraphBase's. */
export class GraphBuilder extends GraphBase {
  private readonly transposes = new Map<string, Value>();
  private readonly concats = new Map<string, Value>();

  /** An elementwise binary op, after the binary rewrites (rewrites.ts). */
  binary(op: Op, a0: Value, b0: Value, outDtype?: DType): Value {
    let [a, b] = [a0, b0];
    for (const rule of RULES.binary) {
      const r = rule(this, op, a, b, outDtype);
      if (r === undefined) continue;
      if ('name' in r) return r;
      [a, b] = r;
    }
    const dtype = this.sameDtype(op, a, b);
    const shape = broadcastShapes(a.shape, b.shape);
    if (!shape) this.fail(op, `shapes ${fmt(a.shape)} (${a.name}) and ${fmt(b.shape)} (${b.name}) do not broadcast`);
    return this.one(op, [a, b], shape, outDtype ?? dtype);
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
    for (const rule of RULES.matMul) {
      const r = rule(this, a, b, { batch, m, k: k1, n });
      if (r) return r;
    }
    return this.one('MatMul', [a, b], [...batch, m, n], dtype);
  }

  transpose(x: Value, perm: readonly number[]): Value {
    const r = x.shape.length;
    if (perm.length !== r || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
      this.fail('Transpose', `perm [${perm}] is not a permutation of rank ${r}`);
    }
    for (const rule of RULES.transpose) {
      const r = rule(this, x, perm);
      if (r) return r;
    }
    // One node per (value, perm): the reverse pass transposes the same operand once per use.
    const key = `${x.name}|${perm.join(',')}`;
    const known = this.transposes.get(key);
    if (known) return known;
    const out = this.one(
      'Transpose',
      [x],
      perm.map((p) => x.shape[p]!),
      x.dtype,
      { perm: ints(perm) },
    );
    this.transposes.set(key, out);
    return out;
  }

  /** Swaps the last two axes. */
  transposeLast(x: Value): Value {
    return this.transpose(x, lastSwap(x.shape.length));
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
    return this.one(
      'Squeeze',
      [x, this.int64s(norm)],
      x.shape.filter((_, i) => !norm.includes(i)),
      x.dtype,
    );
  }

  private reduced(op: Op, x: Value, axes: readonly number[], keepdims: boolean): { norm: number[]; shape: number[] } {
    const norm = axes.map((a) => this.axis(op, a, x.shape.length));
    const shape = keepdims ? x.shape.map((d, i) => (norm.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !norm.includes(i));
    return { norm, shape };
  }

  /** ReduceSum (opset 13+: axes as an input). */
  reduceSum(x: Value, axes: readonly number[], keepdims = true): Value {
    const { norm, shape } = this.reduced('ReduceSum', x, axes, keepdims);
    const rewritten = this.reduceRules('ReduceSum', x, norm, shape, keepdims);
    if (rewritten) return rewritten;
    return this.one('ReduceSum', [x, this.int64s(norm)], shape, x.dtype, { keepdims: int(keepdims ? 1 : 0) });
  }

  private reduceRules(op: 'ReduceSum' | 'ReduceMean', x: Value, norm: readonly number[], shape: readonly number[], keepdims: boolean): Value | undefined {
    for (const rule of RULES.reduce) {
      const r = rule(this, op, x, norm, shape, keepdims);
      if (r) return r;
    }
    return undefined;
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
    const rewritten = this.reduceRules('ReduceMean', x, norm, shape, keepdims);
    if (rewritten) return rewritten;
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
    const range = this.constant(
      Array.from({ length: depth }, (_, i) => i),
      [depth],
      { dtype: 'int64' },
    );
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
    if (gamma.shape.join() !== String(d) || beta.shape.join() !== String(d))
      this.fail('LayerNormalization', `γ ${fmt(gamma.shape)} and β ${fmt(beta.shape)} must be [${d}]`);
    const dtype = this.sameDtype('LayerNormalization', x, gamma, beta);
    if (dtype === 'float64') {
      const centred = this.sub(x, this.reduceMean(x, [-1]));
      const variance = this.reduceMean(this.mul(centred, centred), [-1]);
      return this.add(this.mul(this.div(centred, this.sqrt(this.add(variance, this.scalar(eps)))), gamma), beta);
    }
    const stats = [...x.shape.slice(0, -1), 1];
    // μ and 1/σ are float32 (float16 graphs cast them in the gradient rule).
    const stash: DType = 'float32';
    const outs = [
      { shape: x.shape, dtype },
      { shape: stats, dtype: stash },
      { shape: stats, dtype: stash },
    ];
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
    return this.one('ScatterND', [this.fill(shape, 0), this.unsqueeze(indices, [-1]), updates], shape, updates.dtype, {
      reduction: { type: 'string', value: 'add' },
    });
  }

  /**
   * The graph computing `outputs`, after the build passes of rewrites.ts: last-axis Slices pushed
   * into the ops that made their input, graph outputs written without Identity copies, and only
   * the nodes the outputs need, each after its inputs' producers.
   */
  build(outputs: readonly Value[]): Graph {
    return buildGraph(this, outputs);
  }
}

/** The key of a Concat of `xs` along normalised axis `a`. */
const concatKey = (xs: readonly Value[], a: number) => `${xs.map((x) => x.name).join(',')}|${a}`;
