/**
 * The results kinds, as data: what each kind's records must hold (checked when a file is read back)
 * and the identity of a record where results of that kind can be joined or compared. Every reader
 * (compare, merge, plot, report, reproduce --status) goes through this table; how each kind is
 * shown (tables, CSV, Markdown, figure) is its view in report/output.ts. A new kind is one entry
 * here, its record schema in schema.ts, and one view.
 */
import type { z } from 'zod';
import { errorKey, type ErrorLike, type PointFields, pointKey } from './keys.ts';
import {
  benchCsvRowSchema,
  benchRecordSchema,
  errorCsvRowSchema,
  errorRecordSchema,
  leakRecordSchema,
  stepTimeRecordSchema,
  trainRecordSchema,
  utilityRowSchema,
} from './schema.ts';

export const RESULT_KINDS = ['bench', 'error', 'leak', 'train', 'train-steps', 'utility'] as const;
export type ResultKind = (typeof RESULT_KINDS)[number];

export interface KindData {
  /** Each record of a results.json of this kind. */
  readonly record: z.ZodTypeAny;
  /**
   * A record's identity, for kinds whose files are sharded, merged and compared (bench, error);
   * absent where records are not joined across files.
   */
  readonly key?: (record: unknown) => string;
  /**
   * Kinds written without a `kind` field (`performer theory utility --format json`): whether a
   * record is of this kind.
   */
  readonly detect?: (record: Record<string, unknown>) => boolean;
  /** The results.csv of this kind, where `performer plot` reads one: which columns say it is, and their check. */
  readonly csv?: { readonly detect: (row: Record<string, unknown>) => boolean; readonly row: z.ZodTypeAny };
}

export const KIND_DATA: Record<ResultKind, KindData> = {
  bench: { record: benchRecordSchema, key: (r) => pointKey(r as PointFields), csv: { detect: (r) => 'medianMs' in r, row: benchCsvRowSchema } },
  error: {
    record: errorRecordSchema,
    key: (r) => errorKey(r as ErrorLike),
    csv: { detect: (r) => 'metric' in r && 'mean' in r, row: errorCsvRowSchema },
  },
  leak: { record: leakRecordSchema },
  train: { record: trainRecordSchema },
  'train-steps': { record: stepTimeRecordSchema },
  utility: {
    record: utilityRowSchema,
    detect: (r) => 'angle' in r && 'ratio' in r,
    csv: { detect: (r) => 'angle' in r && 'ratio' in r, row: utilityRowSchema },
  },
};

export const isResultKind = (k: unknown): k is ResultKind => typeof k === 'string' && (RESULT_KINDS as readonly string[]).includes(k);

/** The kinds whose records have an identity (merge, compare, report verdicts): each has a `key` above (a test checks). */
export const KEYED_KINDS = ['bench', 'error'] as const satisfies readonly ResultKind[];
export type KeyedKind = (typeof KEYED_KINDS)[number];
