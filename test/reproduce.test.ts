import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import { EXPERIMENTS } from '../experiments/index.ts';
import type { ProcessEntry } from '../src/bench/runner.ts';
import type { BenchRecord } from '../src/bench/types.ts';
import { pointKey } from '../src/results/keys.ts';
import { readJournal } from '../src/results/files.ts';
import { cli, interruptAfter } from './helpers/cli.ts';

const out = mkdtempSync(join(tmpdir(), 'performer-reproduce-'));

describe('performer reproduce', () => {
  it('--list names every experiment', () => {
    const r = cli(['reproduce', '--list']);
    assert.equal(r.code, 0);
    for (const e of EXPERIMENTS) assert.ok(r.stdout.includes(e.id), e.id);
  });

  it('all --quick writes data, table and figures for every experiment', () => {
    const r = cli(['reproduce', 'all', '--quick', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    for (const e of EXPERIMENTS) {
      const dir = join(out, e.id);
      for (const f of ['data.csv', 'data.json', 'table.md', 'figure.svg', 'figure.png', 'figure.vl.json']) assert.ok(existsSync(join(dir, f)), `${e.id}/${f}`);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.startsWith('.')),
        [],
        `${e.id}: no probe or temporary files left`,
      );
      const doc = JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8'));
      assert.ok(doc.environment?.commandLine, `${e.id}: data.json records the command`);
      assert.ok(doc.records.length > 0);
      const svg = readFileSync(join(dir, 'figure.svg'), 'utf8');
      assert.doesNotThrow(() => new Resvg(svg));
      assert.match(readFileSync(join(dir, 'table.md'), 'utf8'), /^# .*\n\nCommand: `performer /);
      const png = readFileSync(join(dir, 'figure.png'));
      assert.ok(png.readUInt32BE(16) > 400 && png.readUInt32BE(20) > 200, `${e.id}: PNG size`);
    }
    assert.ok(readFileSync(join(out, 'fig3-forward', 'figure.svg'), 'utf8').includes('favor-pos'));
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    for (const e of EXPERIMENTS) assert.ok(index.includes(`${e.id}/figure.png`), `index.html links ${e.id}`);
    assert.ok(readFileSync(join(out, 'fig4-output-mse', 'figure.svg'), 'utf8').includes('favor-trig orthogonal'));
  });

  it('SIGTERM stops reproduce with the resume hint; --resume keeps the finished points and runs only the rest', async () => {
    const exp = EXPERIMENTS.find((e) => e.id === 'poster-runtime')!;
    const base = mkdtempSync(join(tmpdir(), 'performer-resume-'));
    const dir = join(base, exp.id);
    const { code, stderr } = await interruptAfter(['reproduce', exp.id, '--quick', '--out', base], join(dir, 'results.jsonl'), 3, 'SIGTERM');
    assert.equal(code, 143, stderr);
    assert.match(
      stderr,
      /poster-runtime: interrupted \(SIGTERM\); finished points kept in .*results\.jsonl \(continue with performer reproduce poster-runtime --resume --quick/,
    );
    const done = readJournal<ProcessEntry>(dir);
    assert.ok(done.length >= 2 && done.length < 4, `${done.length} processes journalled`);
    const r = cli(['reproduce', exp.id, '--quick', '--resume', '--out', base]);
    assert.equal(r.code, 0, r.stderr);
    const records: BenchRecord[] = JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8')).records;
    assert.equal(records.length, 4, 'the rest was run');
    for (const d of done) {
      const kept = records.find((x) => pointKey(x) === d.key);
      assert.deepEqual([kept?.firstRunMs, kept?.samplesMs], [d.measurement.firstRunMs, d.measurement.samplesMs], `${d.key} kept as journalled`);
    }
    assert.ok(!existsSync(join(dir, 'results.jsonl')), 'the journal is removed once the experiment completes');
  });

  it('an unknown experiment exits 2', () => {
    const r = cli(['reproduce', 'fig9']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /<id>: unknown experiment 'fig9' \(allowed: all, fig2-utility/);
  });
});
