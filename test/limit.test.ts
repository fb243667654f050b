import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { finishBench } from '../src/bench/finish.ts';
import { type LimitRates, analyseGraph, caseDims, caseKey, distinctCases, limitMs, nodeBounds, parseCaseKey } from '../src/limit/analyse.ts';
import { ensureRates, fingerprint, keepBest, limitsCachePath } from '../src/limit/rates.ts';
import { profileNodes } from '../src/limit/price.ts';
import type { BenchRecord, RateEntry } from '../src/bench/types.ts';
import type { Attr, DType, Graph, Node, Value } from '../src/onnx/ir.ts';
import { readResults } from '../src/results/read.ts';

const v = (name: string, shape: number[], dtype: DType = 'float32'): Value => ({ name, shape, dtype });
const node = (name: string, op: Node['op'], inputs: Value[], output: Value, attrs: Record<string, Attr> = {}): Node => ({
  name,
  op,
  domain: '',
  inputs,
  outputs: [output],
  attrs,
});
const perm = (p: number[]): Record<string, Attr> => ({ perm: { type: 'ints', value: p } });

/**
 * A graph written out by hand (not through the builder, whose rewrites change under it), with one
 * node of each kind the model tells apart. Hand count:
 *   free: Neg_c (inputs all constant: folded), Mul_s (scale after a MatMul read by nothing else),
 *         Tr_u (last-axes Transpose read only by a MatMul), Add_dup (repeats Add_b), Reshape_r
 *         (shape-only), Mul_in (scale read only by a MatMul);
 *   bytes: Exp_e 40·4 in + 40·4 out = 320; Add_b 48·4 + 6·4 (the broadcast bias at its own size)
 *          + 48·4 = 408; Tr_y (read by a Reshape, so it runs) 48·4·2 = 384; LE_m 16·4 + 1·4 + 16·1
 *          (bool) = 84; Mul_sq e·e reads e once: 40·4 + 40·4 = 320; total 1516;
 *   products: MatMul_1 [1,2,4,3]·[3,5] const = 2·2·4·3·5 = 240 FLOPs; MatMul_2 [2,4,5]·[2,6,5]ᵀ =
 *          2·2·4·5·6 = 480; MatMul_3 [2,4,6]·[6,2] = 2·2·4·6·2 = 192.
 */
function handGraph(): Graph {
  const [x, u, bias, kb] = [v('x', [1, 2, 4, 3]), v('u', [2, 6, 5]), v('bias', [6]), v('kb', [6, 2])];
  const [w, half, c, target] = [v('w', [3, 5]), v('half', []), v('c', [5]), v('target', [2], 'int64')];
  const nc = v('nc', [5]),
    m1 = v('m1', [1, 2, 4, 5]),
    s = v('s', [1, 2, 4, 5]),
    e = v('e', [1, 2, 4, 5]),
    ut = v('ut', [2, 5, 6]);
  const m2 = v('m2', [1, 2, 4, 6]),
    y = v('y', [1, 2, 4, 6]),
    y2 = v('y2', [1, 2, 4, 6]),
    yt = v('yt', [1, 2, 6, 4]),
    r = v('r', [12, 4]);
  const sy = v('sy', [1, 2, 4, 6]),
    m3 = v('m3', [1, 2, 4, 2]),
    le = v('le', [1, 2, 4, 2], 'bool'),
    sq = v('sq', [1, 2, 4, 5]);
  const data = (n: number) => new Float32Array(n).fill(0.5);
  return {
    name: 'hand',
    inputs: [x, u, bias, kb],
    outputs: [nc, r, le, sq],
    initializers: [
      { value: w, data: data(15) },
      { value: half, data: data(1) },
      { value: c, data: data(5) },
      { value: target, data: BigInt64Array.from([12n, 4n]) },
    ],
    nodes: [
      node('Neg_c', 'Neg', [c], nc),
      node('MatMul_1', 'MatMul', [x, w], m1),
      node('Mul_s', 'Mul', [m1, half], s),
      node('Exp_e', 'Exp', [s], e),
      node('Tr_u', 'Transpose', [u], ut, perm([0, 2, 1])),
      node('MatMul_2', 'MatMul', [e, ut], m2),
      node('Add_b', 'Add', [m2, bias], y),
      node('Add_dup', 'Add', [m2, bias], y2),
      node('Tr_y', 'Transpose', [y], yt, perm([0, 1, 3, 2])),
      node('Reshape_r', 'Reshape', [yt, target], r),
      node('Mul_in', 'Mul', [half, y2], sy),
      node('MatMul_3', 'MatMul', [sy, kb], m3),
      node('LE_m', 'LessOrEqual', [m3, half], le),
      node('Mul_sq', 'Mul', [e, e], sq),
    ],
  };
}

const entry = (rate: number): RateEntry => ({
  rate,
  measuredAt: '2020-01-01T00:00:00.000Z',
  noise: 0.01,
  repeats: 5,
  sessions: 1,
  lastMeasuredAt: '2020-01-01T00:00:00.000Z',
});

describe('the limit model on a hand-counted graph', () => {
  const costs = analyseGraph(handGraph());
  const of = (name: string) => costs.find((c) => c.node === name)!;

  it('tells free nodes, bytes and products apart with the hand count', () => {
    const free = Object.fromEntries(costs.filter((c) => c.kind === 'free').map((c) => [c.node, c.why]));
    assert.deepEqual(free, {
      Neg_c: 'folded',
      Mul_s: 'fused scale',
      Tr_u: 'fused transpose',
      Add_dup: 'duplicate',
      Reshape_r: 'shape-only',
      Mul_in: 'fused scale',
    });
    assert.deepEqual(Object.fromEntries(costs.filter((c) => c.kind === 'bytes').map((c) => [c.node, c.bytes])), {
      Exp_e: 320,
      Add_b: 408,
      Tr_y: 384,
      LE_m: 84,
      Mul_sq: 320,
    });
    assert.deepEqual(Object.fromEntries(costs.filter((c) => c.kind === 'matmul').map((c) => [c.node, c.flops])), {
      MatMul_1: 240,
      MatMul_2: 480,
      MatMul_3: 192,
    });
    assert.equal(of('Add_dup').duplicateOf, 'Add_b');
  });

  it('keys each product by its operands as run: leading 1s dropped, fused transpose, constant B', () => {
    assert.deepEqual(distinctCases(costs).map(caseKey), ['2x4x3 * 3x5 (const B)', '2x4x5 * 2x6x5^T', '2x4x6 * 6x2']);
    const c2 = of('MatMul_2').matmul!;
    assert.deepEqual(caseDims(c2), { batch: 2, m: 4, k: 5, n: 6, flops: 480 });
    for (const c of distinctCases(costs)) assert.deepEqual(parseCaseKey(caseKey(c)), c);
  });

  it('prices FLOPs at each case rate (fallback when unmeasured) and bytes at the bandwidth', () => {
    // 1e-6 GFLOP/s is 1 FLOP per ms and 1e-6 GB/s 1 byte per ms: bounds equal the hand counts' quotients.
    const rates: LimitRates = { bandwidthGBps: 1e-6, matmulGflops: { '2x4x3 * 3x5 (const B)': 2e-6, '2x4x5 * 2x6x5^T': 4e-6 }, fallbackGflops: 1e-6 };
    const bounds = nodeBounds(costs, rates);
    const ms = Object.fromEntries(bounds.map((b) => [b.node, b.ms]));
    assert.equal(ms.MatMul_1, 120);
    assert.equal(ms.MatMul_2, 120);
    assert.equal(ms.MatMul_3, 192, 'no measured case: the fallback rate');
    assert.equal(ms.Tr_u, 0);
    assert.equal(limitMs(bounds), 1516 + 120 + 120 + 192);
  });

  it('prices a node whose bytes fit a measured cache footprint at that cache bandwidth, larger nodes at the memory bandwidth', () => {
    // bytes per node (hand count above): Exp_e 320, Add_b 408, Tr_y 384, LE_m 84, Mul_sq 320.
    // Footprints 100 and 350 bytes at 4 and 2 bytes per ms; memory 1 byte per ms.
    const rates: LimitRates = {
      bandwidthGBps: 1e-6,
      cachedGBps: [
        { footprintBytes: 100, gbps: 4e-6 },
        { footprintBytes: 350, gbps: 2e-6 },
      ],
      matmulGflops: {},
      fallbackGflops: 1e-6,
    };
    const ms = Object.fromEntries(nodeBounds(costs, rates).map((b) => [b.node, b.ms]));
    assert.equal(ms.LE_m, 84 / 4);
    assert.equal(ms.Exp_e, 320 / 2);
    assert.equal(ms.Add_b, 408);
    // a cache rate below the memory rate (a noisy measurement) never makes a bound longer
    const slow = Object.fromEntries(nodeBounds(costs, { ...rates, cachedGBps: [{ footprintBytes: 1e9, gbps: 0.5e-6 }] }).map((b) => [b.node, b.ms]));
    assert.equal(slow.Add_b, 408);
  });

  it('the profile join moves a duplicate bound to the node ONNX Runtime kept and lists fused nodes without a time', () => {
    const bounds = nodeBounds(costs, { bandwidthGBps: 1e-6, matmulGflops: {}, fallbackGflops: 1e-6 });
    const rows = profileNodes(
      [
        { node: 'Add_dup', op: 'Add', ms: 2000 },
        { node: 'MatMul_2', op: 'FusedMatMul', ms: 490 },
        { node: 'Exp_e', op: 'Exp', ms: 300 },
      ],
      bounds,
    );
    assert.deepEqual(rows.slice(0, 3), [
      { node: 'Add_dup', op: 'Add', ms: 2000, boundMs: 408 },
      { node: 'MatMul_2', op: 'FusedMatMul', ms: 490, boundMs: 480 },
      { node: 'Exp_e', op: 'Exp', ms: 300, boundMs: 320 },
    ]);
    assert.ok(!rows.some((r) => r.node === 'Add_b'), 'its bound went to Add_dup');
    assert.deepEqual(
      rows
        .filter((r) => r.ms === null)
        .map((r) => r.node)
        .sort(),
      ['LE_m', 'MatMul_1', 'MatMul_3', 'Mul_sq', 'Tr_y'],
    );
  });
});

describe('the rate cache', () => {
  it('keeps the best rate with its date and noise, counting every measurement', () => {
    const first = keepBest(undefined, { rate: 100, noise: 0.05, repeats: 9 }, 'A');
    assert.deepEqual(first, { rate: 100, measuredAt: 'A', noise: 0.05, repeats: 9, sessions: 1, lastMeasuredAt: 'A' });
    const underLoad = keepBest(first, { rate: 40, noise: 0.6, repeats: 3 }, 'B');
    assert.deepEqual(underLoad, { ...first, sessions: 2, lastMeasuredAt: 'B' }, 'a slower measurement never lowers the rate');
    assert.deepEqual(keepBest(underLoad, { rate: 120, noise: 0.02, repeats: 15 }, 'C'), {
      rate: 120,
      measuredAt: 'C',
      noise: 0.02,
      repeats: 15,
      sessions: 3,
      lastMeasuredAt: 'C',
    });
  });

  it('a refresh on this machine measures again but keeps a better cached rate', async () => {
    process.env.PERFORMER_CACHE_DIR = mkdtempSync(join(tmpdir(), 'performer-limit-'));
    const tiny = { shape: { a: [4, 4], b: [4, 4], constantB: false }, orientation: { transA: false, transB: true } };
    const key = fingerprint('cpu', 1);
    // Rates no machine reaches: whatever the refresh measures is lower.
    writeFileSync(limitsCachePath(), JSON.stringify({ [key]: { bandwidth: entry(1e9), matmul: { [caseKey(tiny)]: entry(1e9) } } }));
    const cached = await ensureRates([tiny], 'cpu', 1);
    assert.equal(cached.matmul[caseKey(tiny)]!.sessions, 1, 'a cached case is not measured again');
    const refreshed = await ensureRates([tiny], 'cpu', 1, { refresh: true });
    assert.equal(refreshed.matmul[caseKey(tiny)]!.rate, 1e9);
    assert.equal(refreshed.bandwidth.rate, 1e9);
    const saved = JSON.parse(readFileSync(limitsCachePath(), 'utf8'))[key];
    assert.equal(saved.matmul[caseKey(tiny)].sessions, 2);
    assert.equal(saved.matmul[caseKey(tiny)].measuredAt, '2020-01-01T00:00:00.000Z');
  });
});

describe('results files and the limit fields', () => {
  /** A record as the version before the limit model wrote it. */
  const oldRecord = {
    kernel: 'favor-pos',
    pass: 'forward',
    causal: false,
    causalImpl: 'chunked',
    chunkSize: 64,
    scope: 'attention',
    seqLen: 256,
    batch: 1,
    heads: 1,
    dim: 8,
    features: 8,
    featureType: 'orthogonal',
    ep: 'cpu',
    dtype: 'float32',
    seed: 0,
    threads: null,
    layers: null,
    dFf: null,
    vocab: null,
    status: 'ok',
    medianMs: 2,
    meanMs: 2,
    p10Ms: 1.9,
    p90Ms: 2.1,
    minMs: 1.8,
    rme: 0.01,
    runs: 3,
    samplesMs: [1.8, 2, 2.1],
    processes: 1,
    processMediansMs: [2],
    processSamples: [3],
    processRme: null,
    firstRunMs: 3,
    peakMemoryBytes: 1000,
    estimatedMemoryBytes: 900,
    flops: 1e6,
    gflopsPerSec: 0.5,
    rooflineFraction: 0.01,
    speedupVsSoftmax: null,
    timeVsIdentity: null,
    profile: null,
    error: null,
  };
  const file = (records: unknown[]) => {
    const path = join(mkdtempSync(join(tmpdir(), 'performer-limit-')), 'results.json');
    writeFileSync(path, JSON.stringify({ schemaVersion: 1, kind: 'bench', environment: {}, options: {}, roofline: null, records }));
    return path;
  };

  it('a file written before the limit model reads, and finishing it leaves the limit null', () => {
    const read = readResults(file([oldRecord]), 'FILE');
    const doc = finishBench(read.records as BenchRecord[], { environment: {}, options: {}, roofline: null });
    assert.equal(doc.records[0]!.limitMs, null);
    assert.equal(doc.records[0]!.limitFraction, null);
  });

  it('limitFraction is limitMs over the median; malformed limit fields are refused naming the field', () => {
    const doc = finishBench([{ ...oldRecord, limitMs: 1.5, limitFraction: null, nodeProfile: null } as BenchRecord], {
      environment: {},
      options: {},
      roofline: null,
    });
    assert.equal(doc.records[0]!.limitFraction, 0.75);
    assert.doesNotThrow(() => readResults(file([doc.records[0]]), 'FILE'));
    assert.throws(() => readResults(file([{ ...oldRecord, limitMs: 'fast' }]), 'FILE'), /records\[0\]\.limitMs/);
  });
});
