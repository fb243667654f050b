import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Session } from '../src/runtime/session.ts';
import { cli } from './helpers/cli.ts';
import { randn } from './helpers/run.ts';
import { testGrid } from './helpers/grid.ts';

const dir = mkdtempSync(join(tmpdir(), 'performer-cli-'));

describe('performer info / kernels / export', () => {
  it('info --json reports the runtime, providers and machine', () => {
    const r = cli(['info', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.match(info.environment.onnxruntimeVersion, /^1\.30\./);
    assert.equal(info.providers.find((p: { name: string }) => p.name === 'cpu').loadable, true);
    assert.ok(info.environment.cores >= 1 && info.environment.memoryBytes > 0);
  });

  it('kernels lists every kernel with passes and modes', () => {
    const r = cli(['kernels', '--json']);
    assert.equal(r.code, 0);
    const names = JSON.parse(r.stdout).map((k: { name: string }) => k.name);
    assert.deepEqual(names.sort(), [
      'elu',
      'favor-hyp',
      'favor-opr',
      'favor-pos',
      'favor-relu',
      'favor-sade',
      'favor-trig',
      'identity',
      'relu',
      'softmax',
      'softmax-fused',
    ]);
    assert.doesNotMatch(cli(['kernels']).stdout, /\x1b\[/, 'NO_COLOR output has no escape codes');
  });

  it('export writes a model that runs with the documented names', async () => {
    const file = join(dir, 'favor.onnx');
    const r = cli([
      'export',
      '--kernel',
      'favor-pos',
      '--causal',
      '--batch',
      '1',
      '--heads',
      '2',
      '--seq-len',
      '12',
      '--dim',
      '4',
      '--features',
      '8',
      '-o',
      file,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const s = await Session.create(readFileSync(file), { ep: 'cpu' });
    assert.deepEqual([...s.inputNames].sort(), ['k', 'q', 'v']);
    assert.deepEqual([...s.outputNames], ['out']);
    const t = { dtype: 'float32' as const, dims: [1, 2, 12, 4], data: Float32Array.from(randn(1, 96)) };
    const out = await s.run({ q: t, k: t, v: t });
    assert.deepEqual(out.out!.dims, [1, 2, 12, 4]);
  });

  it('export --pass backward adds grad_out → grad_q, grad_k, grad_v and keeps the projection initializer', async () => {
    const file = join(dir, 'favor-bwd.onnx');
    assert.equal(
      cli(['export', '--kernel', 'favor-pos', '--pass', 'backward', '--seq-len', '8', '--heads', '1', '--dim', '4', '--features', '6', '-o', file]).code,
      0,
    );
    const bytes = readFileSync(file);
    assert.ok(bytes.includes(Buffer.from('projection')));
    const s = await Session.create(bytes, { ep: 'cpu' });
    assert.deepEqual([...s.inputNames].sort(), ['grad_out', 'k', 'q', 'v']);
    assert.deepEqual([...s.outputNames], ['out', 'grad_q', 'grad_k', 'grad_v']);
  });

  const bad: [string, string[], RegExp][] = [
    ['unknown kernel', ['export', '--kernel', 'nope', '-o', 'x.onnx'], /--kernel: unknown kernel 'nope' \(allowed: softmax/],
    ['non-positive size', ['export', '--kernel', 'softmax', '--seq-len', '0', '-o', 'x.onnx'], /--seq-len: '0' is not a positive integer/],
    ['non-integer size', ['export', '--kernel', 'softmax', '--dim', '2.5', '-o', 'x.onnx'], /--dim: '2.5' is not a positive integer/],
    [
      'unknown feature type',
      ['export', '--kernel', 'favor-pos', '--feature-type', 'x', '-o', 'x.onnx'],
      /--feature-type: 'x' is not supported \(allowed: iid, orthogonal, orthogonal-fixed, sorf, sorf-fixed\)/,
    ],
    [
      'unsupported combination',
      ['export', '--kernel', 'softmax-fused', '--pass', 'backward', '-o', 'x.onnx'],
      /--pass: kernel softmax-fused has no backward graph/,
    ],
    [
      'unsupported dtype',
      ['export', '--kernel', 'softmax-fused', '--dtype', 'float64', '-o', 'x.onnx'],
      /--dtype: kernel softmax-fused does not support float64/,
    ],
    ['unwritable path', ['export', '--kernel', 'softmax', '-o', '/nonexistent-dir/x.onnx'], /--output: cannot write/],
    ['unknown command', ['frobnicate'], /unknown command/],
  ];
  for (const [what, args, message] of bad)
    it(`bad input (${what}) exits 2 with one line and no stack trace`, () => {
      const r = cli(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
});

describe("a CLI in the user's terms", () => {
  it('help shows defaults as a user types them: no raw byte counts or JSON arrays; bench ends with examples', () => {
    for (const cmd of ['bench', 'error', 'export', 'compare', 'merge', 'reproduce', 'plot', 'roofline', 'info', 'kernels', 'completion']) {
      const r = cli([cmd, '--help']);
      assert.equal(r.code, 0, cmd);
      assert.doesNotMatch(r.stdout, /default: \[|default: "|\d{7,}/, `${cmd} --help: ${r.stdout}`);
    }
    const bench = cli(['bench', '--help']).stdout;
    assert.match(bench, /default: 256\.\.8192/);
    assert.match(bench, /default: 80% of RAM, [\d.]+ GiB/);
    assert.match(bench, /Examples:\n(  performer bench.*\n(      .*\n)?){3}/);
  });

  it('--version names the ONNX Runtime too; completion prints a script naming every command', () => {
    assert.match(cli(['--version']).stdout, /^\d+\.\d+\.\d+ \(ONNX Runtime 1\.\d+\.\d+\)/);
    const bash = cli(['completion', 'bash']);
    assert.equal(bash.code, 0);
    for (const word of ['bench', 'compare', '--repeat', '--against', 'complete -o default -F _performer performer'])
      assert.ok(bash.stdout.includes(word), word);
    assert.match(cli(['completion', 'zsh']).stdout, /^autoload -U \+X bashcompinit/);
    assert.equal(cli(['completion', 'fish']).code, 2);
  });

  it('CSV writes booleans as true/false; an empty cell means not applicable', () => {
    const out = join(dir, 'csv');
    assert.equal(
      cli([
        'bench',
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
        '2',
        '--warmup',
        '0',
        '--no-limit',
        '--out',
        out,
        '--format',
        'csv',
      ]).code,
      0,
    );
    const [head, row] = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    const cells = Object.fromEntries(head!.split(',').map((k, i) => [k, row!.split(',')[i]]));
    assert.equal(cells.causal, 'false');
    assert.equal(cells.layers, '', 'model sizes do not apply in the attention scope');
  });

  it('--ep: unknown providers and providers that cannot start here exit 2 with one line, before any work', () => {
    const bad = cli(['bench', '--ep', 'tpu']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--ep: 'tpu' is not supported \(allowed: cpu, cuda, webgpu\)/);
    const gpu = cli(['bench', '--ep', 'webgpu', '--seq-len', '16', '--kernels', 'identity', '--pass', 'forward', '--no-limit']);
    if (gpu.code === 2) assert.match(gpu.stderr, /performer: --ep: the webgpu execution provider cannot run on this machine/);
    else assert.equal(gpu.code, 0, 'a machine with a WebGPU adapter runs it');
  });

  it('progress: with stderr not a terminal, plain lines show life; --quiet silences them', () => {
    const args = [
      'bench',
      '--seq-len',
      '16,32',
      '--kernels',
      'softmax,identity',
      '--pass',
      'forward',
      '--dim',
      '8',
      '--time-budget',
      '5ms',
      '--min-runs',
      '2',
      '--warmup',
      '0',
      '--no-limit',
      '--repeat',
      '2',
    ];
    const r = cli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^performer: 8 measurement processes to run, one per point and round$/m);
    assert.match(r.stderr, /^performer: 8\/8 processes done/m);
    assert.equal(cli([...args, '--quiet']).stderr, '');
  });
});

describe('the ETA cost model', () => {
  it('predicts the time left from analytic FLOPs calibrated by finished processes', async () => {
    const { EtaModel, approxFlops } = await import('../src/bench/eta.ts');
    const { expandGrid } = await import('../src/bench/grid.ts');
    const points = expandGrid(testGrid({ kernels: ['softmax'], seqLens: [256, 512, 1024], dim: 64, features: 256, chunkSize: 64 }));
    assert.ok(approxFlops(points[1]!) > 3.5 * approxFlops(points[0]!), 'softmax grows like L²');
    // A machine doing 1 FLOP per ns with 300 ms of overhead a process, a 10 ms budget, 5 runs.
    const measure = { timeMs: 10, minRuns: 5, warmupRuns: 0, profile: false };
    const model = new EtaModel(measure);
    const run = (i: number) => {
      const ms = approxFlops(points[i]!) / 1e6;
      const samples = Array.from({ length: Math.max(5, Math.ceil(10 / ms)) }, () => ms);
      return { samples, wall: 300 + ms * (samples.length + 1) };
    };
    const first = run(0);
    model.observe(points[0]!, first.wall, {
      status: 'ok',
      samplesMs: first.samples,
      firstRunMs: first.samples[0]!,
      sessionCreateMs: 0,
      peakMemoryBytes: 0,
      profile: null,
      error: null,
    });
    const truth = run(1).wall + run(2).wall;
    const predicted = model.predict(points.slice(1))!;
    assert.ok(Math.abs(predicted / truth - 1) < 0.3, `predicted ${predicted} vs ${truth}`);
  });
});
