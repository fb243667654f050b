/**
 * The user's own labelled text (`performer train --data PATH`), in one of three common layouts:
 * - a CSV file with a `text,label` header, or Kaggle IMDB's `review,sentiment` (header names are matched
 *   case-insensitively; other columns are ignored);
 * - a folder with one sub-folder of `.txt` files per class (`pos/`, `neg/`, …);
 * - the aclImdb layout: that under `train/` and `test/`; `train/` is split into train and validation and
 *   `test/` is the test set, as published. aclImdb's `unsup/` (unlabelled reviews) is skipped.
 * Class ids number the sorted distinct labels ({@link labelIds}). The HTML line breaks `<br />` that IMDB
 * reviews carry (scraping residue, several per review) become newlines: they say nothing about the label
 * and would spend 6 bytes each of the sequence budget.
 */
import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { usage } from '../../errors.ts';
import { DEFAULT_FRACTIONS, labelIds, splitExamples, tokenize } from './text.ts';
import { BYTE_VOCAB, type Dataset, type Example, type TextLoadOptions } from './types.ts';

const ALLOWED =
  'a CSV file with a text,label or review,sentiment header, or a folder with one sub-folder of .txt files per class, optionally under train/ and test/';

/** Accepted (text column, label column) header pairs, lower case. */
const HEADERS = [
  ['text', 'label'],
  ['review', 'sentiment'],
] as const;

/** Sub-folders that hold no class: aclImdb's unlabelled reviews. */
const NOT_CLASSES = new Set(['unsup']);

/** Texts with their string labels, in file order. */
interface Labelled {
  texts: string[];
  labels: string[];
}

/** IMDB's HTML line breaks as newlines (see the module note). */
export function stripBreaks(text: string): string {
  return text.replace(/<br\s*\/?>/gi, '\n');
}

/**
 * Loads `--data PATH` as a data set of byte-level examples.
 * @throws UsageError naming `--data` for a missing or unreadable path, an unknown header, no rows,
 *   an empty label, or fewer than two classes
 */
export function loadTextData(path: string, options: TextLoadOptions): Dataset {
  const { read, layout } = readLayout(path);
  return toDataset(path, read, options, layout);
}

/** What a layout gives: texts to split, and a test set when the layout has its own. */
interface Read {
  train: Labelled;
  test: Labelled;
}

/** Reads whichever layout path has. */
function readLayout(path: string): { read: Read; layout: string } {
  let stat;
  try {
    stat = statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    throw cannotRead(path, err);
  }
  if (!stat) throw usage('--data', `${path} does not exist`, ALLOWED);
  if (!stat.isDirectory()) return { read: { train: readCsv(path), test: empty() }, layout: 'CSV' };
  if (!subfolders(path).some((d) => d.name === 'train')) {
    return { read: { train: readClassFolders(path), test: empty() }, layout: 'class folders' };
  }
  const hasTest = subfolders(path).some((d) => d.name === 'test');
  const read = { train: readClassFolders(join(path, 'train')), test: hasTest ? readClassFolders(join(path, 'test')) : empty() };
  return { read, layout: hasTest ? 'train/ split into train and validation, test/ as test' : 'class folders under train/' };
}

/** Tokenises and splits what was read: one stratified split, or train → train/validation beside a given test set. */
function toDataset(path: string, read: Read, options: TextLoadOptions, layout: string): Dataset {
  const { classNames, ids } = labelIds([...read.train.labels, ...read.test.labels]);
  if (classNames.length < 2) throw usage('--data', `${path} has only one class (${classNames[0]})`, 'at least two distinct labels');
  const inTrain = new Set(read.train.labels);
  const unseen = classNames.filter((c) => !inTrain.has(c));
  if (unseen.length) throw usage('--data', `${path}: class ${unseen.join(', ')} appears in test/ only`, 'the same classes in train/ and test/');
  const toExamples = (part: Labelled, offset: number): Example[] =>
    part.texts.map((text, i) => ({ tokens: tokenize(stripBreaks(text), options.maxLen), label: ids[offset + i]! }));
  const train = toExamples(read.train, 0);
  const test = toExamples(read.test, read.train.texts.length);
  const fractions = options.fractions ?? DEFAULT_FRACTIONS;
  // A given test set stays as published (shuffled only, which zero fractions do); otherwise split three ways.
  const split = test.length
    ? {
        ...splitExamples(train, options.seed, { validation: fractions.validation, test: 0 }),
        test: splitExamples(test, options.seed, { validation: 0, test: 0 }).train,
      }
    : splitExamples(train, options.seed, fractions);
  const note =
    `text from ${path} (${layout}): ${train.length + test.length} examples, classes ${classNames.join('/')}; ` +
    `<br /> as newline, UTF-8 bytes, first ${options.maxLen - 1} kept; stratified split seed ${options.seed}, ` +
    (test.length ? `validation ${fractions.validation} of train/` : `validation ${fractions.validation}, test ${fractions.test}`);
  return { name: basename(path, extname(path)) || 'data', vocab: BYTE_VOCAB, classes: classNames.length, classNames, ...split, note };
}

const empty = (): Labelled => ({ texts: [], labels: [] });

/** The usage error for a path the file system refused, with its error code (EACCES, EISDIR, …). */
function cannotRead(path: string, err: unknown): Error {
  return usage('--data', `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, ALLOWED);
}

/**
 * Reads a file as UTF-8, turning any failure into a usage error that names the path. Bytes that
 * are not UTF-8 (a Latin-1 or Windows-1252 export) are refused, not silently read as U+FFFD: the
 * model would learn from replacement characters.
 */
function readText(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw cannotRead(path, err);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = bytes.toString('utf8');
    const at = text.indexOf('\uFFFD');
    const line = text.slice(0, Math.max(0, at)).split('\n').length;
    throw usage('--data', `${path} is not UTF-8 text (line ${line} has a byte that is not)`, 'UTF-8 files; convert with e.g. iconv -f latin1 -t utf-8');
  }
}

/** Parses a CSV file into texts and labels, checking the header and every label. */
function readCsv(path: string): Labelled {
  const content = readText(path);
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, each row comes as { record, info }; the typings only know plain string rows.
    rows = parse(content, { bom: true, info: true, skip_empty_lines: true }) as unknown as typeof rows;
  } catch (err) {
    throw usage('--data', `${path} is not valid CSV: ${String((err as Error).message).split('\n')[0]}`, ALLOWED);
  }
  const header = rows[0]?.record.map((h) => h.trim().toLowerCase());
  if (!header) throw usage('--data', `${path} is empty`, ALLOWED);
  const pair = HEADERS.find(([t, l]) => header.includes(t) && header.includes(l));
  if (!pair) throw usage('--data', `${path} has header ${header.join(',')}`, ALLOWED);
  const [textAt, labelAt] = [header.indexOf(pair[0]), header.indexOf(pair[1])];
  if (rows.length < 2) throw usage('--data', `${path} has a header but no rows`, ALLOWED);
  const out = empty();
  for (const { record, info } of rows.slice(1)) {
    const label = record[labelAt]!.trim();
    if (!label) throw usage('--data', `${path} line ${info.lines}: empty ${pair[1]}`, 'a label on every row');
    out.texts.push(record[textAt]!);
    out.labels.push(label);
  }
  return out;
}

/** Visible sub-folders of dir, sorted by name so every file system gives the same order. */
function subfolders(dir: string): Dirent[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw cannotRead(dir, err);
  }
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Reads one sub-folder per class (its name the label), every `.txt` file in it one example. */
function readClassFolders(dir: string): Labelled {
  const classes = subfolders(dir).filter((d) => !NOT_CLASSES.has(d.name));
  if (!classes.length) throw usage('--data', `${dir} has no class sub-folders`, ALLOWED);
  const out = empty();
  for (const { name } of classes) {
    const folder = join(dir, name);
    let files: string[];
    try {
      files = readdirSync(folder)
        .filter((f) => f.endsWith('.txt'))
        .sort();
    } catch (err) {
      throw cannotRead(folder, err);
    }
    if (!files.length) throw usage('--data', `${folder} has no .txt files`, ALLOWED);
    for (const file of files) {
      out.texts.push(readText(join(folder, file)));
      out.labels.push(name);
    }
  }
  return out;
}
