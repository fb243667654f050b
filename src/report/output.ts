/**
 * Every output format of every results kind, in one table keyed by (kind, format): a new format
 * or kind is one entry here.
 */
import type { BenchDocument } from '../bench/types.ts';
import type { ErrorDocument } from '../error/sweep.ts';
import { BENCH_CSV_COLUMNS, benchMarkdown, benchTable } from './bench.ts';
import { toBmf, toGab } from './ci-formats.ts';
import { ERROR_COLUMNS, errorTable, GROUPED_ERROR_COLUMNS, grouped } from './error.ts';
import { toCsv, toJson, toMarkdown } from './formats.ts';
import { renderTable } from './terminal.ts';

export const FORMATS = ['table', 'csv', 'json', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];
export const BENCH_FORMATS = [...FORMATS, 'gab', 'bmf'] as const;
export type BenchFormat = (typeof BENCH_FORMATS)[number];

const FORMATTERS = {
  bench: {
    table: benchTable,
    csv: (d) => toCsv(d.records, BENCH_CSV_COLUMNS),
    json: toJson,
    markdown: benchMarkdown,
    gab: (d) => toGab(d.records),
    bmf: (d) => toBmf(d.records),
  },
  error: {
    table: (d) => {
      const t = errorTable(d.records);
      return renderTable(t.head, t.rows);
    },
    csv: (d) => (grouped(d.records) ? toCsv(d.records, GROUPED_ERROR_COLUMNS) : toCsv(d.records, ERROR_COLUMNS)),
    json: toJson,
    markdown: (d) => {
      const t = errorTable(d.records);
      return toMarkdown(t.head, t.rows);
    },
  },
} satisfies { bench: Record<BenchFormat, (d: BenchDocument) => string>; error: Record<Format, (d: ErrorDocument) => string> };

/** A results document in one format. */
export function formatResults(doc: BenchDocument, format: BenchFormat): string;
export function formatResults(doc: ErrorDocument, format: Format): string;
export function formatResults(doc: BenchDocument | ErrorDocument, format: BenchFormat): string {
  if (doc.kind === 'bench') return FORMATTERS.bench[format](doc);
  return FORMATTERS.error[format as Format](doc);
}
