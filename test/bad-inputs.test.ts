/**
 * Issue #34, part B: invocations a hostile pass found accepted (exit 0), failing as a crash
 * (exit 1) or refused in several lines. Each must exit 2 with one stderr line that names the flag
 * or file, print no stack or native trace, and leave no file behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { providerProblem } from '../src/runtime/info.ts';

const bin = new URL('../bin/performer.js', import.meta.url).pathname;
const hand = new URL('./fixtures/hand-bench.json', import.meta.url).pathname;
const errorResults = new URL('../results/fig4-output-mse/data.json', import.meta.url).pathname;
const distributions = new URL('../results/fig3-attention', import.meta.url).pathname;

const root = mkdtempSync(join(tmpdir(), 'performer-bad-'));
const inputs = join(root, 'inputs');
const at = (name: string) => join(inputs, name);

/** Runs performer in `cwd` (NO_COLOR), at most two minutes. */
function run(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file under `dir` with its size and modification time: what "left behind" or "changed" compares. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return `${f} ${s.isDirectory() ? 'dir' : `${s.size} ${s.mtimeMs}`}`;
    });
}

/** The inputs the cases read: results files broken one way each, a Latin-1 CSV, directories holding other kinds of run. */
function writeInputs(): void {
  mkdirSync(inputs);
  const doc = JSON.parse(readFileSync(hand, 'utf8')) as { records: Record<string, unknown>[]; schemaVersion?: number; kind: string };
  const write = (name: string, value: unknown) => writeFileSync(at(name), typeof value === 'string' ? value : JSON.stringify(value));
  write('v99.json', { ...doc, schemaVersion: 99 });
  const { schemaVersion: _, ...unversioned } = doc;
  write('unversioned.json', unversioned);
  write('kind.json', { ...doc, kind: 'frobnicate' });
  write('negative-median.json', { ...doc, records: doc.records.map((r, i) => (i ? r : { ...r, medianMs: -1 })) });
  write('negative-process.json', { ...doc, records: doc.records.map((r, i) => (i ? r : { ...r, processMediansMs: [1, -2] })) });
  write('broken.json', '{\n  "records": [\n    oops\n  ]\n}\n');
  write('abc.csv', 'kernel,pass,causal,seqLen,batch,status,medianMs\nsoftmax,forward,false,256,1,ok,abc\n');
  writeFileSync(at('latin1.csv'), Buffer.concat([Buffer.from('text,label\ncaf'), Buffer.from([0xe9]), Buffer.from(' au lait,pos\nplain tea,neg\n')]));
  // What `performer train --out` leaves: a journal naming its task, results.json of kind train, checkpoints.
  mkdirSync(at('train-run'));
  write(
    'train-run/results.jsonl',
    `${JSON.stringify({ journal: 'performer', schemaVersion: 1, options: { task: 'toy', kernels: ['softmax'], steps: 300 } })}\n`,
  );
  write('train-run/results.json', { schemaVersion: 1, kind: 'train', environment: {}, options: {}, records: [] });
  write('train-run/softmax-seed0.ckpt', 'weights');
  // An interrupted bench run: its journal's header.
  mkdirSync(at('bench-run'));
  write(
    'bench-run/results.jsonl',
    `${JSON.stringify({ journal: 'performer', schemaVersion: 1, options: { kernels: ['softmax'], seqLens: [16], passes: ['forward'] } })}\n`,
  );
}

// Flags that keep a case cheap should a regression let it run.
const tinyBench = [
  '--seq-len',
  '16',
  '--kernels',
  'identity',
  '--pass',
  'forward',
  '--dim',
  '8',
  '--time-budget',
  '5ms',
  '--min-runs',
  '1',
  '--warmup',
  '0',
  '--no-limit',
  '--quiet',
];
const tinyError = ['--seeds', '1', '--seq-len', '16', '--dim', '4'];

type Case = readonly [group: string, args: readonly string[], names: RegExp, needs?: 'webgpu-missing' | 'cuda-missing'];

const CASES: readonly Case[] = [
  ['1 empty list entry', ['bench', '--kernels', 'softmax,,favor-pos', '--seq-len', '16', '--no-limit'], /--kernels: 'softmax,,favor-pos' has an empty entry/],
  ['1 empty list entry', ['bench', '--seq-len', '256,,512', '--kernels', 'identity'], /--seq-len: .* empty entry/],
  ['1 empty list entry', ['bench', '--seq-len', '64,', '--kernels', 'identity'], /--seq-len: '64,' has an empty entry/],
  ['1 empty list entry', ['bench', '--batch', '1,,2', '--seq-len', '16', '--kernels', 'identity'], /--batch: .* empty entry/],
  ['1 empty list entry', ['error', '--features', '16,,32', ...tinyError], /--features: .* empty entry/],
  ['1 empty list entry', ['error', '--input-scale', '1,,2', ...tinyError], /--input-scale: .* empty entry/],
  ['1 empty list entry', ['train', '--kernels', 'softmax,,favor-pos', '--task', 'toy', '--steps', '1'], /--kernels: .* empty entry/],
  ['2 --ep webgpu without an adapter', ['bench', '--ep', 'webgpu', ...tinyBench], /--ep: the webgpu .*\(allowed: cpu/, 'webgpu-missing'],
  ['2 --ep webgpu without an adapter', ['error', '--ep', 'webgpu', ...tinyError], /--ep: the webgpu .*\(allowed: cpu/, 'webgpu-missing'],
  ['2 --ep webgpu without an adapter', ['train', '--ep', 'webgpu', '--task', 'toy', '--steps', '1'], /--ep: the webgpu .*\(allowed: cpu/, 'webgpu-missing'],
  ['2 --ep webgpu without an adapter', ['roofline', '--ep', 'webgpu'], /--ep: the webgpu .*\(allowed: cpu/, 'webgpu-missing'],
  ['3 --ep cuda not installed', ['bench', '--ep', 'cuda', ...tinyBench], /--ep: the CUDA .*\(allowed: cpu/, 'cuda-missing'],
  ['3 --ep cuda not installed', ['error', '--ep', 'cuda', ...tinyError], /--ep: the CUDA .*\(allowed: cpu/, 'cuda-missing'],
  ['3 --ep cuda not installed', ['train', '--ep', 'cuda', '--task', 'toy', '--steps', '1'], /--ep: the CUDA .*\(allowed: cpu/, 'cuda-missing'],
  ['3 --ep cuda not installed', ['roofline', '--ep', 'cuda'], /--ep: the CUDA .*\(allowed: cpu/, 'cuda-missing'],
  ['4 plot validates like compare', ['plot', at('v99.json'), '-o', 'x.svg'], /<data>: '.*v99\.json' has schemaVersion 99 \(allowed: 1\)/],
  ['4 plot validates like compare', ['plot', at('unversioned.json'), '-o', 'x.svg'], /<data>: '.*unversioned\.json' has schemaVersion undefined/],
  ['4 plot validates like compare', ['plot', at('kind.json'), '-o', 'x.svg'], /<data>: '.*kind\.json' has kind frobnicate \(allowed: bench, error/],
  ['4 plot validates like compare', ['plot', at('abc.csv'), '-o', 'x.svg'], /<data>: '.*abc\.csv' is malformed at records\[0\]\.medianMs/],
  ['5 output checked first', ['plot', hand, '-o', 'missing/x.svg'], /--output: cannot write 'missing\/x\.svg': ENOENT/],
  ['5 output checked first', ['report', distributions, '-o', 'missing/r.html'], /--output: cannot write 'missing\/r\.html': ENOENT/],
  ['5 a parse error on one line', ['plot', at('broken.json'), '-o', 'x.svg'], /<data>: '.*broken\.json' is not valid JSON: .*\\n/],
  [
    '6 incompatible combination',
    ['report', hand, '--baseline-file', errorResults, '-o', 'r.html'],
    /--baseline-file: '.*data\.json' holds error results, but '.*hand-bench\.json' holds bench results/,
  ],
  ['6 incompatible combination', ['error', '--leak', '--target', 'kernel', ...tinyError.slice(2)], /--target: is ignored by --leak/],
  ['6 incompatible combination', ['reproduce', '--quick', '--resume'], /<id>: --quick needs an experiment id \(allowed: all, fig2-utility/],
  ['7 impossible value', ['export', '--kernel', 'softmax', '--seq-len', '99999999999', '-o', 'x.onnx'], /--seq-len: 99999999999 tokens .* more than the 4 GiB/],
  ['7 impossible value', ['bench', '--memory-budget', '150%', ...tinyBench], /--memory-budget: '150%' is more than all of the memory/],
  ['7 impossible value', ['train', '--task', 'text-csv', '--data', at('latin1.csv'), '--steps', '1'], /--data: .*latin1\.csv is not UTF-8 text \(line 2/],
  [
    '7 impossible value',
    ['compare', at('negative-median.json'), hand],
    /<baseline>: '.*negative-median\.json' is malformed at records\[0\]\.medianMs: Number must be greater than or equal to 0/,
  ],
  [
    '7 impossible value',
    ['compare', hand, at('negative-process.json')],
    /<current>: '.*negative-process\.json' is malformed at records\[0\]\.processMediansMs\[1\]/,
  ],
  [
    '8 --resume into another kind',
    ['bench', '--resume', '--out', at('train-run'), ...tinyBench],
    /--resume: '.*train-run' holds a train run, not a bench run \(allowed: the --out of an interrupted bench run\)/,
  ],
  [
    '8 --resume into another kind',
    ['train', '--resume', '--out', at('bench-run'), '--task', 'toy', '--steps', '1'],
    /--resume: '.*bench-run' holds a bench run, not a train run/,
  ],
  [
    '9 fresh --out over another kind',
    ['bench', '--out', at('train-run'), ...tinyBench],
    /--out: '.*train-run' holds a train run, not a bench run; .*\(allowed: another --out, or remove the directory first\)/,
  ],
  ['9 fresh --out over another kind', ['error', '--out', at('train-run'), ...tinyError], /--out: '.*train-run' holds a train run, not an error run/],
];

describe('bad input: exit 2, one line naming the flag or file, no trace, nothing left behind (#34 B)', () => {
  let inputsBefore: string[];
  const results = new Map<Case, Promise<{ code: number | null; stderr: string; cwd: string } | 'skipped'>>();
  before(async () => {
    writeInputs();
    inputsBefore = listing(inputs);
    const missing = { 'webgpu-missing': (await providerProblem('webgpu')) !== null, 'cuda-missing': (await providerProblem('cuda')) !== null };
    // Every case starts now, two processes at a time (the machine has two cores); each test awaits its own.
    const lanes = [Promise.resolve(), Promise.resolve()];
    CASES.forEach((c, i) => {
      if (c[3] && !missing[c[3]]) return results.set(c, Promise.resolve('skipped'));
      const cwd = mkdtempSync(join(root, 'cwd-'));
      const p = lanes[i % 2]!.then(() => run(c[1], cwd)).then((r) => ({ ...r, cwd }));
      lanes[i % 2] = p.then(() => undefined);
      results.set(c, p);
    });
  });

  for (const c of CASES) {
    const [group, args, names] = c;
    it(`${group}: performer ${args.map((a) => a.replace(inputs, '…')).join(' ')}`, async (t) => {
      const r = await results.get(c)!;
      if (r === 'skipped') return t.skip('the provider runs on this machine');
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l.trim());
      assert.equal(lines.length, 1, `one line on stderr:\n${r.stderr}`);
      assert.match(lines[0]!, /^performer: /);
      assert.match(lines[0]!, names);
      assert.doesNotMatch(r.stderr, /^\s+at |operator\(\)|Warning:|\.cc:\d+|\.cpp:\d+/m, 'no stack or native trace');
      assert.deepEqual(listing(r.cwd), [], 'nothing left in the working directory');
    });
  }

  it('the inputs, and the directories of other runs, are unchanged', async () => {
    await Promise.all(results.values());
    assert.deepEqual(listing(inputs), inputsBefore);
  });
});

describe('rendering is quiet (#34 B 5)', () => {
  it('plot and report of valid files print nothing on stderr: no vega-lite legend warning', async () => {
    const cwd = mkdtempSync(join(root, 'render-'));
    for (const args of [
      ['plot', hand, '-o', 'bench.svg'],
      ['plot', errorResults, '-o', 'error.svg'],
      ['report', distributions, '-o', 'r.html'],
    ]) {
      const r = await run(args, cwd);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '', `${args.join(' ')}: ${r.stderr}`);
    }
    assert.deepEqual(readdirSync(cwd).sort(), ['bench.svg', 'bench.vl.json', 'error.svg', 'error.vl.json', 'r.html']);
  });
});
