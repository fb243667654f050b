/** Results files (JSON or CSV) → the Vega-Lite spec of their figure. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { BenchRecord } from '../bench/types.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { usage } from '../errors.ts';
import type { StepTimeRecord } from '../train/steps.ts';
import type { TrainDocument } from '../train/types.ts';
import { benchSpec, type Caption, distributionSpec, errorSpec, type Spec, utilitySpec } from './plot-specs.ts';
import { stepTimeSpec, trainSpec } from './train-plot.ts';

type Row = Record<string, unknown>;

/** CSV cells back to numbers, booleans and nulls (the inverse of our CSV writer). */
function typed(row: Record<string, string>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = v === '' ? null : v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v;
  return out;
}

type Kind = 'bench' | 'error' | 'utility' | 'train' | 'train-steps';

function load(path: string): { kind: Kind; records: Row[]; caption: Caption; doc: Row } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw usage('<data>', `cannot read '${path}': ${(e as NodeJS.ErrnoException).code}`, 'a results .json or .csv written by performer');
  }
  let records: Row[];
  let env: Row | null = null;
  let options: Row = {};
  let doc: Row = {};
  try {
    if (extname(path).toLowerCase() === '.csv') records = (parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[]).map(typed);
    else {
      const parsed = JSON.parse(text) as { records?: Row[]; environment?: Row | null; options?: Row };
      if (!Array.isArray(parsed.records)) throw new Error('no records');
      doc = parsed as Row;
      records = parsed.records;
      env = parsed.environment ?? null;
      options = parsed.options ?? {};
    }
  } catch (e) {
    throw usage('<data>', `'${path}' is not a performer results file: ${(e as Error).message}`, 'results.json, results.csv, or theory utility output');
  }
  const first = records[0] ?? {};
  const kind: Kind | null = doc.kind === 'train' ? 'train' : doc.kind === 'train-steps' ? 'train-steps'
    : 'medianMs' in first ? 'bench' : 'metric' in first && 'mean' in first ? 'error' : 'angle' in first && 'ratio' in first ? 'utility' : null;
  if (!kind) throw usage('<data>', `'${path}' has no bench, error, utility or training records`, 'a results .json or .csv written by performer (training results: their .json)');
  const machine = env ? `${String(env.cpuModel)}, ${String(env.cores)} cores, ONNX Runtime ${String(env.onnxruntimeVersion)}, provider ${String(options.ep ?? 'cpu')}` : 'no environment recorded (CSV input)';
  const title = {
    bench: 'Time vs sequence length', error: 'Approximation error vs number of random features', utility: 'Utility of positive over trigonometric features, r(φ, l)',
    train: 'Training: accuracy against wall-clock and steps', 'train-steps': 'Seconds per training step against L',
  }[kind];
  return { kind, records, caption: { title, machine, commit: typeof env?.gitCommit === 'string' ? env.gitCommit : null }, doc };
}

/** The sample distributions of a bench results file (JSON: the samples are not in CSV). */
export function distributionPlotSpec(path: string): Spec {
  const { kind, records, caption } = load(path);
  if (kind !== 'bench' || !records.some((r) => Array.isArray(r.samplesMs) && r.samplesMs.length)) throw usage('--distributions', `'${path}' has no bench samples`, 'a bench results.json (CSV files carry no samples)');
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

