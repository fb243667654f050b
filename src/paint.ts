/**
 * Colours for people's output (off under NO_COLOR or when stdout is not a terminal) and the one
 * warning line, below every layer so that a pipeline (ci/merge) may warn without reaching up into
 * report/. report/terminal.ts re-exports these beside its tables and printers.
 */
import { Chalk, type ChalkInstance } from 'chalk';

export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

export const paint: ChalkInstance = new Chalk({ level: colorEnabled() ? 1 : 0 });

/** A warning for people on stderr: something may be wrong with the results. */
export function warn(text: string): void {
  process.stderr.write(`${paint.yellow('warning:')} ${text}\n`);
}
