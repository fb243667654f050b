/**
 * The limit model for people: the per-node profile of a bench record (time, bound, fraction,
 * largest gaps first), the line under the bench table, and `performer roofline`'s tables of
 * measured rates (per product case: GFLOP/s, when measured, how noisy).
 */
import { type NodeBound, addBytes, caseDims, caseKey, parseCaseKey } from '../limit/analyse.ts';
import type { BenchDocument, BenchRecord, MachineLimits, RateEntry, Roofline } from '../bench/types.ts';
import { mode, ms, pct } from './bench-table.ts';
import { renderTable } from './terminal.ts';

/** Rows of a profile table shown per record; the rest are summed in one line. */
const PROFILE_ROWS = 12;

const when = (iso: string) => iso.replace('T', ' ').slice(0, 16);
const gflops = (x: number) => x.toPrecision(3);

/** `--profile`: per node, ONNX Runtime's time, the bound and their ratio, largest gap (time − bound) first. */
export function profileTable(r: BenchRecord, top = PROFILE_ROWS): string[] {
  const rows = r.nodeProfile ?? [];
  const traced = rows.reduce((s, x) => s + (x.ms ?? 0), 0);
  const bounded = rows.some((x) => x.boundMs !== null);
  const head = `profile: ${r.kernel} ${r.pass} ${mode(r)} L=${r.seqLen}: ${ms(traced)} ms per run over ${rows.filter((x) => x.ms !== null).length} nodes in ONNX Runtime's trace`;
  const limit = r.limitMs !== null && r.limitMs !== undefined ? `; limit ${ms(r.limitMs)} ms, ${pct(r.limitFraction)} of the median` : '';
  const shown = rows.slice(0, top);
  const table = renderTable(
    ['node', 'op', 'ms', ...(bounded ? ['bound ms', '% limit', 'gap ms'] : [])],
    shown.map((x) => [
      x.node,
      x.op,
      ms(x.ms),
      ...(bounded ? [ms(x.boundMs), x.ms && x.boundMs !== null ? pct(x.boundMs / x.ms) : '–', ms((x.ms ?? 0) - (x.boundMs ?? 0))] : []),
    ]),
  );
  const rest = rows.slice(top);
  const notes = [
    ...(rest.length
      ? [`(${rest.length} more nodes: ${ms(rest.reduce((s, x) => s + (x.ms ?? 0), 0))} ms, bound ${ms(rest.reduce((s, x) => s + (x.boundMs ?? 0), 0))} ms)`]
      : []),
    ...(shown.some((x) => x.ms === null) ? ['(ms – : ONNX Runtime fused the node into a neighbour, whose time includes it)'] : []),
  ];
  return [head + limit, table, ...notes];
}

/** The line under the bench table: the rates the limits were priced at. */
export function limitFooter(doc: BenchDocument): string | null {
  const l = doc.limits;
  if (!l) return null;
  const rates = Object.values(l.matmul).map((e) => e.rate);
  // The slowest shape's rate (a tiny product's, often under 0.1 GFLOP/s) tells a reader nothing:
  // the fastest says what the machine can do, and `performer roofline` lists every shape.
  const range = rates.length ? `float32 MatMul up to ${gflops(Math.max(...rates))} GFLOP/s (${rates.length} product shapes)` : 'no product measured';
  const cached = Object.values(l.cachedBandwidth ?? {}).map((e) => e.rate.toFixed(1));
  return `limit model: ${range}, elementwise ${l.bandwidth.rate.toFixed(1)} GB/s${cached.length ? ` (${cached.join(', ')} GB/s in cache)` : ''} (best rates seen on this machine; \`performer roofline\` lists them)`;
}

/** One product case's cells: the case, batch, M×K×N. */
function caseCells(key: string): string[] {
  const c = parseCaseKey(key);
  if (!c) return [key, '', ''];
  const d = caseDims(c);
  return [key, String(d.batch), `${d.m}×${d.k}×${d.n}`];
}

const flopsOf = (key: string) => {
  const c = parseCaseKey(key);
  return c ? caseDims(c).flops : 0;
};

const rateCells = (e: RateEntry | undefined) => (e ? [gflops(e.rate), when(e.measuredAt), pct(e.noise), String(e.sessions)] : ['not measured', '', '', '']);

/** The single-number roofline and every cached product rate of this machine (none when the cache could not be written). */
export function cachedLines(roofline: Roofline, limits: MachineLimits | null): string[] {
  const n = roofline.matmulSize;
  const line = `roofline: ${roofline.matmulGflops.toFixed(1)} GFLOP/s float32 matmul (${n}×${n}×${n}), elementwise ${roofline.bandwidthGBps.toFixed(1)} GB/s (float32 Add, 12 bytes per element)`;
  if (!limits) return [line];
  const keys = Object.keys(limits.matmul).sort((a, b) => flopsOf(b) - flopsOf(a));
  return [
    line,
    renderTable(
      ['product (A * B)', 'batch', 'M×K×N', 'GFLOP/s', 'best measured', 'noise', 'runs'],
      keys.map((k) => [...caseCells(k), ...rateCells(limits.matmul[k])]),
    ),
    ...machineLines(limits),
  ];
}

function machineLines(l: MachineLimits): string[] {
  const bw = l.bandwidth;
  return [
    `elementwise bandwidth: ${bw.rate.toFixed(1)} GB/s, best measured ${when(bw.measuredAt)}, noise ${pct(bw.noise)}, ${bw.sessions} run${bw.sessions > 1 ? 's' : ''}`,
    ...Object.entries(l.cachedBandwidth ?? {}).map(
      ([n, e]) =>
        `  in cache (nodes up to ${(addBytes(Number(n)) / 2 ** 20).toFixed(1)} MiB): ${e.rate.toFixed(1)} GB/s, best measured ${when(e.measuredAt)}, noise ${pct(e.noise)}`,
    ),
    `each rate is the best ever measured on this machine (fingerprint ${l.fingerprint}, ${l.ep}${l.threads ? `, ${l.threads} threads` : ''}); noise = (median − best) / best of that measurement's repeats`,
  ];
}

/** One graph's limit: per product case, its rate and share of the bound; then the elementwise part. */
export function graphLimitLines(title: string, bounds: readonly NodeBound[], limits: MachineLimits): string[] {
  const byCase = new Map<string, { nodes: number; ms: number }>();
  for (const b of bounds) {
    if (b.kind !== 'matmul') continue;
    const key = b.matmul ? caseKey(b.matmul) : `${b.op} (at the fallback rate)`;
    const acc = byCase.get(key) ?? { nodes: 0, ms: 0 };
    byCase.set(key, { nodes: acc.nodes + 1, ms: acc.ms + b.ms });
  }
  const sum = (f: (b: NodeBound) => boolean) => bounds.filter(f).reduce((s, b) => s + b.ms, 0);
  const [matmulMs, bytesMs] = [sum((b) => b.kind === 'matmul'), sum((b) => b.kind === 'bytes')];
  const bytes = bounds.reduce((s, b) => s + b.bytes, 0);
  const rows = [...byCase.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([k, v]) => [...caseCells(k), String(v.nodes), ms(v.ms), ...rateCells(limits.matmul[k])]);
  return [
    `${title}: limit ${ms(matmulMs + bytesMs)} ms = products ${ms(matmulMs)} ms + elementwise ${ms(bytesMs)} ms (${(bytes / 2 ** 20).toFixed(0)} MiB moved by ${bounds.filter((b) => b.kind === 'bytes').length} nodes; ${bounds.filter((b) => b.kind === 'free').length} nodes free)`,
    renderTable(['product (A * B)', 'batch', 'M×K×N', 'nodes', 'bound ms', 'GFLOP/s', 'best measured', 'noise', 'runs'], rows),
    ...machineLines(limits),
  ];
}
