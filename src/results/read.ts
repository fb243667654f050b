/** Reading results files back (compare, merge, plot, report, reproduce): every defect is a usage error naming the file. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { usage } from '../errors.ts';
import { isResultKind, KEYED_KINDS, type KeyedKind, KIND_DATA, RESULT_KINDS, type ResultKind } from './kinds.ts';
import { firstIssue, resultsFileSchema } from './schema.ts';
import { SCHEMA_VERSION } from './version.ts';

export interface ResultsFile<K extends ResultKind = KeyedKind> {
  schemaVersion: number;
  kind: K;
  environment: Record<string, unknown>;
  options: Record<string, unknown>;
  records: unknown[];
}

const WANTED = 'a results.json written by performer';

/**
 * Reads and validates a results file of one of `kinds` (by default those with keyed records:
 * bench, error) through the kinds table; anything unusable is a usage error naming the argument.
 * Files written without a kind (theory utility before it wrote one) are recognised by their rows.
 */
export function readResults(path: string, arg: string): ResultsFile;
export function readResults<K extends ResultKind>(path: string, arg: string, kinds: readonly K[]): ResultsFile<K>;
export function readResults(path: string, arg: string, kinds: readonly ResultKind[] = KEYED_KINDS): ResultsFile<ResultKind> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? 'not valid JSON';
    throw usage(arg, `cannot read '${path}': ${why}`, WANTED);
  }
  return checkResults(doc, path, arg, kinds);
}

/** A parsed results document checked as readResults does (for callers that parse the file themselves). */
export function checkResults<K extends ResultKind>(doc: unknown, path: string, arg: string, kinds: readonly K[]): ResultsFile<K>;
export function checkResults(doc: unknown, path: string, arg: string, kinds: readonly ResultKind[]): ResultsFile<ResultKind> {
  const d = doc as Partial<ResultsFile> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.records) || typeof d.environment !== 'object' || typeof d.options !== 'object') {
    throw usage(arg, `'${path}' is not a performer results file (needs schemaVersion, environment, options, records)`);
  }
  if (d.schemaVersion !== SCHEMA_VERSION) throw usage(arg, `'${path}' has schemaVersion ${String(d.schemaVersion)}`, String(SCHEMA_VERSION));
  const first = d.records[0] as Record<string, unknown> | undefined;
  const kind =
    d.kind === undefined && first && typeof first === 'object'
      ? RESULT_KINDS.find((k) => KIND_DATA[k].detect?.(first))
      : isResultKind(d.kind)
        ? d.kind
        : undefined;
  if (!kind || !kinds.includes(kind)) throw usage(arg, `'${path}' has kind ${String(d.kind)}`, kinds.join(', '));
  const top = resultsFileSchema.safeParse(d);
  if (!top.success) throw usage(arg, `'${path}' is malformed at ${firstIssue(top.error)}`, WANTED);
  const records = z.array(KIND_DATA[kind].record).safeParse(d.records);
  if (!records.success) throw usage(arg, `'${path}' is malformed at ${firstIssue(records.error, ['records'])}`, WANTED);
  return { ...(d as ResultsFile<ResultKind>), kind };
}
