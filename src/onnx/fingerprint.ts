/**
 * Graph fingerprints: a hash of what ONNX Runtime is given to run, so a result can say which graph
 * it timed and `performer reproduce --status` can tell whether today's code builds the same one.
 *
 * The canonical form is the graph's structure (inputs, outputs, every node's op, domain, value
 * names, shapes, dtypes and attributes, in order) and its constants. Constants drawn from the seed
 * (random projections, the parameters of a whole-model graph, values derived from them) must not
 * change the hash, while a constant of the code (ε, a scale, a mask) must: the caller builds the
 * graph a second time with another seed, and a constant whose bytes differ between the two builds
 * is hashed by name, dtype and shape only. Pure: no ONNX Runtime here.
 */
import { createHash } from 'node:crypto';
import type { Attr, Graph, HostData, Initializer, Value } from './ir.ts';

const bytes = (d: HostData) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
const val = (v: Value) => `${v.name}:${v.dtype}[${v.shape.join(',')}]`;

function attr(a: Attr, seeded: ReadonlySet<string>): string {
  if (a.type === 'tensor') return `tensor(${init(a.value, seeded)})`;
  if (a.type === 'float') return `float(${Object.is(a.value, -0) ? '-0' : a.value.toString()})`;
  return `${a.type}(${JSON.stringify(a.value)})`;
}

function init(i: Initializer, seeded: ReadonlySet<string>): string {
  return seeded.has(i.value.name) ? `${val(i.value)}=seeded` : `${val(i.value)}=${createHash('sha256').update(bytes(i.data)).digest('hex')}`;
}

/** Names of the constants whose bytes differ between two builds of one graph with different seeds. */
function seededConstants(a: Graph, b: Graph): Set<string> {
  const other = new Map(b.initializers.map((i) => [i.value.name, i]));
  const out = new Set<string>();
  for (const i of a.initializers) {
    const j = other.get(i.value.name);
    if (!j || !bytes(i.data).equals(bytes(j.data))) out.add(i.value.name);
  }
  for (const n of a.nodes)
    for (const [k, x] of Object.entries(n.attrs))
      if (x.type === 'tensor') {
        const twin = b.nodes.find((m) => m.name === n.name)?.attrs[k];
        if (!twin || twin.type !== 'tensor' || !bytes(x.value.data).equals(bytes(twin.value.data))) out.add(x.value.value.name);
      }
  return out;
}

/**
 * The fingerprint of graph `g`: 16 hex digits of a SHA-256 over the canonical form, with the
 * constants that differ in `twin` (the same graph built with another seed) counted by shape only.
 * Where the two differ in structure (a rule that changes the graph with the seed), `g`'s counts.
 */
export function graphFingerprint(g: Graph, twin: Graph): string {
  const seeded = seededConstants(g, twin);
  const h = createHash('sha256');
  const line = (s: string) => h.update(`${s}\n`);
  line(`inputs ${g.inputs.map(val).join(' ')}`);
  line(`outputs ${g.outputs.map(val).join(' ')}`);
  for (const i of [...g.initializers].sort((x, y) => (x.value.name < y.value.name ? -1 : 1))) line(`init ${init(i, seeded)}`);
  for (const n of g.nodes) {
    const attrs = Object.keys(n.attrs)
      .sort()
      .map((k) => `${k}=${attr(n.attrs[k]!, seeded)}`)
      .join(' ');
    line(`node ${n.op}@${n.domain} ${n.inputs.map(val).join(' ')} -> ${n.outputs.map(val).join(' ')} ${attrs}${n.stopGradient ? ' stop' : ''}`);
  }
  return h.digest('hex').slice(0, 16);
}
