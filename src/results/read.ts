/** Reading results files back (compare, merge, plot, reproduce): every defect is a usage error naming the file. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { usage } from '../errors.ts';
import { benchRecordSchema, errorRecordSchema, firstIssue, resultsFileSchema } from './schema.ts';

import { SCHEMA_VERSION } from './version.ts';

export { SCHEMA_VERSION } from './version.ts';

export interface ResultsFile {
  schemaVersion: number;
  kind: 'bench' | 'error';
  environment: Record<string, unknown>;
  options: Record<string, unknown>;
  records: unknown[];
}

/** Reads and validates a results file; anything unusable is a usage error naming the argument. */
export function readResults(path: string, arg: string): ResultsFile {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? 'not valid JSON';
    throw usage(arg, `cannot read '${path}': ${why}`, 'a results.json written by performer');
  }
  const d = doc as Partial<ResultsFile> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.records) || typeof d.environment !== 'object' || typeof d.options !== 'object') {
    throw usage(arg, `'${path}' is not a performer results file (needs schemaVersion, environment, options, records)`);
  }
  if (d.schemaVersion !== SCHEMA_VERSION) throw usage(arg, `'${path}' has schemaVersion ${String(d.schemaVersion)}`, String(SCHEMA_VERSION));
  if (d.kind !== 'bench' && d.kind !== 'error') throw usage(arg, `'${path}' has kind ${String(d.kind)}`, 'bench, error');
  const top = resultsFileSchema.safeParse(d);
  if (!top.success) throw usage(arg, `'${path}' is malformed at ${firstIssue(top.error)}`, 'a results.json written by performer');
  const records = z.array(d.kind === 'bench' ? benchRecordSchema : errorRecordSchema).safeParse(d.records);
  if (!records.success) throw usage(arg, `'${path}' is malformed at ${firstIssue(records.error, ['records'])}`, 'a results.json written by performer');
  return d as ResultsFile;
}
