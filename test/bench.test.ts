import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { graphFlops, estimateMemory } from '../src/limit/cost.ts';
import { deriveRecords } from '../src/bench/derive.ts';
import { childExecutor } from '../src/bench/executor.ts';
import { expandGrid, type GridOptions } from '../src/bench/grid.ts';
import { makeRecord, runBench } from '../src/bench/runner.ts';
import { quantile, summarize } from '../src/stats/descriptive.ts';
import { crossovers, exponents } from '../src/bench/summary.ts';
import type { BenchRecord } from '../src/bench/types.ts';
import { pointKey } from '../src/results/keys.ts';
import { GraphBuilder } from '../src/onnx/builder.ts';
import { cli } from './helpers/cli.ts';
import { testGrid } from './helpers/grid.ts';

const dir = mkdtempSync(join(tmpdir(), 'performer-bench-'));
const tiny = ['--seq-len', '16,32', '--dim', '8', '--features', '8', '--time-budget', '5ms', '--min-runs', '2', '--warmup', '0', '--no-limit'];

const grid = testGrid;
const measure = { timeMs: 5, minRuns: 2, warmupRuns: 0, profile: false };

describe('performer bench end to end', () => {
  it('a tiny grid writes results.json, results.csv and the journal with the documented schema', () => {
    const out = join(dir, 'run');
    const r = cli(['bench', ...tiny, '--kernels', 'softmax,softmax-fused,favor-pos,identity', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(doc.schemaVersion, 1);
    for (const key of ['onnxruntimeVersion', 'cpuModel', 'cores', 'memoryBytes', 'nodeVersion', 'os', 'performerVersion', 'commandLine', 'timestamp'])
      assert.ok(key in doc.environment, `environment lacks ${key}`);
    assert.equal(doc.options.seed, 0);
    assert.equal(doc.records.length, 2 * 2 * 4);
    const required = [
      'kernel',
      'pass',
      'causal',
      'causalImpl',
      'scope',
      'seqLen',
      'batch',
      'heads',
      'dim',
      'features',
      'featureType',
      'ep',
      'dtype',
      'status',
      'medianMs',
      'meanMs',
      'p10Ms',
      'p90Ms',
      'rme',
      'samplesMs',
      'peakMemoryBytes',
      'estimatedMemoryBytes',
      'flops',
      'gflopsPerSec',
      'rooflineFraction',
      'limitMs',
      'limitFraction',
      'speedupVsSoftmax',
      'error',
    ];
    for (const rec of doc.records) for (const key of required) assert.ok(key in rec, `record lacks ${key}: ${JSON.stringify(rec)}`);
    const ok = doc.records.filter((x: BenchRecord) => x.status === 'ok');
    assert.equal(ok.length, 14, 'softmax-fused backward is skipped, everything else runs');
    for (const x of ok) {
      assert.ok(x.samplesMs.length >= 2 && x.samplesMs.every((s: number) => s > 0));
      assert.ok(x.p10Ms <= x.medianMs && x.medianMs <= x.p90Ms);
      // A 16-token graph can fit in pages the child already touched: 0 above baseline is a valid reading.
      assert.ok(Number.isInteger(x.peakMemoryBytes) && x.peakMemoryBytes >= 0 && x.estimatedMemoryBytes > 0, JSON.stringify(x));
    }
    const skipped = doc.records.filter((x: BenchRecord) => x.status === 'skipped');
    assert.ok(skipped.every((x: BenchRecord) => x.kernel === 'softmax-fused' && x.pass === 'backward'));
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 1 + doc.records.length);
    assert.ok(csv[0]!.startsWith('kernel,pass,causal,causalImpl'));
    assert.ok(!csv[0]!.includes('samplesMs'));
    const journal = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
    assert.equal(journal.length, 1 + 16, 'a header, then one line per process (one each here)');
    assert.deepEqual(JSON.parse(journal[0]!).options.kernels, ['softmax', 'softmax-fused', 'favor-pos', 'identity']);
    assert.match(r.stdout, /crossover vs best softmax: favor-pos forward/);
    assert.match(r.stdout, /scaling: favor-pos forward: time ∝ L\^/);
  });

  it('NO_COLOR output has no escape codes; json and markdown formats parse', () => {
    const args = ['bench', ...tiny, '--kernels', 'identity', '--pass', 'forward'];
    const table = cli(args);
    assert.equal(table.code, 0);
    assert.doesNotMatch(table.stdout, /\x1b\[/);
    const json = JSON.parse(cli([...args, '--format', 'json']).stdout);
    assert.equal(json.records.length, 2);
    assert.match(cli([...args, '--format', 'markdown']).stdout, /^\| kernel \| pass \|/);
  });

  it('a tiny --memory-budget records oom without running, and larger L are skipped', () => {
    const r = cli([
      'bench',
      ...tiny,
      '--seq-len',
      '16,64,128',
      '--kernels',
      'softmax,identity',
      '--pass',
      'forward',
      '--memory-budget',
      '30000',
      '--format',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const recs = JSON.parse(r.stdout).records as BenchRecord[];
    const softmax = recs.filter((x) => x.kernel === 'softmax').map((x) => x.status);
    assert.deepEqual(softmax, ['ok', 'oom', 'skipped']);
    assert.ok(recs.filter((x) => x.kernel === 'identity').every((x) => x.status === 'ok'));
  });

  it("--memory-budget predicts the peak from the series' measured peak ÷ estimate (ONNX Runtime's arena), not the live values alone", async () => {
    const { pointGraph } = await import('../src/bench/graph.ts');
    // favor-pos backward, 8 heads, d = 64: live-value estimates ~ 121, 241 and 481 MiB
    const points = expandGrid(grid({ kernels: ['favor-pos'], seqLens: [2048, 4096, 8192], passes: ['backward'], heads: 8, dim: 64, features: 256 }));
    const estimates = points.map((p) => estimateMemory(pointGraph(p)));
    assert.ok(estimates[0]! >= 64 * 2 ** 20 && estimates[2]! < 600 * 2 ** 20, `${estimates}`);
    const budget = 700 * 2 ** 20;
    const sweep = async (arena: number) => {
      const ran: number[] = [];
      const executor = async (ps: readonly (typeof points)[number][]) =>
        ps.map((p) => {
          ran.push(p.seqLen);
          return {
            status: 'ok' as const,
            samplesMs: [1, 1],
            firstRunMs: 1,
            sessionCreateMs: 1,
            peakMemoryBytes: Math.round(arena * estimateMemory(pointGraph(p))),
            profile: null,
            error: null,
          };
        });
      return { recs: await runBench({ points, measure, memoryBudgetBytes: budget }, executor), ran };
    };
    // Twice the live values at 4096: 481 MiB × 2.2 would not fit in 700 MiB, so 8192 is not run.
    const tight = await sweep(2.2);
    assert.deepEqual(tight.ran, [2048, 4096]);
    assert.deepEqual(
      tight.recs.map((r) => r.status),
      ['ok', 'ok', 'oom'],
    );
    assert.match(
      tight.recs[2]!.error!,
      /predicted peak \d+ bytes \(live values \d+ × 2\.20, the peak ÷ estimate measured at L=4096\) exceeds the memory budget/,
    );
    // An arena that adds 20% fits: all three run.
    assert.deepEqual((await sweep(1.2)).ran, [2048, 4096, 8192]);
  });

  it('a child that dies is recorded as error and the sweep goes on', async () => {
    const executor = childExecutor(new URL('./fixtures/crash-worker.ts', import.meta.url));
    const recs = await runBench({ points: expandGrid(grid()), measure, memoryBudgetBytes: 2 ** 32 }, executor);
    assert.deepEqual(
      recs.map((x) => `${x.kernel}:${x.status}`),
      ['softmax:error', 'favor-pos:ok', 'softmax:error', 'favor-pos:ok'],
    );
    assert.match(recs[0]!.error!, /died \(SIGABRT\)/);
  });

  it('--interleave measures the kernels of each size in one process, round by round', () => {
    const r = cli(['bench', ...tiny, '--kernels', 'softmax,favor-pos,identity', '--interleave', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const recs = JSON.parse(r.stdout).records as BenchRecord[];
    assert.equal(recs.length, 2 * 2 * 3);
    assert.ok(recs.every((x) => x.status === 'ok' && x.runs >= 2 && x.peakMemoryBytes === null));
    // Alternating rounds give every kernel of a size the same number of samples.
    for (const L of [16, 32])
      for (const pass of ['forward', 'backward']) {
        const runs = new Set(recs.filter((x) => x.seqLen === L && x.pass === pass).map((x) => x.runs));
        assert.equal(runs.size, 1);
      }
  });

  it('bad bench options exit 2 with one line', () => {
    for (const [args, msg] of [
      [['--seq-len', '100..200'], /--seq-len: '100\.\.200' is not a power-of-two range/],
      [['--kernels', 'softmax,bogus'], /--kernels: 'bogus' is not supported/],
      [['--memory-budget', 'lots'], /--memory-budget: 'lots' is not a positive size/],
      [['--ep', 'tpu'], /--ep: 'tpu' is not supported \(allowed: cpu, cuda, webgpu\)/],
      [['--resume'], /--resume: needs --out/],
      [['--out', '/proc/forbidden'], /--out: cannot write to/],
    ] as const) {
      const r = cli(['bench', ...args]);
      assert.equal(r.code, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  it('--ep cuda without the CUDA provider fails clearly, never falling back to the CPU', () => {
    // Refused once, up front, before any process starts: one line, exit 2, nothing on stdout.
    const r = cli(['bench', ...tiny, '--kernels', 'identity', '--pass', 'forward', '--ep', 'cuda', '--format', 'json']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^performer: --ep: the CUDA execution provider is not installed/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(r.stdout, '');
  });
});

describe('bench arithmetic', () => {
  it('FLOPs and memory of a small graph match hand counts', () => {
    const b = new GraphBuilder('hand');
    const x = b.input('x', [2, 3, 4]);
    const w = b.input('w', [4, 5]);
    const y = b.matMul(x, w); // 2·(2·3)·4·5 = 240
    const z = b.exp(y); // 30
    const out = b.reshape(b.add(z, z), [30]); // 30, reshape 0
    const g = b.build([out]);
    assert.equal(graphFlops(g), 240 + 30 + 30);
    // inputs 24+20 floats + 2 int64 shape constant stay live; peak while Add runs: y freed after Exp,
    // z (30) and the Add output (30) live: (44 + 60)·4 + 8 = 424 bytes; y and z together before: (44+60)·4+8.
    assert.equal(estimateMemory(g), (24 + 20 + 30 + 30) * 4 + 8);
  });

  it('a point is identified by its chunk size only where the chunked causal strategy uses it', () => {
    const key = (o: Partial<GridOptions>) => pointKey(expandGrid(grid({ kernels: ['favor-pos'], seqLens: [16], ...o }))[0]!);
    assert.notEqual(key({ causal: true, chunkSize: 64 }), key({ causal: true, chunkSize: 128 }));
    assert.equal(key({ chunkSize: 64 }), key({ chunkSize: 128 }));
    assert.equal(key({ causal: true, causalImpl: 'prefix', chunkSize: 64 }), key({ causal: true, causalImpl: 'prefix', chunkSize: 128 }));
  });

  it('quantiles, median and relative margin of error', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([1, 2, 3, 4, 5], 0.1), 1.4);
    const s = summarize([4, 1, 3, 2, 5]);
    assert.equal(s.medianMs, 3);
    assert.equal(s.meanMs, 3);
    // s = √2.5, t(4) = 2.776: rme = 2.776·√(2.5/5)/3
    assert.ok(Math.abs(s.rme! - (2.776 * Math.sqrt(0.5)) / 3) < 1e-12);
  });

  it('crossover L* interpolates on log-log axes; exponents fit time ∝ L^k', () => {
    const mk = (kernel: string, seqLen: number, ms: number): BenchRecord =>
      makeRecord(
        { ...expandGrid(grid())[0]!, kernel, seqLen },
        { status: 'ok', samplesMs: [ms], firstRunMs: ms, sessionCreateMs: 0, peakMemoryBytes: 1, profile: null, error: null },
        1,
        1,
      );
    // softmax ∝ L², favor ∝ L, equal at L = 1000: t_s = L²/1000, t_f = L.
    const recs = deriveRecords(
      [250, 500, 2000, 4000].flatMap((L) => [mk('softmax', L, (L * L) / 1000), mk('favor-pos', L, L)]),
      null,
    );
    const [c] = crossovers(recs);
    assert.equal(c!.bound, 'exact');
    assert.ok(Math.abs(c!.seqLen! - 1000) < 1e-6);
    const ks = Object.fromEntries(exponents(recs).map((e) => [e.kernel, e.k]));
    assert.ok(Math.abs(ks.softmax! - 2) < 1e-12 && Math.abs(ks['favor-pos']! - 1) < 1e-12);
  });

  it('L* is the last crossing: a noisy dip at a short length does not set it, for the median or a round', async () => {
    // Two processes per point; round 0 dips below softmax at L = 128 (the fig3-forward case of 2026-12-06).
    const mk = (kernel: string, seqLen: number, ms: [number, number]): BenchRecord => {
      const r = makeRecord(
        { ...expandGrid(grid())[0]!, kernel, seqLen },
        { status: 'ok', samplesMs: ms, firstRunMs: ms[0], sessionCreateMs: 0, peakMemoryBytes: 1, profile: null, error: null },
        1,
        1,
      );
      return { ...r, medianMs: (ms[0] + ms[1]) / 2, processMediansMs: ms };
    };
    const soft: Record<number, [number, number]> = { 64: [18, 20], 128: [49, 35], 256: [81, 85], 512: [196, 202], 1024: [480, 470] };
    const favor: Record<number, [number, number]> = { 64: [30, 31], 128: [48, 53], 256: [89, 96], 512: [218, 204], 1024: [360, 410] };
    const recs = deriveRecords(
      Object.keys(soft).flatMap((L) => [mk('softmax', +L, soft[+L]!), mk('favor-pos', +L, favor[+L]!)]),
      null,
    );
    const [c] = crossovers(recs);
    assert.equal(c!.bound, 'exact');
    // The median's last crossing lies between 512 and 1024, and so does each round's.
    assert.ok(c!.seqLen! > 512 && c!.seqLen! < 1024, `L* = ${c!.seqLen}`);
    assert.ok(c!.rounds && c!.rounds.lo! > 512 && c!.rounds.hi! < 1024, JSON.stringify(c!.rounds));
    assert.ok(c!.rounds!.lo! <= c!.seqLen! && c!.seqLen! <= c!.rounds!.hi!);
    // A kernel faster at every length is 'below'; one that turns slower again at the end is 'above'.
    const last: Record<number, [number, number]> = { ...favor, 1024: [600, 610] };
    const up = deriveRecords(
      Object.keys(soft).flatMap((L) => [mk('softmax', +L, soft[+L]!), mk('favor-pos', +L, last[+L]!)]),
      null,
    );
    const [above] = crossovers(up);
    assert.equal(above!.bound, 'above');
    // Every round above the grid too: no range of numbers (it printed "Infinity to above the grid").
    assert.deepEqual(above!.rounds, { n: 2, lo: null, hi: null, undetermined: false });
    const { summaryLines } = await import('../src/report/bench.ts');
    const [line] = summaryLines([above!], []);
    assert.match(line!, /slower at every L measured \(up to L = 1024\); the same in each of the 2 rounds$/);
    // Faster at a short length, slower at the longer ones: no L*, and the line does not say "every L".
    const series = (f: Record<number, [number, number]>, s: Record<number, [number, number]>) =>
      crossovers(
        deriveRecords(
          Object.keys(s).flatMap((L) => [mk('softmax', +L, s[+L]!), mk('favor-pos', +L, f[+L]!)]),
          null,
        ),
      )[0]!;
    const flat: Record<number, [number, number]> = { 64: [20, 20], 128: [40, 40], 256: [80, 80] };
    const turns = series({ 64: [10, 10], 128: [50, 50], 256: [100, 100] }, flat);
    assert.equal(turns.bound, 'above');
    assert.equal(turns.fasterShorter, true);
    assert.match(
      summaryLines([turns], [])[0]!,
      /slower at the longest L measured \(L = 256\), though faster at some shorter L; the same in each of the 2 rounds$/,
    );
    // Faster everywhere: below the grid, in the median and in every round.
    const always = series({ 64: [10, 10], 128: [20, 20], 256: [40, 40] }, flat);
    assert.deepEqual([always.bound, always.seqLen, always.fasterShorter], ['below', 64, undefined]);
    assert.match(summaryLines([always], [])[0]!, /faster at every L measured \(from L = 64\); the same in each of the 2 rounds$/);
  });
});

describe('speed-up over softmax paired by round', () => {
  it('is the geometric mean of the per-round ratios with a paired t-interval, and none for one process or the baseline', async () => {
    const { pairedSpeedups } = await import('../src/bench/summary.ts');
    const mk = (kernel: string, ms: number[]): BenchRecord => ({
      ...makeRecord(
        { ...expandGrid(grid())[0]!, kernel },
        { status: 'ok', samplesMs: ms, firstRunMs: 1, sessionCreateMs: 0, peakMemoryBytes: 1, profile: null, error: null },
        1,
        1,
      ),
      processMediansMs: ms,
      medianMs: ms.reduce((a, b) => a + b) / ms.length,
    });
    const soft = mk('softmax', [10, 20]);
    const favor = mk('favor-pos', [5, 8]);
    const paired = pairedSpeedups([soft, favor]);
    // d = ln(5/10), ln(8/20); speed-up = exp(−mean d) = 1/√0.2; half-width t(0.975, 1)·sd/√2.
    const d = [Math.log(0.5), Math.log(0.4)];
    const mean = (d[0]! + d[1]!) / 2;
    // t(0.975, 1 df) is the Cauchy quantile tan(0.475π) = 12.706…
    const half = Math.tan(0.475 * Math.PI) * (Math.abs(d[0]! - d[1]!) / Math.SQRT2 / Math.SQRT2);
    const [gm, lo, hi] = paired.get(favor)!;
    assert.ok(Math.abs(gm - 1 / Math.sqrt(0.2)) < 1e-12, String(gm));
    assert.ok(Math.abs(lo - Math.exp(-mean - half)) < 1e-9 && Math.abs(hi - Math.exp(-mean + half)) < 1e-9, `${lo} ${hi}`);
    assert.equal(paired.has(soft), false);
    assert.equal(pairedSpeedups([mk('softmax', [10]), mk('favor-pos', [5])]).size, 0);
  });
});

describe('the bench table for people', () => {
  it('fits 80 and 100 columns, puts constant options in one header line, and explains its status marks', async () => {
    const { benchTableLines } = await import('../src/report/bench-table.ts');
    const { expandGrid } = await import('../src/bench/grid.ts');
    const base = expandGrid(
      grid({
        kernels: ['softmax', 'softmax-fused', 'favor-pos', 'identity'],
        seqLens: [256, 1024, 8192],
        passes: ['forward', 'backward'],
        dim: 64,
        features: 256,
      }),
    );
    const records = base.map((p, i) =>
      i === 3
        ? makeRecord(
            p,
            {
              status: 'oom',
              samplesMs: [],
              firstRunMs: null,
              sessionCreateMs: null,
              peakMemoryBytes: null,
              profile: null,
              error: 'estimated 2e10 bytes exceed the memory budget',
            },
            2e10,
            1,
          )
        : makeRecord(
            p,
            {
              status: 'ok',
              samplesMs: i === 5 ? [1, 3, 1, 4, 1, 5] : [1.02, 1.01, 1.03],
              firstRunMs: 1,
              sessionCreateMs: 1,
              peakMemoryBytes: 1 << 24,
              profile: null,
              error: null,
            },
            1 << 20,
            1e9,
          ),
    );
    for (const width of [80, 100]) {
      const lines = benchTableLines(records, { width, color: false }).join('\n').split('\n');
      const widest = Math.max(...lines.filter((l) => /^[┌│└]/.test(l)).map((l) => [...l].length));
      assert.ok(widest <= width, `${widest} > ${width}`);
      assert.match(lines[0]!, /^bidirectional · B=1 · H=1 · d=64 · m=256 orthogonal · float32 · cpu · 1 process per point$/);
      assert.ok(lines.some((l) => /^M out of memory/.test(l)) && lines.some((l) => /^! noisy/.test(l)), lines.join('\n'));
      assert.ok(!lines.join('\n').includes('\x1b['), 'no escape codes without colour');
      assert.ok(!lines.some((l) => /^├/.test(l)), 'no row separators');
    }
  });
});
