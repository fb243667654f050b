import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import type { BenchRecord } from '../src/bench/types.ts';
import { distributionSpec } from '../src/report/plot-specs.ts';
import { cli } from './helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'performer-plot-'));
const hand = new URL('./fixtures/hand-bench.json', import.meta.url).pathname;

/** Paths inside the SVG group of one Vega mark layer. */
const marksIn = (svg: string, layer: string) =>
  [...svg.matchAll(new RegExp(`<g class="mark-[a-z]+ role-mark ${layer}"[^>]*>(.*?)</g>`, 'gs'))].reduce(
    (n, m) => n + (m[1]!.match(/<(path|line)\b/g)?.length ?? 0),
    0,
  );

describe('performer plot', () => {
  it('a hand-made bench file: one line per series, a × per OPT point, one oom marker, the crossover marked; one colour per kernel', () => {
    const out = join(dir, 'hand.svg');
    const r = cli(['plot', hand, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const svg = readFileSync(out, 'utf8');
    assert.doesNotThrow(() => new Resvg(svg), 'the SVG parses');
    assert.equal(marksIn(svg, 'child_layer_0_layer_0_marks'), 2, 'softmax and favor-pos lines');
    assert.equal(marksIn(svg, 'child_layer_1_marks'), 3 + 1, 'three identity (OPT) ×, and softmax running out of memory at L = 1024');
    assert.equal(marksIn(svg, 'child_layer_2_marks'), 1, 'the crossover of favor-pos');
    for (const name of ['softmax', 'favor-pos', 'sequence length L', 'time (median)', 'OPT (identity)', 'out of memory', 'L* ≈'])
      assert.ok(svg.includes(name), name);
    const spec = JSON.parse(readFileSync(join(dir, 'hand.vl.json'), 'utf8'));
    assert.match(spec.$schema, /vega-lite/);
    // One colour per kernel, fixed by the registry, whatever the batch: the encoding is by kernel.
    const color = spec.spec.layer[0].encoding.color;
    assert.equal(color.field, 'kernel');
    assert.deepEqual(color.scale.domain, ['softmax', 'favor-pos']);
    assert.equal(new Set(color.scale.range).size, 2);
  });

  it('PNG output decodes with a non-trivial size', () => {
    const out = join(dir, 'hand.png');
    assert.equal(cli(['plot', hand, '-o', out]).code, 0);
    const png = readFileSync(out);
    assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
    const [w, h] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    assert.ok(w > 400 && h > 200, `${w}×${h}`);
  });

  it('error results and the utility grid plot with their series', () => {
    const err = join(dir, 'err.json');
    const records = ['iid', 'orthogonal'].flatMap((featureType) =>
      [16, 32].map((features) => ({
        kernel: 'favor-pos',
        featureType,
        features,
        target: 'output',
        metric: 'mse',
        seqLen: 64,
        dim: 16,
        causal: false,
        mean: 1 / features,
        std: 0.1 / features,
        min: 0.5 / features,
        max: 2 / features,
      })),
    );
    // A complete error results file: plot reads it as compare does (schema checked).
    writeFileSync(err, JSON.stringify({ schemaVersion: 1, kind: 'error', environment: {}, options: {}, records }));
    assert.equal(cli(['plot', err, '-o', join(dir, 'err.svg')]).code, 0);
    const svg = readFileSync(join(dir, 'err.svg'), 'utf8');
    assert.ok(svg.includes('favor-pos iid') && svg.includes('favor-pos orthogonal'));
    const grid = join(dir, 'util.csv');
    assert.equal(cli(['theory', 'utility', '--angle-steps', '21', '--norm-steps', '5', '-o', grid]).code, 0);
    assert.equal(cli(['plot', grid, '-o', join(dir, 'util.svg')]).code, 0);
    assert.ok(readFileSync(join(dir, 'util.svg'), 'utf8').includes('slice l = 1.00'));
  });

  it('bad input exits 2 with one line', () => {
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '[1, 2');
    for (const [args, msg] of [
      [[junk], /is not valid JSON/],
      [[join(dir, 'none.json')], /cannot read/],
      [[hand, '-o', join(dir, 'x.pdf')], /--output: .* must end in \.svg or \.png/],
    ] as const) {
      const r = cli(['plot', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, msg);
    }
  });
});

describe('performer report', () => {
  it('writes one self-contained HTML page: every figure inline as SVG, the tables, the verdicts; no scripts or fetches', async () => {
    const { parse } = await import('node-html-parser');
    const out = join(dir, 'run');
    assert.equal(
      cli([
        'bench',
        '--seq-len',
        '16,32',
        '--kernels',
        'softmax,favor-pos',
        '--pass',
        'forward',
        '--dim',
        '8',
        '--features',
        '8',
        '--time-budget',
        '5ms',
        '--min-runs',
        '3',
        '--warmup',
        '0',
        '--no-limit',
        '--repeat',
        '2',
        '--out',
        out,
      ]).code,
      0,
    );
    const page = join(dir, 'report.html');
    const r = cli(['report', out, '--baseline-file', join(out, 'results.json'), '-o', page]);
    assert.equal(r.code, 0, r.stderr);
    const root = parse(readFileSync(page, 'utf8'));
    assert.equal(root.querySelectorAll('section').length, 1);
    assert.equal(root.querySelectorAll('figure svg').length, 2, 'the timing figure and the sample distributions');
    assert.equal(root.querySelectorAll('table').length, 1 + 1 + 1, 'environment, results, verdicts');
    assert.match(root.querySelector('.cmd code')!.text, /^performer bench --seq-len 16,32/);
    assert.equal(root.querySelectorAll('script').length, 0);
    const refs = root.querySelectorAll('[src],[href]').map((e) => e.getAttribute('src') ?? e.getAttribute('href') ?? '');
    assert.ok(
      refs.every((u) => !/^https?:/.test(u)),
      refs.join(' '),
    );
    assert.equal(cli(['report', join(dir, 'nothing-here'), '-o', page]).code, 2);
  });

  it('plot --distributions draws a box per point and the process medians', () => {
    const out = join(dir, 'run');
    const svg = join(dir, 'dist.svg');
    assert.equal(cli(['plot', join(out, 'results.json'), '--distributions', '-o', svg]).code, 0);
    const text = readFileSync(svg, 'utf8');
    assert.ok(text.includes('time per run') && text.includes('process'), 'axis title and subtitle');
    assert.equal(cli(['plot', hand, '--distributions', '-o', svg]).code, 2, 'a file without samples is refused');
  });

  it('distributions: every (kernel, pass) with samples is drawn in its own cell, also when a kernel lacks a pass', async () => {
    // softmax-fused has no backward graph: its (kernel, pass) cell has no samples. vega-lite sorted
    // such a cell first and shifted every cell before it, so softmax's forward panel drew empty.
    const rec = (kernel: string, pass: string, seqLen: number, status: string, base: number) => ({
      kernel,
      pass,
      seqLen,
      status,
      samplesMs: status === 'ok' ? [base, base * 1.1, base * 0.9, base * 1.05] : [],
      processMediansMs: status === 'ok' ? [base] : [],
    });
    const records = ['softmax', 'softmax-fused', 'favor-pos'].flatMap((k, i) =>
      ['forward', 'backward'].flatMap((pass) =>
        [256, 512].map((L) =>
          rec(k, pass, L, k === 'softmax-fused' && pass === 'backward' ? 'skipped' : 'ok', ((i + 1) * (pass === 'forward' ? 1 : 3) * L) / 256),
        ),
      ),
    );
    const spec = distributionSpec(records as unknown as BenchRecord[], { title: 't', machine: 'm' });
    const values = (spec.data as { values: Record<string, unknown>[] }).values;
    const withSamples = [
      ...new Set(records.filter((r) => r.samplesMs.length).map((r) => `${r.kernel}|${r.pass === 'forward' ? 'forward' : 'forward + backward'}`)),
    ];
    for (const key of withSamples)
      assert.ok(
        values.some((v) => v.what === 'sample' && `${v.kernel}|${v.pass}` === key),
        `${key} has samples in the spec's data`,
      );
    // Rendered: the cells, in reading order, are kernels × passes, and each with samples has marks.
    const vega = await import('vega');
    const { compile } = await import('vega-lite');
    const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
    await view.runAsync();
    type Item = { marktype?: string; name?: string; role?: string; items?: Item[]; datum?: Record<string, string>; x?: number; y?: number };
    const root = (view.scenegraph() as unknown as { root: Item }).root;
    const cells = root.items![0]!.items!.find((m) => m.name === 'cell')!.items!;
    const marks = (g: Item): number =>
      (g.items ?? []).reduce(
        (n, m) => n + (m.role === 'mark' ? (m.items?.length ?? 0) : m.marktype === 'group' ? (m.items ?? []).reduce((k, it) => k + marks(it), 0) : 0),
        0,
      );
    const order = [...cells].sort((a, b) => a.y! - b.y! || a.x! - b.x!).map((c) => `${c.datum!.kernel}|${c.datum!.pass}`);
    assert.deepEqual(
      order,
      ['softmax', 'softmax-fused', 'favor-pos'].flatMap((k) => [`${k}|forward`, `${k}|forward + backward`]),
    );
    for (const c of cells) {
      const key = `${c.datum!.kernel}|${c.datum!.pass}`;
      if (withSamples.includes(key)) assert.ok(marks(c) > 0, `${key} draws marks`);
      else assert.equal(marks(c), 0, `${key} has nothing to draw`);
    }
    view.finalize();
  });
});
