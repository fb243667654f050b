/** Results files (JSON or CSV) → the Vega-Lite spec of their figure. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { BenchRecord } from '../bench/types.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { z } from 'zod';
import { usage } from '../errors.ts';
import { readResults } from '../results/read.ts';
import { benchCsvRowSchema, errorCsvRowSchema, firstIssue, utilityRowSchema } from '../results/schema.ts';
import { SCHEMA_VERSION } from '../results/version.ts';
import type { StepTimeRecord } from '../train/steps.ts';
import type { TrainDocument } from '../train/types.ts';
import { benchSpec, type Caption, distributionSpec, errorSpec, type Spec, utilitySpec } from './plot-specs.ts';
import { stepTimeSpec, trainSpec } from './train-plot.ts';

type Row = Record<string, unknown>;

/** CSV cells back to numbers, booleans and nulls (the inverse of our CSV writer). */
function typed(row: Record<string, string>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row))
    out[k] =
      v === '' || v === 'NaN' ? null : v === 'true' ? true : v === 'false' ? false : /^[-+]?Infinity$/.test(v) || Number.isFinite(Number(v)) ? Number(v) : v;
  return out;
}

type Kind = 'bench' | 'error' | 'utility' | 'train' | 'train-steps';

const WANTED = 'a results .json or .csv written by performer, or theory utility output';
const KINDS = ['bench', 'error', 'train', 'train-steps'] as const;

/** Every row against `schema`: the first bad row is a usage error naming the file and the field. */
function checkRows(path: string, rows: readonly Row[], schema: z.ZodTypeAny): void {
  const r = z.array(schema).safeParse(rows);
  if (!r.success) throw usage('<data>', `'${path}' is malformed at ${firstIssue(r.error, ['records'])}`, WANTED);
}

/** A JSON results document: bench and error files exactly as compare reads them; the rest by version, kind and rows. */
function loadJson(path: string, text: string): { kind: Kind; doc: Row; records: Row[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw usage('<data>', `'${path}' is not valid JSON: ${(e as Error).message}`, WANTED);
  }
  const doc = (parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {}) as Row;
  if (!Array.isArray(doc.records)) throw usage('<data>', `'${path}' is not a performer results file (it has no records)`, WANTED);
  if (doc.schemaVersion !== SCHEMA_VERSION) throw usage('<data>', `'${path}' has schemaVersion ${String(doc.schemaVersion)}`, String(SCHEMA_VERSION));
  const records = doc.records as Row[];
  if (doc.kind === 'bench' || doc.kind === 'error') return { kind: doc.kind, doc: readResults(path, '<data>') as unknown as Row, records };
  if (doc.kind === 'train' || doc.kind === 'train-steps') return { kind: doc.kind, doc, records };
  // `performer theory utility --format json` writes no kind: its rows say what it is.
  if (doc.kind === undefined && records.length && 'angle' in records[0]! && 'ratio' in records[0]!) {
    checkRows(path, records, utilityRowSchema);
    return { kind: 'utility', doc, records };
  }
  throw usage('<data>', `'${path}' has kind ${String(doc.kind)}`, `${KINDS.join(', ')}, or theory utility output`);
}

/** A results.csv: the kind from its columns, and the columns the figure reads checked like the JSON's. */
function loadCsv(path: string, text: string): { kind: Kind; doc: Row; records: Row[] } {
  let records: Row[];
  try {
    records = (parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[]).map(typed);
  } catch (e) {
    throw usage('<data>', `'${path}' is not valid CSV: ${(e as Error).message}`, WANTED);
  }
  const first = records[0] ?? {};
  const kind: Kind | null =
    'medianMs' in first ? 'bench' : 'metric' in first && 'mean' in first ? 'error' : 'angle' in first && 'ratio' in first ? 'utility' : null;
  if (!kind) throw usage('<data>', `'${path}' has no bench, error or utility rows`, `${WANTED} (training results: their .json)`);
  checkRows(path, records, kind === 'bench' ? benchCsvRowSchema : kind === 'error' ? errorCsvRowSchema : utilityRowSchema);
  return { kind, doc: {}, records };
}

function load(path: string): { kind: Kind; records: Row[]; caption: Caption; doc: Row } {
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
  const title = {
    bench: 'Time vs sequence length',
    error: 'Approximation error vs number of random features',
    utility: 'Utility of positive over trigonometric features, r(φ, l)',
    train: 'Training: accuracy against wall-clock and steps',
    'train-steps': 'Seconds per training step against L',
  }[kind];
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
  const { kind, records, caption, doc } = load(path);
  if (kind === 'train') return trainSpec(doc as unknown as TrainDocument, caption);
  if (kind === 'train-steps') return stepTimeSpec(records as unknown as StepTimeRecord[], caption);
  if (kind === 'bench') return benchSpec(records as unknown as BenchRecord[], caption);
  if (kind === 'error') return errorSpec(records as unknown as ErrorRecord[], caption);
  return utilitySpec(records as unknown as { angle: number; norm: number; ratio: number }[], caption);
}
