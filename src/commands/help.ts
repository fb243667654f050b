/**
 * Help that answers: required options say so, presets list what they set, and every command
 * lists its exit codes. Applied to every command by cli.ts.
 */
import { type Command, Help, type Option } from 'commander';
import { BENCH_PRESETS } from '../bench/presets.ts';
import { TRAIN_PRESETS } from '../train/presets.ts';

const USAGE = '2  a usage error: one line naming the flag and what is allowed';
const STOPPED = '130, 143  stopped by Ctrl-C or SIGTERM: finished work is kept (with --out: continue with --resume)';

/** Exit codes per command; commands not listed: 0 done, 1 failed, 2 usage. */
export const EXIT_CODES: Readonly<Record<string, readonly string[]>> = {
  bench: ['0  every point measured', '1  a point failed or was invalid; with --against, a slowdown beyond --threshold', USAGE, STOPPED],
  error: ['0  done', '1  the sweep failed', USAGE],
  train: ['0  done', '1  a run failed', USAGE, STOPPED],
  compare: ['0  no slowdown beyond --threshold', '1  a slowdown beyond --threshold', '2  a usage error, or a file holds invalid (NaN or infinite) numbers'],
  reproduce: ['0  done (--status: every result current or not timed)', '1  a run failed (--status: a result is stale)', USAGE, STOPPED],
};
const DEFAULT_EXIT = ['0  done', '1  failed', USAGE];

/** `seqLen` → `--seq-len`. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const shown = (v: unknown): string => {
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'number' && v >= 2 ** 30 && v % 2 ** 30 === 0) return `${v / 2 ** 30}GiB`;
  return String(v);
};

/** What each preset sets, as the flags one would type. */
export function presetLines(presets: Readonly<Record<string, { description: string; values: Readonly<Record<string, unknown>> }>>): string[] {
  return Object.entries(presets).flatMap(([name, p]) => [
    `  ${name}: ${p.description}`,
    `    sets ${Object.entries(p.values)
      .map(([k, v]) => `${flagOf(k)} ${k === 'timeBudget' ? `${Number(v) * 1000}ms` : shown(v)}`)
      .join(' ')}`,
  ]);
}

const PRESETS: Readonly<Record<string, ReturnType<typeof presetLines>>> = { bench: presetLines(BENCH_PRESETS), train: presetLines(TRAIN_PRESETS) };

class PerformerHelp extends Help {
  override optionDescription(option: Option): string {
    const text = super.optionDescription(option);
    return option.mandatory ? `${text} (required)` : text;
  }
}

/** Presets and exit codes after each command's help; "(required)" on mandatory options. */
export function configureHelp(cmd: Command, root = true): void {
  cmd.createHelp = () => Object.assign(new PerformerHelp(), cmd.configureHelp());
  if (!root) {
    const name = cmd.parent && cmd.parent.parent ? cmd.parent.name() : cmd.name();
    const lines = [
      ...(PRESETS[cmd.name()] ? ['', 'Presets (--preset; explicit flags win):', ...PRESETS[cmd.name()]!] : []),
      ...(cmd.commands.length ? [] : ['', 'Exit codes:', ...(EXIT_CODES[name] ?? DEFAULT_EXIT).map((l) => `  ${l}`)]),
    ];
    if (lines.length) cmd.addHelpText('after', lines.join('\n'));
  }
  for (const sub of cmd.commands) configureHelp(sub, false);
}

/**
 * An "Examples:" block that fits 100 columns: each command with what it does beside it when every
 * row fits so, else each description on the line below its command, indented.
 */
export function examples(rows: readonly (readonly [string, string])[]): string {
  const col = Math.max(...rows.map(([c]) => c.length)) + 4;
  const oneLine = rows.every(([, what]) => 2 + col + what.length <= 100);
  const lines = rows.flatMap(([c, what]) => (oneLine ? [`  ${c.padEnd(col)}${what}`] : [`  ${c}`, `      ${what}`]));
  return `\nExamples:\n${lines.join('\n')}`;
}
