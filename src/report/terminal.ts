/**
 * Output for people: colours (off under NO_COLOR or when stdout is not a terminal) and tables.
 * The only module, with the other report files, that writes to the terminal (and src/paint.ts's
 * warn, re-exported here, which ci/ calls without reaching up into report/).
 */
import Table from 'cli-table3';
import { paint } from '../paint.ts';

export { colorEnabled, paint, warn } from '../paint.ts';

/**
 * A plain-bordered table; colour comes only from `paint`. Wider than `width` (the terminal's, or
 * 100 when piped), its widest columns are narrowed and their cells wrapped until it fits.
 */
export function renderTable(head: string[], rows: (string | number)[][], align?: ('left' | 'right')[], width = tableWidth()): string {
  const cells = rows.map((r) => r.map(String));
  const natural = head.map((h, i) => Math.max(visibleWidth(h), ...cells.map((r) => Math.max(0, ...(r[i] ?? '').split('\n').map(visibleWidth)))) + 2);
  // A column wraps at spaces, never narrower than its longest word: nothing is cut off.
  const floor = head.map((h, i) => Math.max(...[h, ...cells.map((r) => r[i] ?? '')].flatMap((c) => c.split(/[\s]+/)).map(visibleWidth)) + 2);
  const across = (w: number[]) => w.reduce((a, b) => a + b, 0) + head.length + 1;
  const fitted = [...natural];
  const fit = across(natural) > width;
  while (fit && across(fitted) > width) {
    const slack = fitted.map((w, i) => (w > floor[i]! ? w : -1));
    const widest = slack.indexOf(Math.max(...slack));
    if (slack[widest]! < 0) break;
    fitted[widest]!--;
  }
  const table = new Table({
    head: head.map((h) => paint.bold(h)),
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    // No separators between rows: half the height, nothing lost.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    ...(align ? { colAligns: align } : {}),
    ...(fit ? { colWidths: fitted, wordWrap: true, wrapOnWordBoundary: true } : {}),
  });
  for (const r of cells) table.push(r);
  return table.toString();
}

/** Printed width of a line: ANSI colour codes take none. */
export const visibleWidth = (line: string): number => [...line.replace(/\x1b\[[0-9;]*m/g, '')].length;

/** The columns a table may use: the terminal's width, or 100 when output is not a terminal. */
export const tableWidth = (stream: NodeJS.WriteStream = process.stdout): number => (stream.isTTY && stream.columns ? stream.columns : 100);

const TABLE_LINE = /^\s*(\x1b\[[0-9;]*m)*[│┌└├┬┼─┐┘┤┴]/;

/**
 * Prose lines wrapped at spaces to `width` (the terminal's, or 100 when piped), continuing with
 * the line's indent plus two spaces. Table lines and words longer than a line stay whole.
 */
export function fitText(text: string, width = tableWidth()): string {
  return text
    .split('\n')
    .flatMap((line) => wrapLine(line, width))
    .join('\n');
}

function wrapLine(line: string, width: number): string[] {
  if (visibleWidth(line) <= width || TABLE_LINE.test(line)) return [line];
  const indent = /^ */.exec(line)![0];
  const hang = `${indent}  `;
  const out: string[] = [];
  let cur = indent;
  for (const word of line.slice(indent.length).split(' ')) {
    const start = cur.trim() === '';
    const next = start ? `${cur}${word}` : `${cur} ${word}`;
    if (!start && visibleWidth(next) > width) {
      out.push(cur);
      cur = `${hang}${word}`;
    } else cur = next;
  }
  out.push(cur);
  return out;
}

/** Text for people on stdout, its prose lines fitted to the terminal (tables and data untouched). */
export function show(text = ''): void {
  print(fitText(text));
}

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
