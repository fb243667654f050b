/**
 * Output for people: colours (off under NO_COLOR or when stdout is not a terminal) and tables.
 * The only module, with the other report files, that writes to the terminal (and src/paint.ts's
 * warn, re-exported here, which ci/ calls without reaching up into report/).
 */
import Table from 'cli-table3';
import { paint } from '../paint.ts';

export { colorEnabled, paint, warn } from '../paint.ts';

/** A plain-bordered table; colour comes only from `paint`. */
export function renderTable(head: string[], rows: (string | number)[][], align?: ('left' | 'right')[]): string {
  const table = new Table({
    head: head.map((h) => paint.bold(h)),
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    // No separators between rows: half the height, nothing lost.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    ...(align ? { colAligns: align } : {}),
  });
  for (const r of rows) table.push(r.map(String));
  return table.toString();
}

/** Printed width of a line: ANSI colour codes take none. */
export const visibleWidth = (line: string): number => [...line.replace(/\x1b\[[0-9;]*m/g, '')].length;

/** The columns a table may use: the terminal's width, or 100 when output is not a terminal. */
export const tableWidth = (stream: NodeJS.WriteStream = process.stdout): number => (stream.isTTY && stream.columns ? stream.columns : 100);

export function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Progress and notes for people go to stderr, only when it is a terminal. */
export function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

/** A note for people on stderr (not a warning: nothing is wrong). */
export function note(text: string): void {
  process.stderr.write(`${paint.dim('note:')} ${text}\n`);
}

export { formatBytes } from '../units.ts';
