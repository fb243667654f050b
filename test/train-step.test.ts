/**
 * `bench --scope train`: the step bench times is the step `performer train` takes (the same
 * training graph, an optimiser that moves the weights), measured through bench's pipeline, and
 * `train --step-time` hands over to it with a command that runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pointConfig, pointFingerprint, pointShape } from '../src/bench/graph.ts';
import { expandGrid, type GridOptions } from '../src/bench/grid.ts';
import { measurePoint } from '../src/bench/measure.ts';
import { getKernel } from '../src/kernels/index.ts';
import { BYTE_VOCAB } from '../src/train/data/types.ts';
import { classifierFingerprint, trainKernelConfig } from '../src/train/model.ts';
import { openTrainStep } from '../src/train/step.ts';
import { cli } from './helpers/cli.ts';
import { testGrid } from './helpers/grid.ts';

const dir = mkdtempSync(join(tmpdir(), 'performer-train-step-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const grid = (o: Partial<GridOptions> = {}): GridOptions =>
  testGrid({ seqLens: [16], passes: ['backward'], batches: [2], heads: 2, scope: 'train', layers: 1, dFf: 16, vocab: BYTE_VOCAB, ...o });

describe('bench --scope train', () => {
  it('times the graph performer train trains: the fingerprints agree, kernel by kernel', () => {
    for (const p of expandGrid(grid({ kernels: ['softmax', 'favor-pos', 'favor-relu'] }))) {
      const train = classifierFingerprint({ kernel: getKernel(p.kernel), shape: pointShape(p), classes: 2, pooling: 'mean', objective: 'classify' }, (seed) =>
        trainKernelConfig({ causal: false, causalImpl: 'chunked', chunkSize: 8, features: 8, featureType: 'orthogonal' }, seed),
      );
      assert.equal(pointFingerprint(p), train, p.kernel);
      // and not the forward+backward graph of the encoder alone (model scope)
      assert.notEqual(pointFingerprint({ ...p, scope: 'model' }), train, p.kernel);
    }
  });

  it('a step moves the weights: the loss on the repeated batch falls', async () => {
    const [p] = expandGrid(grid({ kernels: ['favor-pos'] }));
    const step = await openTrainStep({ kernel: getKernel(p!.kernel), shape: pointShape(p!), config: pointConfig(p!), ep: 'cpu', threads: 1 }, 0, false);
    try {
      // The session runs the graph bench estimated and fingerprinted (built through train's own request).
      assert.equal(step.graphHash, pointFingerprint(p!));
      const losses: number[] = [];
      for (let i = 0; i < 60; i++) losses.push(await step.run());
      // Two random labels on two sequences: AdamW at 1e-3 (20 warm-up steps) memorises them; a
      // step that skipped the update would leave the loss where it started (≈ ln 2 ± noise).
      assert.ok(losses.every(Number.isFinite));
      assert.ok(losses.at(-1)! < 0.5 * losses[0]!, `loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(3)}`);
    } finally {
      await step.release();
    }
  });

  it('measures in bench’s pipeline: ok, the runs asked for, first run apart', async () => {
    const [p] = expandGrid(grid({ kernels: ['softmax'] }));
    const m = await measurePoint(p!, { timeMs: 5, minRuns: 3, warmupRuns: 1, profile: false });
    assert.equal(m.status, 'ok', m.error ?? '');
    assert.ok(m.samplesMs.length >= 3 && m.samplesMs.every((x) => x > 0));
    assert.ok(m.firstRunMs !== null && m.sessionCreateMs !== null);
  });

  it('refuses what a training step cannot be, one line each, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['--pass', 'forward'], /^--pass: a training step is a forward and a backward pass/],
      [['--dtype', 'float16'], /^--dtype: --scope train trains in float32/],
      [['--profile'], /^--profile: with --scope train/],
      [['--d-model', '10', '--heads', '4'], /^--d-model: model width 10 is not divisible by 4 heads/],
    ];
    for (const [args, re] of cases) {
      const r = cli(['bench', '--scope', 'train', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!.replace(/^performer: /, ''), re);
    }
  });

  it('train --step-time names the bench command, and that command runs the same model', () => {
    for (const [args, re] of [
      [['--objective', 'lm'], /^--step-time: times the classifier's training step; --objective lm is not timed/],
      [['--pooling', 'cls'], /^--pooling: --step-time times mean pooling, not cls/],
    ] as const) {
      const bad = cli(['train', '--step-time', ...args]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr.trim().replace(/^performer: /, ''), re);
    }
    const r = cli([
      'train',
      '--step-time',
      '--seq-len',
      '16,32',
      '--kernels',
      'softmax,favor-pos,favor-pos+noredraw', // a run label's variant means nothing to one step: bench gets the kernel, once
      '--d-model',
      '8',
      '--heads',
      '2',
      '--layers',
      '1',
      '--d-ff',
      '16',
      '--batch',
      '2',
      '--features',
      '8',
      '--repeat',
      '1',
    ]);
    assert.equal(r.code, 2, r.stderr);
    const command = /run: performer (bench .*)$/.exec(r.stderr.trim())?.[1];
    assert.ok(command, r.stderr);
    const out = join(dir, 'steps');
    const b = cli([...command.split(' '), '--time-budget', '1ms', '--min-runs', '1', '--no-limit', '--quiet', '--out', out]);
    assert.equal(b.code, 0, b.stderr);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(doc.kind, 'bench');
    assert.deepEqual(
      doc.records.map((x: Record<string, unknown>) => [x.kernel, x.seqLen, x.scope, x.pass, x.status, x.dim, x.layers, x.dFf, x.vocab, x.features]),
      [
        ['softmax', 16, 'train', 'backward', 'ok', 8, 1, 16, BYTE_VOCAB, 8],
        ['favor-pos', 16, 'train', 'backward', 'ok', 8, 1, 16, BYTE_VOCAB, 8],
        ['softmax', 32, 'train', 'backward', 'ok', 8, 1, 16, BYTE_VOCAB, 8],
        ['favor-pos', 32, 'train', 'backward', 'ok', 8, 1, 16, BYTE_VOCAB, 8],
      ],
    );
  });
});
