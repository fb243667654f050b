/**
 * The results-kinds table: every kind has its data side (schema, identity where keyed) and its
 * view (every format, a figure where it has one), every committed results file reads and
 * formats through it, and a malformed record of any kind is refused naming the field.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KEYED_KINDS, KIND_DATA, RESULT_KINDS, type ResultKind } from '../src/results/kinds.ts';
import { readResults } from '../src/results/read.ts';
import { FORMATS, formatResults, type ResultsDocument, VIEWS } from '../src/report/output.ts';
import { cli } from './helpers/cli.ts';

const results = new URL('../results/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'performer-kinds-'));

/**
 * Every results document committed under results/ (data.json and the runs an experiment started
 * from), and a train-steps file (`train --step-time`, moved to `bench --scope train`: no
 * experiment writes that kind now, but files of it are still read).
 */
const committed = [
  ...readdirSync(results)
    .flatMap((id) => (existsSync(join(results, id, 'data.json')) ? readdirSync(join(results, id)).map((f) => join(results, id, f)) : []))
    .filter((p) => p.endsWith('.json') && !p.endsWith('.vl.json')),
  new URL('./fixtures/train-steps.json', import.meta.url).pathname,
];

describe('results kinds', () => {
  it('each kind has a record schema and a view with every format; keyed kinds have an identity', () => {
    for (const k of RESULT_KINDS) {
      assert.ok(KIND_DATA[k].record, k);
      for (const f of FORMATS) assert.equal(typeof VIEWS[k].formats[f], 'function', `${k} ${f}`);
    }
    for (const k of KEYED_KINDS) assert.equal(typeof KIND_DATA[k].key, 'function', k);
    assert.deepEqual(
      RESULT_KINDS.filter((k) => !VIEWS[k].figure),
      ['leak'],
      'every kind but the leak probe has a figure',
    );
  });

  it('every committed results file reads through the table and prints in every format', () => {
    const seen = new Set<ResultKind>();
    assert.ok(committed.length >= 16, `${committed.length} files`);
    for (const path of committed) {
      const doc = readResults(path, path, RESULT_KINDS);
      seen.add(doc.kind);
      for (const f of FORMATS) {
        const text = formatResults(doc as unknown as ResultsDocument, f);
        assert.ok(text.length > 0, `${path} ${f}`);
      }
      assert.equal(JSON.parse(formatResults(doc as unknown as ResultsDocument, 'json')).records.length, doc.records.length, path);
    }
    for (const k of ['bench', 'error', 'train', 'train-steps', 'utility'] as const) assert.ok(seen.has(k), `a committed ${k} file`);
  });

  it('a malformed record of each kind is refused with the file and the field', () => {
    const cases: [ResultKind, Record<string, unknown>, RegExp][] = [
      ['train', { curve: [{ step: 'x' }] }, /records\[0\]\.curve\[0\]\.step/],
      ['train-steps', { medianS: -1 }, /records\[0\]\.medianS/],
      ['leak', { position: 1.5 }, /records\[0\]\.position/],
      ['bench', { medianMs: -3 }, /records\[0\]\.medianMs/],
    ];
    const byKind = new Map(committed.map((p) => [readResults(p, p, RESULT_KINDS).kind, p]));
    const leak = cli(['error', '--leak', '--kernels', 'favor-pos', '--seq-len', '32', '--dim', '4', '--features', '8', '--format', 'json']);
    assert.equal(leak.code, 0, leak.stderr);
    for (const [kind, change, field] of cases) {
      const doc = kind === 'leak' ? JSON.parse(leak.stdout) : JSON.parse(readFileSync(byKind.get(kind)!, 'utf8'));
      doc.records[0] = { ...doc.records[0], ...change };
      const path = join(dir, `${kind}.json`);
      writeFileSync(path, JSON.stringify(doc));
      assert.throws(
        () => readResults(path, '<data>', RESULT_KINDS),
        (e: Error) => field.test(e.message) && e.message.includes(path),
      );
    }
  });

  it('the leak probe prints Markdown with --format markdown (it printed CSV)', () => {
    const r = cli(['error', '--leak', '--kernels', 'favor-pos', '--seq-len', '32', '--dim', '4', '--features', '8', '--format', 'markdown']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\| kernel \| strategy \| L \| i \|/);
    assert.match(r.stdout, /^\|---\|/m);
  });

  it('a kind without a figure is refused by plot with one line', () => {
    const r = cli(['error', '--leak', '--kernels', 'favor-pos', '--seq-len', '32', '--dim', '4', '--features', '8', '--format', 'json']);
    const path = join(dir, 'leak-ok.json');
    writeFileSync(path, r.stdout);
    const p = cli(['plot', path, '-o', join(dir, 'leak.svg')]);
    assert.equal(p.code, 2);
    assert.match(p.stderr, /^performer: <data>: .*holds leak results, which have no figure \(allowed: bench, error, train, train-steps, utility\)\n$/);
  });
});

describe('committed tables are what today’s code writes from their data', () => {
  it('every results/<id>/table.md equals a redraw from its data.json (else: performer reproduce <id> --render-only)', async () => {
    const { EXPERIMENTS } = await import('../experiments/index.ts');
    const { experimentTable } = await import('../src/report/reproduce.ts');
    let n = 0;
    for (const exp of EXPERIMENTS) {
      const data = join(results, exp.id, 'data.json');
      if (!existsSync(data)) continue;
      assert.equal(
        experimentTable(exp, data),
        readFileSync(join(results, exp.id, 'table.md'), 'utf8'),
        `${exp.id}: run performer reproduce ${exp.id} --render-only`,
      );
      n++;
    }
    assert.ok(n >= 16, `${n} experiments`);
  });
});
