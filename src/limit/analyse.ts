/**
 * The per-shape limit model: a lower bound on the time ONNX Runtime needs to run a graph on this
 * machine, node by node, read off our IR (after our builder, before ONNX Runtime's optimiser).
 *
 * - A MatMul costs its FLOPs at the rate ONNX Runtime's float32 MatMul reaches at that very shape:
 *   operand shapes, batch broadcasting, orientation (an operand made by a last-two-axes Transpose
 *   runs as a transposed operand of one FusedMatMul) and whether B is a constant (prepacked).
 *   The rates are measured by limit/rates.ts.
 * - Nodes ONNX Runtime does not execute cost nothing: shape-only ops (Reshape, Squeeze, Unsqueeze,
 *   Identity); a last-two-axes Transpose read only by MatMuls (MatmulTransposeFusion); a Mul or
 *   Div by a one-element constant next to a MatMul (MatMulScaleFusion, the same conditions);
 *   nodes whose inputs are all constants (folded when the session loads); a repeat of an earlier
 *   node (common-subexpression elimination).
 * - Every other node costs the bytes it moves (each distinct input read at its own size, so a
 *   broadcast operand counts its actual elements, plus every output written) at the measured
 *   elementwise bandwidth.
 *
 * The graph's limit is the sum over nodes: ONNX Runtime's CPU provider runs nodes one at a time,
 * so nothing overlaps.
 */
import { type Graph, type Node, type Value, dtypeBytes, numel } from '../onnx/ir.ts';
import { nodeFlops } from './cost.ts';

/** How ONNX Runtime runs a product's operands: transposed in place (FusedMatMul) or as stored. */
export interface Orientation {
  readonly transA: boolean;
  readonly transB: boolean;
}

/** A product's operands as stored (before a fused transpose), leading 1s dropped. */
export interface MatMulShape {
  readonly a: readonly number[];
  readonly b: readonly number[];
  /** B is an initializer (or folded into one): ONNX Runtime prepacks it. */
  readonly constantB: boolean;
}

export interface MatMulCase {
  readonly shape: MatMulShape;
  readonly orientation: Orientation;
}

/** Why a node costs nothing. */
export type FreeReason = 'shape-only' | 'fused transpose' | 'fused scale' | 'folded' | 'duplicate';

export interface NodeCost {
  readonly node: string;
  readonly op: string;
  readonly kind: 'matmul' | 'bytes' | 'free';
  readonly why?: FreeReason;
  /** A duplicate's first occurrence: ONNX Runtime may keep either of the two. */
  readonly duplicateOf?: string;
  readonly flops: number;
  readonly bytes: number;
  /** The measured case a MatMul's rate comes from (MultiHeadAttention has none: the fallback rate). */
  readonly matmul?: MatMulCase;
}

/**
 * Bytes a float32 Add of two `elements`-element tensors moves (two read, one written): how the
 * bandwidths are measured (rates.ts) and the footprint a cache-resident rate holds for.
 */
export const addBytes = (elements: number): number => 12 * elements;

/** The machine's rates the bounds are priced at. */
export interface LimitRates {
  readonly bandwidthGBps: number;
  /**
   * Faster rates for nodes whose bytes fit a measured cache-resident footprint, smallest first:
   * a node is priced at the first whose footprint holds its bytes, else at bandwidthGBps.
   */
  readonly cachedGBps?: readonly { readonly footprintBytes: number; readonly gbps: number }[];
  /** GFLOP/s per {@link caseKey}. */
  readonly matmulGflops: Readonly<Record<string, number>>;
  /** For products without a measured case: a large square product's rate. */
  readonly fallbackGflops: number;
}

export interface NodeBound extends NodeCost {
  readonly ms: number;
}

const SHAPE_ONLY = new Set<string>(['Reshape', 'Squeeze', 'Unsqueeze', 'Identity']);

/** Drops leading size-1 axes (down to rank 2): [1, 8, L, d] runs as [8, L, d]. */
const squeezeLead = (s: readonly number[]) => {
  let i = 0;
  while (s.length - i > 2 && s[i] === 1) i++;
  return s.slice(i);
};

/** The cache key and label of a case, e.g. `8x4096x256^T * 8x4096x65` or `8x4096x64 * 64x256 (const B)`. */
export function caseKey(c: MatMulCase): string {
  const { a, b, constantB } = c.shape;
  return `${a.join('x')}${c.orientation.transA ? '^T' : ''} * ${b.join('x')}${c.orientation.transB ? '^T' : ''}${constantB ? ' (const B)' : ''}`;
}

/** Batch count (broadcast leading axes), M, K, N and FLOPs (2·batch·M·K·N) of a case. */
export function caseDims(c: MatMulCase): { batch: number; m: number; k: number; n: number; flops: number } {
  const { a, b } = c.shape;
  const [a0, a1] = a.slice(-2) as [number, number];
  const [b0, b1] = b.slice(-2) as [number, number];
  const [m, k] = c.orientation.transA ? [a1, a0] : [a0, a1];
  const n = c.orientation.transB ? b0 : b1;
  const [x, y] = [a.slice(0, -2), b.slice(0, -2)];
  const rank = Math.max(x.length, y.length);
  let batch = 1;
  for (let i = 0; i < rank; i++) batch *= Math.max(x[x.length - rank + i] ?? 1, y[y.length - rank + i] ?? 1);
  return { batch, m, k, n, flops: 2 * batch * m * k * n };
}

/** Who makes and who reads each value, and which values are constant once the session has folded. */
class GraphFacts {
  readonly producer = new Map<string, Node>();
  readonly consumers = new Map<string, Node[]>();
  readonly outputs: Set<string>;
  readonly constant: Set<string>;
  readonly folded = new Set<Node>();

  constructor(g: Graph) {
    this.outputs = new Set(g.outputs.map((v) => v.name));
    this.constant = new Set(g.initializers.map((i) => i.value.name));
    for (const n of g.nodes) {
      for (const o of n.outputs) this.producer.set(o.name, n);
      for (const v of new Set(n.inputs)) this.consumers.set(v.name, [...(this.consumers.get(v.name) ?? []), n]);
      if (n.inputs.length && n.inputs.every((v) => this.constant.has(v.name))) {
        this.folded.add(n);
        for (const o of n.outputs) this.constant.add(o.name);
      }
    }
  }

  readers = (v: Value) => this.consumers.get(v.name) ?? [];

  /** A Transpose swapping the last two axes, run by ONNX Runtime (not folded, not a graph output). */
  isLastSwap(n: Node | undefined): n is Node {
    if (n?.op !== 'Transpose' || this.folded.has(n) || this.outputs.has(n.outputs[0]!.name)) return false;
    const perm = n.attrs.perm?.type === 'ints' ? n.attrs.perm.value : [];
    const r = perm.length;
    return r >= 2 && perm.every((p, i) => p === (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
  }

  /** Read only by MatMuls (directly or through last-axes Transposes that fuse into them). */
  feedsOnlyMatMuls(v: Value): boolean {
    const readers = this.readers(v);
    return (
      readers.length > 0 && !this.outputs.has(v.name) && readers.every((c) => c.op === 'MatMul' || (this.isLastSwap(c) && this.feedsOnlyMatMuls(c.outputs[0]!)))
    );
  }

  /** The index of the scaled operand when `n` is a Mul or Div by a one-element constant. */
  scaled(n: Node): number | null {
    const scalar = (i: number) =>
      this.constant.has(n.inputs[i]!.name) &&
      numel(n.inputs[i]!.shape) === 1 &&
      n.inputs[i]!.shape.length <= n.inputs[1 - i]!.shape.length &&
      n.inputs[1 - i]!.shape.length > 0;
    if (n.op === 'Div') return scalar(1) ? 0 : null;
    if (n.op === 'Mul') return scalar(1) ? 0 : scalar(0) ? 1 : null;
    return null;
  }
}

/** The operand a MatMul reads, as ONNX Runtime runs it: a fusable Transpose's input, transposed. */
function operand(facts: GraphFacts, v: Value): { shape: readonly number[]; trans: boolean; name: string } {
  const p = facts.producer.get(v.name);
  return facts.isLastSwap(p) ? { shape: p.inputs[0]!.shape, trans: true, name: p.inputs[0]!.name } : { shape: v.shape, trans: false, name: v.name };
}

function whyFree(n: Node, facts: GraphFacts): FreeReason | null {
  if (facts.folded.has(n)) return 'folded';
  if (SHAPE_ONLY.has(n.op)) return 'shape-only';
  if (facts.isLastSwap(n) && facts.feedsOnlyMatMuls(n.outputs[0]!)) return 'fused transpose';
  const x = facts.scaled(n);
  if (x === null) return null;
  const p = facts.producer.get(n.inputs[x]!.name);
  const trailing = p?.op === 'MatMul' && !facts.folded.has(p) && !facts.outputs.has(p.outputs[0]!.name) && facts.readers(p.outputs[0]!).length === 1;
  return trailing || facts.feedsOnlyMatMuls(n.outputs[0]!) ? 'fused scale' : null;
}

const bytesOf = (vs: readonly Value[]) => vs.reduce((s, v) => s + numel(v.shape) * dtypeBytes(v.dtype), 0);

/** Each node's cost: free, bytes moved, or a product with its measured case (see the module comment). */
export function analyseGraph(g: Graph): NodeCost[] {
  const facts = new GraphFacts(g);
  const seen = new Map<string, string>();
  return g.nodes.map((n): NodeCost => {
    const base = { node: n.name, op: n.op, flops: 0, bytes: 0 };
    const why = whyFree(n, facts);
    if (why) return { ...base, kind: 'free', why };
    const key = `${n.op}|${n.domain}|${n.inputs.map((v) => v.name).join(',')}|${JSON.stringify(n.attrs)}`;
    const first = seen.get(key);
    if (first) return { ...base, kind: 'free', why: 'duplicate', duplicateOf: first };
    seen.set(key, n.name);
    if (n.op === 'MultiHeadAttention') return { ...base, kind: 'matmul', flops: nodeFlops(n) };
    // An input read twice (x·x) crosses the memory bus once.
    if (n.op !== 'MatMul') return { ...base, kind: 'bytes', bytes: bytesOf([...new Map(n.inputs.map((v) => [v.name, v])).values()]) + bytesOf(n.outputs) };
    const [a, b] = [operand(facts, n.inputs[0]!), operand(facts, n.inputs[1]!)];
    const matmul = {
      shape: { a: squeezeLead(a.shape), b: squeezeLead(b.shape), constantB: facts.constant.has(b.name) },
      orientation: { transA: a.trans, transB: b.trans },
    };
    return { ...base, kind: 'matmul', flops: nodeFlops(n), matmul };
  });
}

/** The distinct products of some analysed graphs, one per {@link caseKey}. */
export function distinctCases(costs: Iterable<NodeCost>): MatMulCase[] {
  const out = new Map<string, MatMulCase>();
  for (const c of costs) if (c.matmul) out.set(caseKey(c.matmul), c.matmul);
  return [...out.values()];
}

/** Each node's bound in ms at the given rates. */
export function nodeBounds(costs: readonly NodeCost[], rates: LimitRates): NodeBound[] {
  return costs.map((c) => {
    if (c.kind === 'bytes') {
      const cached = rates.cachedGBps?.find((r) => c.bytes <= r.footprintBytes);
      return { ...c, ms: c.bytes / (Math.max(cached?.gbps ?? 0, rates.bandwidthGBps) * 1e6) };
    }
    if (c.kind === 'free') return { ...c, ms: 0 };
    const gflops = (c.matmul && rates.matmulGflops[caseKey(c.matmul)]) || rates.fallbackGflops;
    return { ...c, ms: c.flops / (gflops * 1e6) };
  });
}

/** The graph's limit: the sum of its nodes' bounds, ms. */
export const limitMs = (bounds: readonly NodeBound[]): number => bounds.reduce((s, b) => s + b.ms, 0);

/** The case a {@link caseKey} names, or null for a key of another form. */
export function parseCaseKey(key: string): MatMulCase | null {
  const m = /^([\dx]+)(\^T)? \* ([\dx]+)(\^T)?( \(const B\))?$/.exec(key);
  if (!m) return null;
  const dims = (s: string) => s.split('x').map(Number);
  return { shape: { a: dims(m[1]!), b: dims(m[3]!), constantB: Boolean(m[5]) }, orientation: { transA: Boolean(m[2]), transB: Boolean(m[4]) } };
}
