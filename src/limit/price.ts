/**
 * Prices measured records with the limit model: each record's graph is analysed (limit/analyse.ts),
 * the products of all of them are measured once per distinct case (or read from the cache), and
 * every record gets its limitMs and, with `--profile`, the bound beside each node's time.
 */
import type { ExecutionProvider } from '../runtime/session.ts';
import { type LimitRates, type NodeBound, addBytes, analyseGraph, caseKey, distinctCases, limitMs, nodeBounds } from './analyse.ts';
import { type EnsureOptions, ensureRates } from './rates.ts';
import { pointGraph } from '../bench/graph.ts';
import { SQUARE_CASE } from './roofline.ts';
import type { BenchPoint, BenchRecord, MachineLimits, NodeTime, ProfileNode } from '../bench/types.ts';

export interface PriceOptions extends EnsureOptions {
  readonly ep: ExecutionProvider;
  readonly threads: number | null;
}

/** The plain rates of cached entries; a product without a measured case is priced at the square product's rate. */
export function ratesOf(limits: MachineLimits): LimitRates {
  const matmulGflops = Object.fromEntries(Object.entries(limits.matmul).map(([k, e]) => [k, e.rate]));
  const measured = Object.values(matmulGflops);
  const fallbackGflops = matmulGflops[caseKey(SQUARE_CASE)] ?? (measured.length ? Math.max(...measured) : Infinity);
  const cachedGBps = Object.entries(limits.cachedBandwidth ?? {})
    .map(([elements, e]) => ({ footprintBytes: addBytes(Number(elements)), gbps: e.rate }))
    .sort((a, b) => a.footprintBytes - b.footprintBytes);
  return { bandwidthGBps: limits.bandwidth.rate, ...(cachedGBps.length ? { cachedGBps } : {}), matmulGflops, fallbackGflops };
}

/**
 * Each node's time beside its bound, largest gap (time − bound) first: nodes the trace shows
 * (under ONNX Runtime's op name), then nodes with a bound the trace does not show (fused into a
 * neighbour: their time is in that neighbour's).
 */
export function profileNodes(times: readonly NodeTime[], bounds: readonly NodeBound[] | null): ProfileNode[] {
  const bound = new Map(bounds?.map((b) => [b.node, b.ms]));
  const timed = new Set(times.map((t) => t.node));
  // Of two equal nodes ONNX Runtime keeps one, not always the first: the bound goes with the one it ran.
  for (const b of bounds ?? []) {
    if (!b.duplicateOf || !timed.has(b.node) || timed.has(b.duplicateOf)) continue;
    bound.set(b.node, bound.get(b.duplicateOf) ?? 0);
    bound.set(b.duplicateOf, 0);
  }
  const rows: ProfileNode[] = [
    ...times.map((t) => ({ node: t.node, op: t.op, ms: t.ms, boundMs: bounds ? (bound.get(t.node) ?? 0) : null })),
    ...(bounds ?? [])
      .filter((b) => (bound.get(b.node) ?? 0) > 0 && !timed.has(b.node))
      .map((b) => ({ node: b.node, op: b.op, ms: null, boundMs: bound.get(b.node)! })),
  ];
  const gap = (r: ProfileNode) => (r.ms ?? 0) - (r.boundMs ?? 0);
  return rows.sort((x, y) => gap(y) - gap(x));
}

/**
 * The records with limitMs and profile bounds, and the rates they were priced at. Only float32
 * records that ran are priced: the rates are float32 MatMul's (other dtypes keep limitMs null).
 * Training steps (scope train) keep limitMs null: their host optimiser is outside the model.
 */
export async function priceRecords(records: readonly BenchRecord[], o: PriceOptions): Promise<{ records: BenchRecord[]; limits: MachineLimits }> {
  const priced = (r: BenchRecord) => r.status === 'ok' && r.dtype === 'float32' && r.scope !== 'train';
  const costs = new Map(records.filter(priced).map((r) => [r, analyseGraph(pointGraph(r))]));
  const cases = [SQUARE_CASE, ...distinctCases([...costs.values()].flat())];
  const limits = await ensureRates(cases, o.ep, o.threads, o);
  const rates = ratesOf(limits);
  const out = records.map((r) => {
    const c = costs.get(r);
    if (!c) return r;
    const bounds = nodeBounds(c, rates);
    const times = r.nodeProfile?.map((p) => ({ node: p.node, op: p.op, ms: p.ms ?? 0 })).filter((p) => p.ms > 0);
    return { ...r, limitMs: limitMs(bounds), nodeProfile: times ? profileNodes(times, bounds) : r.nodeProfile };
  });
  return { records: out, limits };
}

/** One point's graph through the limit model: its limit, each node's bound and the rates used. */
export async function graphLimit(point: BenchPoint, o: PriceOptions): Promise<{ limitMs: number; bounds: NodeBound[]; limits: MachineLimits }> {
  const costs = analyseGraph(pointGraph(point));
  const limits = await ensureRates([SQUARE_CASE, ...distinctCases(costs)], o.ep, o.threads, o);
  const bounds = nodeBounds(costs, ratesOf(limits));
  return { limitMs: limitMs(bounds), bounds, limits };
}
