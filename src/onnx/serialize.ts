/**
 * Serialises the IR to an ONNX ModelProto (protobuf bytes) with the onnx-proto messages.
 * Opset 17 (default domain) and com.microsoft 1 for the fused attention op.
 */
import onnxProto from 'onnx-proto';
import { type Attr, type DType, type Graph, type HostData, type Initializer, ONNX_ELEM_TYPE, type Value } from './ir.ts';

const { onnx } = onnxProto;

/** The default-domain opset every graph declares. */
export const OPSET = 17;
/** IR version 8 (ONNX 1.10+), what the onnx-proto messages describe. */
const IR_VERSION = 8;

/** The ONNX TensorProto element type of a dtype. */

function valueInfo(v: Value) {
  return {
    name: v.name,
    type: { tensorType: { elemType: ONNX_ELEM_TYPE[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

/** float64 → IEEE half bits (round to nearest even), for float16 initializers. */
export function toHalfBits(x: number): number {
  const f32 = new Float32Array([x]);
  const u = new Uint32Array(f32.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (((u >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - exp);
    return sign | ((m + 0x1000 + ((m >>> 13) & 1) - 1) >>> 13);
  }
  const half = sign | (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return rest > 0x1000 || (rest === 0x1000 && half & 1) ? half + 1 : half;
}

function tensorProto(init: Initializer) {
  const { value, data } = init;
  const bytes = rawBytes(value.dtype, data);
  return { name: value.name, dims: [...value.shape], dataType: ONNX_ELEM_TYPE[value.dtype], rawData: bytes };
}

function rawBytes(dtype: DType, data: HostData): Uint8Array {
  if (dtype === 'float16') {
    const half = Uint16Array.from(data as Float64Array, toHalfBits);
    return new Uint8Array(half.buffer);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function attribute(name: string, a: Attr) {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorProto(a.value) };
  }
}

/** Encodes a graph as ModelProto bytes, ready for ONNX Runtime or Netron. */
export function serializeModel(graph: Graph, opts: { docString?: string } = {}): Uint8Array {
  const domains = new Set(graph.nodes.map((n) => n.domain).filter((d) => d !== ''));
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'performer',
    docString: opts.docString ?? '',
    opsetImport: [{ domain: '', version: OPSET }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
    graph: {
      name: graph.name,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
      initializer: graph.initializers.map(tensorProto),
      node: graph.nodes.map((n) => ({
        name: n.name,
        opType: n.op,
        domain: n.domain,
        input: n.inputs.map((v) => v.name),
        output: n.outputs.map((v) => v.name),
        attribute: Object.entries(n.attrs).map(([k, a]) => attribute(k, a)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** IEEE half bits → number (for reading float16 outputs). */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
