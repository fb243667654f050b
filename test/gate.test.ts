/**
 * The CI gate and the result files' integrity: the statistics work on processes, verdicts say
 * when the data cannot decide, invalid numbers are not results, every option that changes the
 * computation changes the key, and journals, locks and files survive kills and races.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compareBench } from '../src/ci/verdicts.ts';
import { expandGrid, type GridOptions } from '../src/bench/grid.ts';
import { makeRecord } from '../src/bench/runner.ts';
import type { BenchPoint, Measurement } from '../src/bench/types.ts';
import { Rng } from '../src/random.ts';
import { benchTable } from '../src/report/bench.ts';
import { writeAtomic } from '../src/results/files.ts';
import { errorKey, type ErrorLike, pointKey } from '../src/results/keys.ts';
import { cli, interruptAfter } from './helpers/cli.ts';
import { testGrid } from './helpers/grid.ts';

const dir = mkdtempSync(join(tmpdir(), 'performer-gate-'));
const tiny = [
  '--seq-len',
  '16,32',
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
];

const grid: GridOptions = testGrid({
  seqLens: [512, 2048],
  passes: ['forward', 'backward'],
  dim: 64,
  features: 256,
  chunkSize: 64,
});
const ok = (samplesMs: number[]): Measurement => ({
  status: 'ok',
  samplesMs,
  firstRunMs: 1,
  sessionCreateMs: 1,
  peakMemoryBytes: 1,
  profile: null,
  error: null,
});

/**
 * Records of `n` processes per point as this 2-core machine gives them: a log-normal process
 * effect (sd 0.08, the median spread `bench --preset ci` measured across points), one process in
 * ten 30% slower (a busy neighbour), and 10 samples within ±1% of the process's level.
 */
function run(rng: Rng, n: number, factor = 1) {
  return expandGrid(grid).map((p) =>
    makeRecord(
      p,
      Array.from({ length: n }, () => {
        const level = (p.seqLen / 100) * factor * Math.exp(0.08 * rng.gaussian()) * (rng.uniform() < 0.1 ? 1.3 : 1);
        return ok(Array.from({ length: 10 }, () => level * (1 + 0.01 * (2 * rng.uniform() - 1))));
      }),
      1,
      1,
    ),
  );
}

describe('compare statistics on processes', () => {
  it('false alarms: at most alpha of 1,000 simulated identical pairs fail', () => {
    // A run fails when any of its 8 points is `slower`: Holm bounds that family-wise rate by
    // alpha = 0.05. Allow 3 binomial standard errors over 1,000 pairs: 0.05 + 3·√(0.05·0.95/1000) ≈ 0.071.
    const rng = new Rng(2024);
    let alarms = 0;
    for (let k = 0; k < 1000; k++) {
      const rows = compareBench(run(rng, 20), run(rng, 20), { threshold: 0.1, alpha: 0.05, metric: 'median' });
      if (rows.some((r) => r.verdict === 'slower')) alarms++;
    }
    assert.ok(alarms / 1000 <= 0.071, `false-alarm rate ${alarms / 1000}`);
  });

  it('a 15% slowdown of every process is found at 20 processes a side', () => {
    const rng = new Rng(7);
    let found = 0;
    for (let k = 0; k < 50; k++) {
      const rows = compareBench(run(rng, 20), run(rng, 20, 1.15), { threshold: 0.1, alpha: 0.05, metric: 'median' });
      if (rows.filter((r) => r.verdict === 'slower').length >= 4) found++;
    }
    // Power per point at 20 processes and this spread is about 0.8 (MDR ≈ 1.13 < 1.15).
    assert.ok(found >= 40, `${found} of 50 runs found at least half the points slower`);
  });

  it('paired rounds cancel drift that unpaired tests cannot', () => {
    // Each round drifts the whole machine by ~20% (log-sd 0.2). In a relative run both sides of a
    // round share its drift: paired, the 15% slowdown stands out with a narrow interval. Two runs
    // at different times drift independently: unpaired, the interval is several times wider.
    const rng = new Rng(11);
    const p = expandGrid(grid)[0]!;
    const drift = () => Array.from({ length: 10 }, () => Math.exp(0.2 * rng.gaussian()));
    const side = (d: number[], f: number) =>
      makeRecord(
        p,
        d.map((x) => ok([x * f * Math.exp(0.01 * rng.gaussian())])),
        1,
        1,
      );
    const shared = drift();
    const o = { threshold: 0.1, alpha: 0.05, metric: 'median' as const };
    const paired = compareBench([side(shared, 1)], [side(shared, 1.15)], { ...o, paired: true })[0]!;
    const unpaired = compareBench([side(drift(), 1)], [side(drift(), 1.15)], o)[0]!;
    assert.equal(paired.verdict, 'slower');
    assert.ok(Math.log(unpaired.hi! / unpaired.lo!) > 5 * Math.log(paired.hi! / paired.lo!), `${unpaired.lo}–${unpaired.hi} vs ${paired.lo}–${paired.hi}`);
  });
});

describe('invalid numbers', () => {
  const p = expandGrid(grid)[0]!;
  it('a NaN or infinite sample makes the record invalid, not a result; the table does not throw', () => {
    const r = makeRecord(p, [ok([1, 2, NaN]), ok([1, 2, 3])], 1, 1);
    assert.equal(r.status, 'invalid');
    assert.equal(r.medianMs, null);
    assert.equal(makeRecord(p, ok([1, Infinity]), 1, 1).status, 'invalid');
    const doc = {
      schemaVersion: 1,
      kind: 'bench' as const,
      environment: {},
      options: {},
      roofline: null,
      summary: { crossovers: [], exponents: [] },
      records: [r],
    };
    assert.match(benchTable(doc), /invalid/);
  });

  it('compare reports invalid points and exits 2; it never calls them faster', () => {
    const good = makeRecord(p, [ok([5]), ok([5.1]), ok([4.9])], 1, 1);
    const bad = makeRecord(p, [ok([NaN]), ok([1])], 1, 1);
    const doc = (records: unknown[]) =>
      JSON.stringify({
        schemaVersion: 1,
        kind: 'bench',
        environment: { cpuModel: 'X', cores: 2, onnxruntimeVersion: '1' },
        options: { ep: 'cpu', threads: 1 },
        records,
      });
    writeFileSync(join(dir, 'good.json'), doc([good]));
    // As JSON writes it: NaN becomes null.
    writeFileSync(join(dir, 'nan.json'), doc([{ ...bad, status: 'ok', medianMs: null, samplesMs: [null, 1] }]));
    const r = cli(['compare', join(dir, 'good.json'), join(dir, 'nan.json'), '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).comparisons.map((c: { verdict: string }) => c.verdict),
      ['invalid'],
    );
    const t = cli(['compare', join(dir, 'good.json'), join(dir, 'nan.json')]);
    assert.equal(t.code, 2);
    assert.match(t.stdout, /invalid: a file holds NaN/);
  });

  it('error records: a non-finite mean is invalid and compares as invalid', () => {
    const rec = {
      kernel: 'favor-trig',
      featureType: 'iid',
      features: 16,
      target: 'output',
      metric: 'mse',
      seqLen: 64,
      dim: 8,
      causal: false,
      causalImpl: 'chunked',
      chunkSize: 64,
      inputScale: 1,
      seeds: 2,
      ep: 'cpu',
    };
    const doc = (mean: number | null, status: string) =>
      JSON.stringify({
        schemaVersion: 1,
        kind: 'error',
        environment: { cpuModel: 'X', cores: 2, onnxruntimeVersion: '1' },
        options: {},
        records: [{ ...rec, mean, status }],
      });
    writeFileSync(join(dir, 'e1.json'), doc(0.1, 'ok'));
    writeFileSync(join(dir, 'e2.json'), doc(null, 'invalid'));
    assert.equal(cli(['compare', join(dir, 'e1.json'), join(dir, 'e2.json')]).code, 2);
  });
});

describe('one key per computation', () => {
  it('changing any option that changes a bench computation changes the point key', () => {
    const p: BenchPoint = { ...expandGrid(grid)[0]!, causal: true, causalImpl: 'chunked' };
    const changes: Partial<BenchPoint>[] = [
      { kernel: 'favor-pos' },
      { pass: 'backward' },
      { causal: false },
      { causalImpl: 'prefix' },
      { chunkSize: 128 },
      { featureType: 'iid' },
      { features: 128 },
      { dim: 32 },
      { heads: 2 },
      { batch: 2 },
      { seqLen: 1024 },
      { dtype: 'float64' },
      { ep: 'cuda' },
      { scope: 'model', layers: 6, dFf: 2048, vocab: 256 },
    ];
    for (const c of changes) assert.notEqual(pointKey({ ...p, ...c }), pointKey(p), JSON.stringify(c));
    const model: BenchPoint = { ...p, scope: 'model', layers: 6, dFf: 2048, vocab: 256 };
    for (const c of [{ layers: 2 }, { dFf: 64 }, { vocab: 11 }]) assert.notEqual(pointKey({ ...model, ...c }), pointKey(model), JSON.stringify(c));
  });

  it('changing any option that changes an error computation changes the error key (input scale, causal strategy, chunk size too)', () => {
    const e: ErrorLike = {
      kernel: 'favor-pos',
      featureType: 'iid',
      features: 16,
      target: 'output',
      metric: 'mse',
      seqLen: 64,
      dim: 8,
      causal: true,
      causalImpl: 'chunked',
      chunkSize: 64,
      inputScale: 1,
      seeds: 15,
      ep: 'cpu',
      mean: 0,
    };
    const changes: Partial<ErrorLike>[] = [
      { kernel: 'favor-trig' },
      { featureType: 'orthogonal' },
      { features: 32 },
      { target: 'grad' },
      { metric: 'tv' },
      { seqLen: 128 },
      { dim: 16 },
      { causal: false },
      { causalImpl: 'prefix' },
      { chunkSize: 128 },
      { inputScale: 0.35 },
      { seeds: 3 },
      { ep: 'cuda' },
      { estimator: 'exact' },
    ];
    for (const c of changes) assert.notEqual(errorKey({ ...e, ...c }), errorKey(e), JSON.stringify(c));
    // Records written before the estimator field existed are graph records: same key.
    assert.equal(errorKey({ ...e, estimator: 'graph' }), errorKey(e));
  });
});

describe('journal, lock and files', () => {
  const args = (out: string) => ['bench', ...tiny, '--kernels', 'softmax,identity', '--out', out, '--format', 'json'];

  it('resume repairs a torn last line (and says so), twice in a row, losing no record', () => {
    const out = join(dir, 'torn');
    assert.equal(cli(args(out)).code, 0);
    const journal = join(out, 'results.jsonl');
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    writeFileSync(journal, `${lines.slice(0, 3).join('\n')}\n${lines[3]!.slice(0, 40)}`); // killed while writing line 4
    const first = cli([...args(out), '--resume']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /the last line was torn .* that point runs again/);
    appendFileSync(journal, '{"key":"half'); // and again
    const second = cli([...args(out), '--resume']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).records.length, 4);
    assert.equal(readFileSync(journal, 'utf8').trim().split('\n').length, 1 + 4);
  });

  it('resume with other options is refused, naming them; a run without --resume starts a fresh journal', () => {
    const out = join(dir, 'opts');
    assert.equal(cli(args(out)).code, 0);
    const r = cli([...args(out), '--resume', '--seed', '3', '--threads', '1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--resume: .*results\.jsonl was written with other options \(seed: 0 vs 3; threads: null vs 1\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(cli([...args(out), '--seed', '3']).code, 0);
    const journal = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
    assert.equal(journal.length, 1 + 4, "fresh: the earlier run's lines are gone");
    assert.equal(JSON.parse(journal[0]!).options.seed, 3);
  });

  it('a second run on a locked --out exits 2 naming the holder; a stale lock is taken over', () => {
    const out = join(dir, 'locked');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.performer.lock'), `${process.pid}\n`); // this test process: alive
    const r = cli(args(out));
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`in use by another performer run \\(pid ${process.pid}\\)`));
    writeFileSync(join(out, '.performer.lock'), '999999999\n'); // no such process
    assert.equal(cli(args(out)).code, 0);
    assert.ok(!existsSync(join(out, '.performer.lock')), 'released at exit');
  });

  it('a failed atomic write leaves no temporary file', () => {
    const target = join(dir, 'is-a-dir');
    mkdirSync(target, { recursive: true });
    assert.throws(() => writeAtomic(target, 'x'));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp-')),
      [],
    );
  });

  it('a results file that parses but is malformed exits 2 naming the file and the field', () => {
    const out = join(dir, 'malformed');
    assert.equal(cli(args(out)).code, 0);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    doc.records[1].seqLen = 'long';
    writeFileSync(join(dir, 'malformed.json'), JSON.stringify(doc));
    for (const cmd of [
      ['compare', join(out, 'results.json'), join(dir, 'malformed.json')],
      ['merge', join(dir, 'malformed.json'), '-o', join(dir, 'm.json')],
    ]) {
      const r = cli(cmd);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /malformed\.json' is malformed at records\[1\]\.seqLen: Expected number, received string/);
      assert.doesNotMatch(r.stderr, /TypeError|\n\s+at /);
    }
  });

  it('merge: shards whose machine-dependent defaults differ merge, recorded per shard; other options still refuse', () => {
    const a = join(dir, 'shard-a');
    const b = join(dir, 'shard-b');
    assert.equal(cli([...args(a), '--shard', '1/2', '--memory-budget', '8GiB']).code, 0);
    assert.equal(cli([...args(b), '--shard', '2/2', '--memory-budget', '6GiB']).code, 0);
    const merged = join(dir, 'merged.json');
    const r = cli(['merge', join(a, 'results.json'), join(b, 'results.json'), '-o', merged]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(readFileSync(merged, 'utf8'));
    assert.deepEqual(
      doc.options.shardOptions.map((s: { memoryBudgetBytes: number }) => s.memoryBudgetBytes),
      [8 * 2 ** 30, 6 * 2 ** 30],
    );
    const c = join(dir, 'shard-c');
    assert.equal(cli([...args(c), '--shard', '2/2', '--seed', '5']).code, 0);
    const bad = cli(['merge', join(a, 'results.json'), join(c, 'results.json'), '-o', join(dir, 'bad.json')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /other options .*seed: 0 vs 5/);
  });
});

describe('signals and up-front refusals', () => {
  it('SIGTERM stops a bench like Ctrl-C: finished processes kept, the hint printed, exit 143', async () => {
    const out = join(dir, 'term');
    const args = [
      'bench',
      '--seq-len',
      '16,32,64,128',
      '--kernels',
      'softmax,favor-pos,identity',
      '--dim',
      '8',
      '--features',
      '8',
      '--time-budget',
      '300ms',
      '--min-runs',
      '2',
      '--warmup',
      '0',
      '--no-limit',
      '--out',
      out,
    ];
    const { code, stderr } = await interruptAfter(args, join(out, 'results.jsonl'), 3, 'SIGTERM');
    assert.equal(code, 143, stderr);
    assert.match(
      stderr,
      /interrupted \(SIGTERM\): \d+ of 24 points have results; every finished process is kept in .* \(continue with the same command and --resume\)/,
    );
    assert.ok(existsSync(join(out, 'results.json')), 'partial results written');
    assert.ok(!existsSync(join(out, '.performer.lock')), 'lock released');
  });

  it('a grid where nothing can run, or features beyond the memory budget, are refused at once with one line', () => {
    for (const [extra, msg] of [
      [['--kernels', 'softmax-fused', '--pass', 'backward'], /--kernels: nothing in this grid can run: --pass: kernel softmax-fused has no backward graph/],
      [['--kernels', 'favor-pos', '--features', '99999999'], /--features: 99999999 features need at least .* over the memory budget/],
    ] as const) {
      const started = Date.now();
      const r = cli(['bench', '--seq-len', '256', '--no-limit', ...extra]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.ok(Date.now() - started < 10_000, 'refused before any work');
    }
  });

  it('error --leak honours --out: results.json of kind leak and results.csv', () => {
    const out = join(dir, 'leak');
    const r = cli(['error', '--leak', '--seq-len', '32', '--dim', '8', '--features', '8', '--kernels', 'favor-pos', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(doc.kind, 'leak');
    assert.ok(doc.records.some((x: { kernel: string }) => x.kernel === 'favor-pos'));
    assert.ok(existsSync(join(out, 'results.csv')));
  });
});
