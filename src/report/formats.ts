/** Machine formats of a results document: JSON (with samples), CSV and Markdown (without). */
import { stringify } from 'csv-stringify/sync';

/** Pretty JSON with a final newline (results documents, with samples). */
export const toJson = (doc: object): string => `${JSON.stringify(doc, null, 2)}\n`;

const cell = (v: unknown): string | number | boolean =>
  v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean);

/**
 * CSV with the given columns, in order (arrays such as samples are left out by the caller).
 * Booleans are written `true`/`false`; an empty cell means "not applicable" (null).
 */
export function toCsv<R extends object>(records: readonly R[], columns: readonly (keyof R & string)[]): string {
  return stringify(
    records.map((r) => columns.map((c) => cell(r[c]))),
    { header: true, columns: [...columns], cast: { boolean: (v) => (v ? 'true' : 'false') } },
  );
}

export function toMarkdown(head: readonly string[], rows: readonly (string | number)[][]): string {
  const esc = (s: string | number) => String(s).replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n') + '\n';
}
