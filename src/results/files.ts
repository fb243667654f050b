/**
 * Result files: `results.jsonl`, a journal (a header with the sweep's options, then one line per
 * finished process), appended and fsynced as each finishes (a crash loses at most the process in
 * flight); the final `results.json` / `results.csv`, written atomically (temporary file, then
 * rename); and a lock, so two runs never share an output directory.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { usage } from '../errors.ts';
import { SCHEMA_VERSION } from './version.ts';

export const JOURNAL = 'results.jsonl';

/** Creates the output directory, or fails with a usage error naming `flag`. */
export function ensureDir(dir: string, flag = '--out'): void {
  try {
    mkdirs(dir);
    // Creating and renaming a file proves the directory takes the atomic writes; nothing is left.
    // The name is this process's own, so two runs probing one directory never race.
    const probe = join(dir, `.performer-write-test-${process.pid}`);
    writeFileSync(probe, '');
    renameSync(probe, `${probe}~`);
    rmSync(`${probe}~`);
  } catch (e) {
    throw usage(flag, `cannot write to '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'a writable directory');
  }
}

/**
 * Refuses, before any work, an output file that cannot be written: its directory is missing, is
 * not a directory or is read-only, or the path is a directory. The error names `flag`.
 */
export function checkOutputFile(path: string, flag = '--output'): void {
  let why: string | undefined;
  try {
    if (existsSync(path) && statSync(path).isDirectory()) why = 'EISDIR';
    else if (!statSync(dirname(resolve(path))).isDirectory()) why = 'ENOTDIR';
    else accessSync(dirname(resolve(path)), constants.W_OK);
  } catch (e) {
    why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
  if (why) throw usage(flag, `cannot write '${path}': ${why}`, 'a writable file path');
}

/** mkdir -p, one level at a time (Node's recursive mkdir can spin forever under /proc). */
function mkdirs(dir: string): void {
  const abs = resolve(dir);
  if (existsSync(abs)) return;
  const parent = dirname(abs);
  if (parent !== abs) mkdirs(parent);
  mkdirSync(abs);
}

/** Writes `data` to `path` atomically: never a partial file at the final path, and no temporary file left on failure. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      if (typeof data === 'string') writeSync(fd, data);
      else writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

const LOCK = '.performer.lock';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes `<dir>/.performer.lock` for this process (released when it exits), so two runs never
 * interleave their journals or results in one directory. A lock whose process is gone is taken
 * over; one held by a live process is a usage error naming its pid.
 */
export function lockDir(dir: string, flag = '--out'): void {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      process.once('exit', () => {
        if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
      });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw usage(flag, `cannot lock '${dir}': ${(e as NodeJS.ErrnoException).code}`, 'a writable directory');
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw usage(flag, `'${dir}' is in use by another performer run (pid ${holder}); wait for it or choose another directory`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw usage(flag, `cannot lock '${dir}'`);
}

/** The journal's first line: what defines the sweep, so a resume with other options is refused. */
export interface JournalHeader {
  readonly journal: 'performer';
  readonly schemaVersion: number;
  readonly options: Record<string, unknown>;
}

/** 'a bench', 'an error'. */
const a = (word: string) => `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;

/** The kind of run a journal's options describe: a training run names its task, a bench sweep its passes. */
export function optionsKind(options: Record<string, unknown>): string | null {
  return 'task' in options ? 'train' : 'passes' in options ? 'bench' : null;
}

/** What kind of run `dir` holds, from its journal's header or its results.json; null when neither says. */
export function runKindIn(dir: string): string | null {
  try {
    const journal = join(dir, JOURNAL);
    if (existsSync(journal)) {
      const header = JSON.parse(readFileSync(journal, 'utf8').split('\n', 1)[0]!) as Partial<JournalHeader>;
      if (header.journal === 'performer' && header.options && typeof header.options === 'object') return optionsKind(header.options);
    }
    const results = join(dir, 'results.json');
    if (existsSync(results)) {
      const kind = (JSON.parse(readFileSync(results, 'utf8')) as { kind?: unknown }).kind;
      return typeof kind === 'string' ? kind : null;
    }
  } catch {
    // unreadable or not ours: nothing to protect beyond what ensureDir and the lock check
  }
  return null;
}

/**
 * Refuses to write a `kind` run into a directory that holds another kind of run: its results
 * files would be replaced and its journal or checkpoints left beside ours (or, with --resume,
 * compared option by option). Names the kind instead.
 */
export function refuseOtherKind(dir: string, kind: string, flag = '--out'): void {
  const have = runKindIn(dir);
  if (have === null || have === kind) return;
  if (flag === '--resume') throw usage('--resume', `'${dir}' holds ${a(have)} run, not ${a(kind)} run`, `the --out of an interrupted ${kind} run`);
  throw usage(
    flag,
    `'${dir}' holds ${a(have)} run, not ${a(kind)} run; writing here would replace its results`,
    'another --out, or remove the directory first',
  );
}

/** Appends one JSON line and flushes it to disk. */
export function appendJournal(dir: string, entry: unknown): void {
  const fd = openSync(join(dir, JOURNAL), 'a');
  try {
    writeSync(fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The option names whose values differ between two option objects, with both values. */
export function optionDifferences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${JSON.stringify(a[k]) ?? 'unset'} vs ${JSON.stringify(b[k]) ?? 'unset'}`);
}

/**
 * Opens the journal of a sweep defined by `options`. Without `resume` it starts afresh (header
 * only). With `resume` it returns the journalled entries: a torn last line (a kill mid-write) is
 * cut off at the last newline and reported through `note`; a journal written with other options
 * is refused, naming the differences.
 */
export function openJournal(dir: string, options: Record<string, unknown>, resume: boolean, note: (msg: string) => void = () => {}): unknown[] {
  const path = join(dir, JOURNAL);
  const header: JournalHeader = { journal: 'performer', schemaVersion: SCHEMA_VERSION, options };
  if (!resume || !existsSync(path)) {
    writeAtomic(path, `${JSON.stringify(header)}\n`);
    return [];
  }
  let text = readFileSync(path, 'utf8');
  if (text.length && !text.endsWith('\n')) {
    const keep = text.lastIndexOf('\n') + 1;
    truncateSync(path, Buffer.byteLength(text.slice(0, keep)));
    note(`${path}: the last line was torn (the run was killed while writing it); cut ${text.length - keep} characters, that point runs again`);
    text = text.slice(0, keep);
  }
  const lines = text.split('\n').filter((l) => l.trim());
  const parsed = lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw usage('--resume', `${path} line ${i + 1} is not valid JSON`, 'a journal written by performer');
    }
  });
  const first = parsed[0] as Partial<JournalHeader> | undefined;
  if (!first || first.journal !== 'performer' || typeof first.options !== 'object') {
    throw usage('--resume', `${path} has no journal header (written by an older performer?)`, 'delete it, or run without --resume');
  }
  const [have, want] = [optionsKind(first.options), optionsKind(options)];
  if (have !== want)
    throw usage(
      '--resume',
      `'${dir}' holds ${a(have ?? 'different kind of')} run, not ${a(want ?? 'this kind of')} run`,
      'the --out of an interrupted run of this command',
    );
  const diffs = optionDifferences(first.options, options);
  if (diffs.length) throw usage('--resume', `${path} was written with other options (${diffs.join('; ')})`, 'the same options, or no --resume for a fresh run');
  return parsed.slice(1);
}

/** The entries of the journal in `dir` (header excluded), for inspection and tests. */
export function readJournal<T>(dir: string): T[] {
  const path = join(dir, JOURNAL);
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  return lines.flatMap((line) => {
    try {
      const x = JSON.parse(line) as T & Partial<JournalHeader>;
      return x.journal === 'performer' ? [] : [x];
    } catch {
      return []; // a torn last line
    }
  });
}
