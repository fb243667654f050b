/**
 * The graph under construction: its names, inputs, constants and nodes, the checks every op
 * constructor makes, and the questions rewrites ask (who produced a value, is it all ones).
 * builder.ts adds the op constructors.
 */
import { GraphError } from '../errors.ts';
import { type Attr, type DType, type HostData, type Initializer, type Node, type Op, type Value, FLOAT_DTYPES, numel } from './ir.ts';
import { lastSwap } from './shapes.ts';

export type Shape = readonly number[];

export const fmt = (s: Shape) => `[${s.join(',')}]`;

export class GraphBase {
  readonly nodes: Node[] = [];
  /** Index in `nodes` of the node computing each value. */
  private readonly producers = new Map<string, number>();
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

  protected fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  protected claim(name: string): string {
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

  protected one(op: Op, inputs: readonly Value[], shape: Shape, dtype: DType, attrs: Record<string, Attr> = {}): Value {
    return this.node(op, inputs, [{ shape, dtype }], attrs)[0]!;
  }

  protected fail(op: Op, msg: string): never {
    throw new GraphError(`node ${op}_${this.counter} (${op}) in graph ${this.name}: ${msg}`);
  }

  protected axis(op: Op, axis: number, rank: number): number {
    const a = axis < 0 ? axis + rank : axis;
    if (!Number.isInteger(a) || a < 0 || a >= rank) this.fail(op, `axis ${axis} is out of range for rank ${rank}`);
    return a;
  }

  protected sameDtype(op: Op, ...vs: Value[]): DType {
    const d = vs[0]!.dtype;
    for (const v of vs) if (v.dtype !== d) this.fail(op, `mixed dtypes ${vs.map((x) => `${x.name}:${x.dtype}`).join(', ')}`);
    return d;
  }

  /** Constants the builder derives (a scalar at a column's rank, a row of ones), made once each. */
  private readonly derived = new Map<string, Value>();

  /** The constant derived under `key`, made by `make` the first time. */
  derivedConstant(key: string, make: () => Value): Value {
    if (!this.derived.has(key)) this.derived.set(key, make());
    return this.derived.get(key)!;
  }

  /** The node that computes `v`, or undefined for inputs and initializers. */
  producer(v: Value): Node | undefined {
    const i = this.producers.get(v.name);
    return i === undefined ? undefined : this.nodes[i];
  }

  /** The data of an initializer (constant axes, shapes and bounds read by gradient rules). */
  constantData(v: Value): Initializer['data'] | undefined {
    return this.initializers.find((i) => i.value.name === v.name)?.data;
  }

  /** Whether `v` is all ones: a constant, a fill, or a transpose of either. */
  isOnes(v: Value): boolean {
    const data = this.constantData(v);
    if (data) return Array.from(data as ArrayLike<number>).every((x) => Number(x) === 1);
    const p = this.producer(v);
    if (p?.op === 'Transpose') return this.isOnes(p.inputs[0]!);
    return this.isFill(v, 1);
  }

  /** Whether `v` is a `fill(shape, value)`: an Expand of a one-element constant equal to `value`. */
  isFill(v: Value, value: number): boolean {
    const p = this.producer(v);
    if (p?.op !== 'Expand') return false;
    const data = this.constantData(p.inputs[0]!);
    return data !== undefined && data.length === 1 && Number(data[0]) === value;
  }

  /** Whether `v` is the output of a Transpose that swaps its last two axes only (a `transposeLast`). */
  isTransposeLast(v: Value): boolean {
    const p = this.producer(v);
    if (p?.op !== 'Transpose' || p.attrs.perm?.type !== 'ints') return false;
    const perm = p.attrs.perm.value;
    return perm.length >= 2 && perm.join() === lastSwap(perm.length).join();
  }

  /** Renames a value to a stable graph-output name through an Identity node. */
  named(x: Value, name: string): Value {
    const node = this.fresh('Identity');
    const out: Value = { name: this.claim(name), dtype: x.dtype, shape: x.shape };
    this.producers.set(out.name, this.nodes.length);
    this.nodes.push({ name: node, op: 'Identity', domain: '', inputs: [x], outputs: [out], attrs: {} });
    return out;
  }
}

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
