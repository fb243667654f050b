import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Session } from '../src/runtime/session.ts';
import { cli } from './helpers/cli.ts';
import { randn } from './helpers/run.ts';


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
    assert.deepEqual(names.sort(), ['elu', 'favor-hyp', 'favor-pos', 'favor-relu', 'favor-trig', 'identity', 'relu', 'softmax', 'softmax-fused']);
    assert.doesNotMatch(cli(['kernels']).stdout, /\x1b\[/, 'NO_COLOR output has no escape codes');
  });

  it('export writes a model that runs with the documented names', async () => {
    const file = join(dir, 'favor.onnx');
    const r = cli(['export', '--kernel', 'favor-pos', '--causal', '--batch', '1', '--heads', '2', '--seq-len', '12', '--dim', '4', '--features', '8', '-o', file]);
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
    assert.equal(cli(['export', '--kernel', 'favor-pos', '--pass', 'backward', '--seq-len', '8', '--heads', '1', '--dim', '4', '--features', '6', '-o', file]).code, 0);
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
    ['unknown feature type', ['export', '--kernel', 'favor-pos', '--feature-type', 'x', '-o', 'x.onnx'], /--feature-type: 'x' is not supported \(allowed: iid, orthogonal, orthogonal-fixed\)/],
    ['unsupported combination', ['export', '--kernel', 'softmax-fused', '--pass', 'backward', '-o', 'x.onnx'], /--pass: kernel softmax-fused has no backward graph/],
    ['unsupported dtype', ['export', '--kernel', 'softmax-fused', '--dtype', 'float64', '-o', 'x.onnx'], /--dtype: kernel softmax-fused does not support float64/],
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
