/**
 * One flag vocabulary: every command's options walked against src/commands/vocabulary.ts (a name
 * that takes a second meaning fails here), old spellings still accepted, presets that name real
 * options, and output for people that fits 100 columns when piped.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { BENCH_PRESETS } from '../src/bench/presets.ts';
import { ALIASES, canonicalArgs, COMMANDS, VOCABULARY } from '../src/commands/vocabulary.ts';
import { visibleWidth } from '../src/report/terminal.ts';
import { TRAIN_PRESETS } from '../src/train/presets.ts';
import { cli } from './helpers/cli.ts';

async function commands(): Promise<Command[]> {
  const out: Command[] = [];
  for (const name of COMMANDS) out.push((await import(`../src/commands/${name}.ts`))[`${name}Command`] as Command);
  return out;
}

/** Every (command, subcommand path, long flag) the program declares, hidden options included. */
async function declared(): Promise<{ command: string; path: string; flag: string; attribute: string }[]> {
  const rows: { command: string; path: string; flag: string; attribute: string }[] = [];
  const walk = (c: Command, command: string, path: string) => {
    for (const o of c.options) if (o.long) rows.push({ command, path, flag: o.long, attribute: o.attributeName() });
    for (const s of c.commands) walk(s, command, `${path} ${s.name()}`);
  };
  for (const c of await commands()) walk(c, c.name(), c.name());
  return rows;
}

describe('flag vocabulary', () => {
  it('every option of every command is in the vocabulary, for that command: one name, one meaning', async () => {
    const problems: string[] = [];
    for (const { command, path, flag } of await declared()) {
      if (flag === '--help') continue;
      const entry = VOCABULARY[flag];
      if (!entry) problems.push(`${path} ${flag}: not in VOCABULARY (give it a meaning, or use the name that already means this)`);
      else if (!entry.commands.includes(command))
        problems.push(`${path} ${flag}: VOCABULARY says it means "${entry.meaning}" in ${entry.commands.join(', ')}, not in ${command}`);
    }
    assert.deepEqual(problems, []);
  });

  it('every vocabulary entry is declared by each command it lists (the table cannot go stale)', async () => {
    const rows = await declared();
    const missing = Object.entries(VOCABULARY).flatMap(([flag, m]) =>
      flag === '--help' ? [] : m.commands.filter((c) => !rows.some((r) => r.command === c && r.flag === flag)).map((c) => `${c} ${flag}`),
    );
    assert.deepEqual(missing, []);
  });

  it('an old spelling never shadows an option of its command, and always leads to one', async () => {
    const rows = await declared();
    for (const a of ALIASES) {
      assert.ok(!rows.some((r) => r.command === a.command && r.flag === a.old), `${a.command} still declares ${a.old}`);
      assert.ok(
        rows.some((r) => r.command === a.command && r.flag === a.now),
        `${a.command} has no ${a.now}`,
      );
    }
  });

  it('canonicalArgs rewrites old spellings of the named command only, values too', () => {
    assert.deepEqual(canonicalArgs(['bench', '--seq-lens', '16,32', '--time-ms', '5']), ['bench', '--seq-len', '16,32', '--time-budget', '5ms']);
    assert.deepEqual(canonicalArgs(['bench', '--seq-lens=16', '--time-ms=5']), ['bench', '--seq-len', '16', '--time-budget', '5ms']);
    assert.deepEqual(canonicalArgs(['bench', '--no-roofline', '--refresh-roofline']), ['bench', '--no-limit', '--refresh-limit']);
    assert.deepEqual(canonicalArgs(['train', '--dim', '32', '--warmup', '3', '--rounds', '2']), [
      'train',
      '--d-model',
      '32',
      '--lr-warmup',
      '3',
      '--repeat',
      '2',
    ]);
    // --dim is the head dimension outside train, and --warmup untimed runs in bench: untouched.
    assert.deepEqual(canonicalArgs(['bench', '--dim', '32', '--warmup', '0']), ['bench', '--dim', '32', '--warmup', '0']);
    assert.deepEqual(canonicalArgs(['error', '--feature-types', 'iid']), ['error', '--feature-type', 'iid']);
  });

  // Each old spelling, given a bad value, is refused by the new flag's parser: the alias reached it.
  for (const [args, message] of [
    [['bench', '--seq-lens', '100..200'], /^performer: --seq-len: '100\.\.200' is not a power-of-two range/],
    [['bench', '--time-ms', '0'], /^performer: --time-budget: '0ms' is not a positive duration/],
    [['error', '--feature-types', 'gaussian'], /^performer: --feature-type: 'gaussian' is not supported/],
    [['train', '--rounds', '0'], /^performer: --repeat: '0' is not a positive integer/],
    [['train', '--dim', '0'], /^performer: --d-model: '0' is not a positive integer/],
    [['train', '--warmup', '50', '--steps', '10'], /^performer: --lr-warmup: 50 warm-up steps exceed --steps 10/],
    [
      ['report', 'results/fig3-attention/data.json', '--baseline', 'results/train-spam/data.json', '-o', join(tmpdir(), 'performer-alias.html')],
      /^performer: --baseline-file: '.*train-spam\/data\.json' has kind train/,
    ],
  ] as const) {
    it(`old spelling still works: ${args.slice(0, 2).join(' ')}`, () => {
      const r = cli([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    });
  }

  it('bench --d-model: the encoder width, with --scope model only; not together with --dim', () => {
    const alone = cli(['bench', '--d-model', '64', '--seq-len', '16', '--kernels', 'identity']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--d-model: is the width of a whole encoder/);
    const both = cli(['bench', '--scope', 'model', '--d-model', '64', '--dim', '32', '--seq-len', '16', '--kernels', 'identity']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--d-model: and --dim .* are both given/);
  });

  it('every preset sets options its command declares', async () => {
    const rows = await declared();
    for (const [command, presets] of [
      ['bench', BENCH_PRESETS],
      ['train', TRAIN_PRESETS],
    ] as const) {
      for (const [name, p] of Object.entries(presets)) {
        for (const key of Object.keys(p.values))
          assert.ok(
            rows.some((r) => r.command === command && r.attribute === key),
            `${command} --preset ${name} sets ${key}, which no option of ${command} holds`,
          );
      }
    }
  });
});

describe('help and output for people, piped', () => {
  const piped = [
    ...COMMANDS.map((c) => [c, '--help']),
    ['theory', 'mse', '--help'],
    ['theory', 'utility', '--help'],
    ['kernels'],
    ['kernels', '--verbose'],
    ['info'],
    ['reproduce', '--list'],
  ];
  it('every line is at most 100 columns', () => {
    const wide: string[] = [];
    for (const args of piped) {
      const r = cli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      for (const line of r.stdout.split('\n')) if (visibleWidth(line) > 100) wide.push(`${args.join(' ')}: ${visibleWidth(line)}: ${line.slice(0, 60)}…`);
    }
    assert.deepEqual(wide, []);
  });

  it('help marks required options, lists presets with what they set, and exit codes', () => {
    const exp = cli(['export', '--help']).stdout;
    assert.match(exp, /--kernel <name>[^\n]*\n?[^\n]*\(required\)/);
    assert.match(exp, /Exit codes:\n {2}0 {2}done/);
    const bench = cli(['bench', '--help']).stdout;
    assert.match(bench, /paper-regular: [\s\S]*?sets --scope model [\s\S]*?--d-model 512/);
    assert.match(bench, /--time-budget <duration>[\s\S]*?default: 200ms/);
    assert.match(cli(['compare', '--help']).stdout, /1 {2}a slowdown beyond --threshold/);
  });
});
