/**
 * A small typed graph IR: every value has a static shape and dtype, every node carries an ONNX
 * op name spelled as ONNX spells it. Pure data: no ONNX Runtime and no protobuf here.
 */

/** Element types the IR supports. float16 is only serialised; host data is float32/float64. */
export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'bool';

export const FLOAT_DTYPES: readonly DType[] = ['float32', 'float64', 'float16'];

/** ONNX TensorProto.DataType code of each dtype (onnx.proto): tensor types and Cast's `to`. */
export const ONNX_ELEM_TYPE: Readonly<Record<DType, number>> = { float32: 1, float64: 11, float16: 10, int64: 7, bool: 9 };

/** A named tensor value with a static shape. */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** ONNX attribute, tagged so ints and floats are never confused. */
export type Attr =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: Initializer };

/** Ops with a gradient rule (src/autodiff/rules.ts must have one for each: a compile error otherwise). */
export const DIFFERENTIABLE_OPS = [
  'Identity',
  'Neg',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Max',
  'Exp',
  'Log',
  'Sqrt',
  'Sin',
  'Cos',
  'Relu',
  'Elu',
  'MatMul',
  'Transpose',
  'Reshape',
  'Expand',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Slice',
  'ReduceSum',
  'ReduceMean',
  'ReduceMax',
  'Softmax',
  'CumSum',
  'Where',
  'Trilu',
  'Gather',
  'LayerNormalization',
] as const;
/**
 * Ops the builder emits that are never differentiated: comparisons and Abs feed only boolean
 * guards, Cast turns such masks into numbers (one-hot codes, gradient masks), ScatterND only
 * carries Gather's gradient, ReduceMin only stop-gradient shifts, OneHot integer tokens, and the fused
 * MultiHeadAttention (com.microsoft) has no backward graph.
 */
export const NON_DIFFERENTIABLE_OPS = ['Abs', 'Equal', 'LessOrEqual', 'Greater', 'Cast', 'ReduceMin', 'OneHot', 'ScatterND', 'MultiHeadAttention'] as const;

export type DifferentiableOp = (typeof DIFFERENTIABLE_OPS)[number];
/** Every op a graph can hold, spelled as ONNX spells it. */
export type Op = DifferentiableOp | (typeof NON_DIFFERENTIABLE_OPS)[number];

export const isDifferentiable = (op: Op): op is DifferentiableOp => (DIFFERENTIABLE_OPS as readonly Op[]).includes(op);

export interface Node {
  readonly name: string;
  readonly op: Op;
  readonly domain: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, Attr>>;
  /** Constant for differentiation (a stabiliser shift, docs/formulas.md §3): autodiff passes no gradient. */
  readonly stopGradient?: boolean;
}

export type HostData = Float32Array | Float64Array | BigInt64Array | Uint8Array;

/** A constant tensor stored in the model. */
export interface Initializer {
  readonly value: Value;
  readonly data: HostData;
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly nodes: readonly Node[];
  readonly initializers: readonly Initializer[];
}

export const int = (value: number): Attr => ({ type: 'int', value });
export const float = (value: number): Attr => ({ type: 'float', value });
export const ints = (value: readonly number[]): Attr => ({ type: 'ints', value });

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes per element of a dtype. */
export function dtypeBytes(dtype: DType): number {
  return { float32: 4, float64: 8, float16: 2, int64: 8, bool: 1 }[dtype];
}
