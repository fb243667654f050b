/** Results files (JSON or CSV) → the Vega-Lite spec of their figure. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { BenchRecord } from '../bench/types.ts';
import { z } from 'zod';
import { usage } from '../errors.ts';
import { KIND_DATA, RESULT_KINDS, type ResultKind } from '../results/kinds.ts';
import { checkResults } from '../results/read.ts';
import { firstIssue } from '../results/schema.ts';
import { type ResultsDocument, VIEWS, viewOf } from './output.ts';
import { type Caption, distributionSpec, type Spec } from './plot-specs.ts';

type Row = Record<string, unknown>;

/** CSV cells back to numbers, booleans and nulls (the inverse of our CSV writer). */
function typed(row: Record<string, string>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row))
    out[k] =
      v === '' || v === 'NaN' ? null : v === 'true' ? true : v === 'false' ? false : /^[-+]?Infinity$/.test(v) || Number.isFinite(Number(v)) ? Number(v) : v;
  return out;
}

const WANTED = 'a results .json or .csv written by performer, or theory utility output';

/** A JSON results document of any kind, checked through the kinds table. */
function loadJson(path: string, text: string): { kind: ResultKind; doc: Row; records: Row[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw usage('<data>', `'${path}' is not valid JSON: ${(e as Error).message}`, WANTED);
  }
  const doc = checkResults(parsed, path, '<data>', RESULT_KINDS);
  return { kind: doc.kind, doc: doc as unknown as Row, records: doc.records as Row[] };
}

/** A results.csv: the kind from its columns, and the columns the figure reads checked like the JSON's. */
function loadCsv(path: string, text: string): { kind: ResultKind; doc: Row; records: Row[] } {
  let records: Row[];
  try {
    records = (parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[]).map(typed);
  } catch (e) {
    throw usage('<data>', `'${path}' is not valid CSV: ${(e as Error).message}`, WANTED);
  }
  const first = records[0] ?? {};
  const kind = RESULT_KINDS.find((k) => KIND_DATA[k].csv?.detect(first));
  const readable = RESULT_KINDS.filter((k) => KIND_DATA[k].csv).join(', ');
  if (!kind) throw usage('<data>', `'${path}' has no ${readable} rows`, `${WANTED} (training results: their .json)`);
  const r = z.array(KIND_DATA[kind].csv!.row).safeParse(records);
  if (!r.success) throw usage('<data>', `'${path}' is malformed at ${firstIssue(r.error, ['records'])}`, WANTED);
  return { kind, doc: { kind, records }, records };
}

function load(path: string): { kind: ResultKind; records: Row[]; caption: Caption; doc: Row } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw usage('<data>', `cannot read '${path}': ${(e as NodeJS.ErrnoException).code}`, WANTED);
  }
  const { kind, records, doc } = extname(path).toLowerCase() === '.csv' ? loadCsv(path, text) : loadJson(path, text);
  const env = (doc.environment ?? null) as Row | null;
  const options = (doc.options ?? {}) as Row;
  const machine =
    env?.cpuModel !== undefined
      ? `${String(env.cpuModel)}, ${String(env.cores)} cores, ONNX Runtime ${String(env.onnxruntimeVersion)}, provider ${String(options.ep ?? 'cpu')}`
      : 'no environment recorded (CSV input)';
  const title = VIEWS[kind].title;
  return { kind, records, caption: { title, machine, commit: typeof env?.gitCommit === 'string' ? env.gitCommit : null }, doc };
}

/** The sample distributions of a bench results file (JSON: the samples are not in CSV). */
export function distributionPlotSpec(path: string): Spec {
  const { kind, records, caption } = load(path);
  if (kind !== 'bench' || !records.some((r) => Array.isArray(r.samplesMs) && r.samplesMs.length))
    throw usage('--distributions', `'${path}' has no bench samples`, 'a bench results.json (CSV files carry no samples)');
  return distributionSpec(records as unknown as BenchRecord[], caption);
}

export function plotSpec(path: string): Spec {
  const { kind, caption, doc } = load(path);
  const figure = viewOf(doc as unknown as ResultsDocument).figure;
  if (!figure) throw usage('<data>', `'${path}' holds ${kind} results, which have no figure`, RESULT_KINDS.filter((k) => VIEWS[k].figure).join(', '));
  return figure(doc as unknown as ResultsDocument, caption);
}
