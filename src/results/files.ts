/**
 * Result files: `results.jsonl`, a journal with one record per finished point, appended and
 * fsynced as each finishes (a crash loses at most the point in flight), and the final
 * `results.json` / `results.csv`, written atomically (temporary file, then rename).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { usage } from '../errors.ts';

export const JOURNAL = 'results.jsonl';

/** Creates the output directory, or fails with a usage error naming `flag`. */
export function ensureDir(dir: string, flag = '--out'): void {
  try {
    mkdirs(dir);
    // Creating and renaming a file proves the directory takes the atomic writes; nothing is left.
    const probe = join(dir, '.performer-write-test');
    writeFileSync(probe, '');
    renameSync(probe, `${probe}~`);
    rmSync(`${probe}~`);
  } catch (e) {
    throw usage(flag, `cannot write to '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'a writable directory');
  }
}

/** mkdir -p, one level at a time (Node's recursive mkdir can spin forever under /proc). */
function mkdirs(dir: string): void {
  const abs = resolve(dir);
  if (existsSync(abs)) return;
  const parent = dirname(abs);
  if (parent !== abs) mkdirs(parent);
  mkdirSync(abs);
}

/** Writes `data` to `path` atomically: never a partial file at the final path. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Appends one JSON line and flushes it to disk. */
export function appendJournal(dir: string, record: unknown): void {
  const fd = openSync(join(dir, JOURNAL), 'a');
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The journal's records; a torn last line (a kill mid-write) is ignored. */
export function readJournal<T>(dir: string): T[] {
  const path = join(dir, JOURNAL);
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim());
  const out: T[] = [];
  lines.forEach((line, i) => {
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      if (i !== lines.length - 1) throw usage('--resume', `${path} line ${i + 1} is not valid JSON`, 'a journal written by performer');
    }
  });
  return out;
}
