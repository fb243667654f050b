import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expandGrid, type GridOptions } from '../src/bench/grid.ts';
import { makeRecord } from '../src/bench/runner.ts';
import { takeShard } from '../src/bench/shard.ts';
import type { BenchRecord } from '../src/bench/types.ts';
import { pointKey } from '../src/results/keys.ts';
import { Rng } from '../src/random.ts';
import { cli } from './helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'performer-ci-'));
const bin = new URL('../bin/performer.js', import.meta.url).pathname;

const grid: GridOptions = {
  kernels: ['softmax', 'favor-pos'],
  seqLens: [256, 512, 1024],
  passes: ['forward', 'backward'],
  batches: [1],
  heads: 1,
  dim: 64,
  features: 256,
  featureType: 'orthogonal',
  causal: false,
  causalImpl: 'chunked',
  chunkSize: 128,
  scope: 'attention',
  ep: 'cpu',
  dtype: 'float32',
  seed: 0,
  threads: null,
  layers: null,
  dFf: null,
  vocab: null,
};

const measured = (samplesMs: number[]) => ({
  status: 'ok' as const,
  samplesMs,
  firstRunMs: 1,
  sessionCreateMs: 1,
  peakMemoryBytes: 1,
  profile: null,
  error: null,
});

/**
 * A results file of `processes` processes per point: each process's level is `base · factor`
 * times a log-normal process effect (sd `noise`), and its `samples` samples lie within ±1% of
 * that level (iterations of one process are tightly correlated, as measured).
 */
function syntheticFile(
  name: string,
  factor: (r: BenchRecord) => number,
  noise: number,
  seed: number,
  env: Record<string, unknown> = {},
  processes = 10,
  samples = 20,
): string {
  const rng = new Rng(seed);
  const records = expandGrid(grid).map((p) => {
    const r0 = makeRecord(p, measured([1]), 1, 1);
    const base = p.seqLen / 100;
    const ms = Array.from({ length: processes }, () => {
      const level = base * factor(r0) * Math.exp(noise * rng.gaussian());
      return measured(Array.from({ length: samples }, () => level * (1 + 0.01 * (2 * rng.uniform() - 1))));
    });
    return makeRecord(p, ms, 1, 1);
  });
  const doc = {
    schemaVersion: 1,
    kind: 'bench',
    environment: { onnxruntimeVersion: '1.30.0', cpuModel: 'X', cores: 2, ...env },
    options: { ...grid },
    records,
  };
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

describe('performer compare', () => {
  const base = syntheticFile('base.json', () => 1, 0.05, 1);

  it('a clear 30% slowdown of one kernel exits 1 and names it', () => {
    const cur = syntheticFile('slow.json', (r) => (r.kernel === 'favor-pos' ? 1.3 : 1), 0.05, 2);
    const r = cli(['compare', base, cur, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    const slower = out.comparisons.filter((c: { verdict: string }) => c.verdict === 'slower');
    assert.equal(slower.length, 6);
    assert.ok(slower.every((c: { key: string }) => c.key.startsWith('favor-pos')));
  });

  it('noise around equal exits 0; a 3% change under a 5% threshold exits 0', () => {
    assert.equal(cli(['compare', base, syntheticFile('same.json', () => 1, 0.05, 3)]).code, 0);
    // A real 3% change between two quiet runs (process spread 1%): significant, but under the
    // threshold, so not a regression.
    assert.equal(cli(['compare', syntheticFile('quiet.json', () => 1, 0.01, 9), syntheticFile('tiny.json', () => 1.03, 0.01, 4), '--threshold', '5%']).code, 0);
  });

  it('a large change that the processes cannot support is inconclusive, with the processes needed, never "unchanged"', () => {
    // 2 processes a side with a 10% process spread: Welch's t has ~2 degrees of freedom, and Holm
    // over 12 points asks for p ≤ 0.004: a 20% slowdown measured this thinly cannot be told apart.
    const few = syntheticFile('few.json', () => 1.2, 0.1, 5, {}, 2);
    const r = cli(['compare', syntheticFile('few-base.json', () => 1, 0.1, 6, {}, 2), few, '--json']);
    assert.equal(r.code, 0, r.stdout);
    const rows = JSON.parse(r.stdout).comparisons as { verdict: string; needed: number | null; detectable: number }[];
    assert.ok(
      rows.every((x) => x.verdict === 'inconclusive' && x.needed !== null && x.needed > 2 && x.detectable > 1.1),
      r.stdout,
    );
    assert.equal(JSON.parse(r.stdout).verdict, 'inconclusive');
    assert.match(cli(['compare', syntheticFile('few-base.json', () => 1, 0.1, 6, {}, 2), few]).stdout, /inconclusive[ │]*\n?[^\n]*?\(need ≥ \d+\)/);
  });

  it('one process per file: iterations are not independent samples, so no verdict is drawn from them', () => {
    // Two identical "runs" whose single processes landed 12% apart (a between-process effect),
    // each with 200 tightly clustered samples: a test on the samples would call this a
    // regression with p ≈ 1e-60; a test on processes has nothing to go on.
    const a = syntheticFile('one-a.json', () => 1, 0, 7, {}, 1, 200);
    const b = syntheticFile('one-b.json', () => 1.12, 0, 8, {}, 1, 200);
    const r = cli(['compare', a, b, '--json']);
    assert.equal(r.code, 0, r.stdout);
    assert.ok(JSON.parse(r.stdout).comparisons.every((x: { verdict: string }) => x.verdict === 'inconclusive'));
  });

  it('malformed, mismatched or incomparable files exit 2 with one line', () => {
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{ not json');
    const wrongVersion = join(dir, 'v9.json');
    writeFileSync(wrongVersion, JSON.stringify({ schemaVersion: 9, kind: 'bench', environment: {}, options: {}, records: [] }));
    const otherCpu = syntheticFile('cpu.json', () => 1, 0.05, 7, { cpuModel: 'Y' });
    const disjoint = join(dir, 'disjoint.json');
    writeFileSync(disjoint, JSON.stringify({ ...JSON.parse(readFileSync(base, 'utf8')), records: [] }));
    for (const [args, msg] of [
      [[base, junk], /cannot read .*not valid JSON/],
      [[base, join(dir, 'missing.json')], /ENOENT/],
      [[base, wrongVersion], /schemaVersion 9/],
      [[base, otherCpu], /--allow-env-change: the environments differ \(cpuModel: X vs Y\)/],
      [[base, disjoint], /no point is in both files/],
    ] as const) {
      const r = cli(['compare', ...args]);
      assert.equal(r.code, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    assert.equal(cli(['compare', base, otherCpu, '--allow-env-change']).code, 0);
  });
});

describe('sharding and merging', () => {
  it('every point lands in exactly one shard, for many grids and shard counts', () => {
    for (const kernels of [['softmax'], ['softmax', 'favor-pos', 'identity']])
      for (const seqLens of [[256], [256, 512, 1024, 2048, 4096]])
        for (let n = 1; n <= 7; n++) {
          const all = expandGrid({ ...grid, kernels, seqLens }).map(pointKey);
          const parts = Array.from({ length: n }, (_, i) => takeShard(expandGrid({ ...grid, kernels, seqLens }), { index: i + 1, count: n }).map(pointKey));
          assert.deepEqual(parts.flat().sort(), [...all].sort());
          assert.equal(new Set(parts.flat()).size, all.length);
        }
  });

  it('shards run separately merge into the whole sweep; overlaps are refused', () => {
    const args = [
      'bench',
      '--seq-len',
      '16,32',
      '--kernels',
      'softmax,identity',
      '--dim',
      '8',
      '--time-budget',
      '5ms',
      '--min-runs',
      '2',
      '--warmup',
      '0',
      '--no-limit',
      '--pass',
      'forward',
    ];
    const outs = [1, 2, 3].map((i) => {
      const out = join(dir, `shard${i}`);
      assert.equal(cli([...args, '--shard', `${i}/3`, '--out', out]).code, 0);
      return join(out, 'results.json');
    });
    const merged = join(dir, 'merged.json');
    const r = cli(['merge', ...outs, '-o', merged]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(readFileSync(merged, 'utf8'));
    assert.equal(doc.records.length, 4);
    assert.ok(
      doc.records.some((x: BenchRecord) => x.kernel === 'identity' && x.speedupVsSoftmax !== null),
      'derived figures recomputed across shards',
    );
    const overlap = cli(['merge', outs[0]!, outs[0]!, '-o', join(dir, 'bad.json')]);
    assert.equal(overlap.code, 2);
    assert.match(overlap.stderr, /overlaps/);
    assert.ok(!existsSync(join(dir, 'bad.json')));
  });
});

describe('crash safety', () => {
  it('a sweep killed with SIGKILL, then --resume, gives the same points as an uninterrupted run', async () => {
    const out = join(dir, 'killed');
    const args = [
      'bench',
      '--seq-len',
      '16,32,64',
      '--kernels',
      'softmax,favor-pos,identity',
      '--dim',
      '8',
      '--features',
      '8',
      '--time-budget',
      '5ms',
      '--min-runs',
      '2',
      '--warmup',
      '0',
      '--no-limit',
      '--pass',
      'forward',
      '--out',
      out,
    ];
    const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
    const journal = join(out, 'results.jsonl');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (existsSync(journal) && readFileSync(journal, 'utf8').trim().split('\n').length >= 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const before = readFileSync(journal, 'utf8').trim().split('\n').length;
    assert.ok(before >= 3 && before < 10, `journal had ${before} lines when killed`);
    assert.ok(!existsSync(join(out, 'results.json')), 'no final file before the sweep ends');
    const resumed = cli([...args, '--resume', '--format', 'json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const keys = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))
      .records.map(pointKey)
      .sort();
    const full = cli([...args.slice(0, -2), '--format', 'json']);
    assert.deepEqual(keys, JSON.parse(full.stdout).records.map(pointKey).sort());
    assert.equal(readFileSync(journal, 'utf8').trim().split('\n').length, 1 + 9, 'resume ran only the missing points (after the header line)');
    assert.deepEqual(
      readdirSync(out).filter((f) => f.includes('.tmp')),
      [],
    );
  });
});

describe('Holm–Bonferroni', () => {
  it('keeps only p-values that survive the step-down thresholds', async () => {
    const { holm } = await import('../src/ci/verdicts.ts');
    assert.deepEqual(holm([0.01, 0.04, 0.03, 0.005], 0.05), [true, false, false, true]);
    assert.deepEqual(holm([0.001, 0.2, null], 0.05), [true, false, false]);
  });
});
