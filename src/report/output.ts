/**
 * How each results kind is shown: its output formats (terminal table, CSV, JSON, Markdown; bench
 * also the CI formats), its figure and the words that name it. The kinds' data side (record
 * schemas, identities) is results/kinds.ts; every command writes, prints and plots a results
 * document through this table, so a new kind is one view here.
 */
import { join } from 'node:path';
import type { BenchDocument } from '../bench/types.ts';
import type { HeadStats } from '../error/given.ts';
import type { LeakRecord } from '../error/leak.ts';
import type { ErrorDocument } from '../error/sweep.ts';
import { writeAtomic } from '../results/files.ts';
import type { ResultKind } from '../results/kinds.ts';
import type { StepTimeRecord } from '../train/types.ts';
import type { TrainDocument } from '../train/types.ts';
import { BENCH_CSV_COLUMNS, benchMarkdown, benchTable } from './bench.ts';
import { toBmf, toGab } from './ci-formats.ts';
import { ERROR_COLUMNS, errorTable, GROUPED_ERROR_COLUMNS, grouped, LEAK_COLUMNS, leakTable } from './error.ts';
import { toCsv, toJson, toMarkdown } from './formats.ts';
import { givenErrorSpec } from './given-plot.ts';
import { benchSpec, type Caption, errorSpec, type Spec, utilitySpec } from './plot-specs.ts';
import { renderTable } from './terminal.ts';
import { curveRows, STEP_TIME_COLUMNS, stepTimeRows, stepTimeTable, TRAIN_CURVE_COLUMNS, trainMarkdown, trainReport } from './train.ts';
import { stepTimeSpec, trainSpec } from './train-plot.ts';

export const FORMATS = ['table', 'csv', 'json', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];
export const BENCH_FORMATS = [...FORMATS, 'gab', 'bmf'] as const;
export type BenchFormat = (typeof BENCH_FORMATS)[number];

export interface LeakDocument {
  readonly kind: 'leak';
  readonly records: LeakRecord[];
}
export interface StepTimeDocument {
  readonly kind: 'train-steps';
  readonly records: StepTimeRecord[];
}
type UtilityRow = { angle: number; norm: number; ratio: number | null };
export interface UtilityDocument {
  readonly kind: 'utility';
  readonly records: UtilityRow[];
}

/** The documents of each kind, as the views read them. */
interface Documents {
  bench: BenchDocument;
  error: ErrorDocument;
  leak: LeakDocument;
  train: TrainDocument;
  'train-steps': StepTimeDocument;
  utility: UtilityDocument;
}
export type ResultsDocument = Documents[ResultKind];

export interface KindView<D> {
  /** The figure's title, and the words under it in an HTML report. */
  readonly title: string;
  readonly caption: string;
  /** Every output format; bench adds the CI formats. */
  readonly formats: Record<Format, (doc: D) => string> & Partial<Record<BenchFormat, (doc: D) => string>>;
  /** The Vega-Lite figure; absent for kinds without one (leak). */
  readonly figure?: (doc: D, caption: Caption) => Spec;
}

const markdownOf = (t: { head: string[]; rows: string[][] }) => toMarkdown(t.head, t.rows);

export const VIEWS: { [K in ResultKind]: KindView<Documents[K]> } = {
  bench: {
    title: 'Time vs sequence length',
    caption: 'time against sequence length',
    formats: {
      table: benchTable,
      csv: (d) => toCsv(d.records, BENCH_CSV_COLUMNS),
      json: toJson,
      markdown: benchMarkdown,
      gab: (d) => toGab(d.records),
      bmf: (d) => toBmf(d.records),
    },
    figure: (d, c) => benchSpec(d.records, c),
  },
  error: {
    title: 'Approximation error vs number of random features',
    caption: 'error against the number of features',
    formats: {
      table: (d) => {
        const t = errorTable(d.records);
        return renderTable(t.head, t.rows);
      },
      csv: (d) => (grouped(d.records) ? toCsv(d.records, GROUPED_ERROR_COLUMNS) : toCsv(d.records, ERROR_COLUMNS)),
      json: toJson,
      markdown: (d) => markdownOf(errorTable(d.records)),
    },
    // Given inputs (error --inputs): one panel per layer and head, beside each head's input statistics.
    figure: (d, c) => (d.inputs ? givenErrorSpec(d.records, d.inputs.heads as HeadStats[], c) : errorSpec(d.records, c)),
  },
  leak: {
    title: 'Causal leak probe',
    caption: 'the change of earlier outputs when a later input changes',
    formats: {
      table: (d) => leakTable(d.records),
      csv: (d) => toCsv(d.records, LEAK_COLUMNS),
      json: toJson,
      markdown: (d) => leakTable(d.records, true),
    },
  },
  train: {
    title: 'Training: accuracy against wall-clock and steps',
    caption: 'validation accuracy against the training clock and steps',
    formats: {
      table: trainReport,
      csv: (d) => toCsv(curveRows(d), TRAIN_CURVE_COLUMNS),
      json: toJson,
      markdown: trainMarkdown,
    },
    figure: trainSpec,
  },
  'train-steps': {
    title: 'Seconds per training step against L',
    caption: 'seconds per training step against the sequence length',
    formats: {
      table: (d) => stepTimeTable(d.records),
      csv: (d) => toCsv(stepTimeRows(d.records), STEP_TIME_COLUMNS),
      json: toJson,
      markdown: (d) => `${stepTimeTable(d.records, true)}\n`,
    },
    figure: (d, c) => stepTimeSpec(d.records, c),
  },
  utility: {
    title: 'Utility of positive over trigonometric features, r(φ, l)',
    caption: 'the utility r(φ, l) of positive over trigonometric features',
    formats: {
      table: (d) => renderTable(['φ', 'l', 'r(φ, l)'], utilityRows(d.records)),
      csv: (d) => toCsv(d.records, ['angle', 'norm', 'ratio']),
      json: toJson,
      // r is infinite at φ = ±π (JSON null): the slice at l = 1, every tenth angle, finite values only.
      markdown: (d) =>
        toMarkdown(
          ['φ', 'r(φ, 1)'],
          d.records
            .filter((r) => Math.abs(r.norm - 1) < 1e-9 && Number.isFinite(r.ratio))
            .filter((_, i) => i % 10 === 0)
            .map((r) => [r.angle.toFixed(3), r.ratio!.toPrecision(4)]),
        ),
    },
    figure: (d, c) => utilitySpec(d.records as { angle: number; norm: number; ratio: number }[], c),
  },
};

const utilityRows = (rows: readonly UtilityRow[]) => rows.map((r) => [r.angle.toFixed(3), r.norm.toFixed(3), r.ratio === null ? '∞' : r.ratio.toPrecision(4)]);

/** The view of a document's kind. */
export const viewOf = <D extends ResultsDocument>(doc: D): KindView<D> => VIEWS[doc.kind] as unknown as KindView<D>;

/** A results document in one format (bench alone has gab and bmf; the commands' --format choices say so). */
export function formatResults(doc: ResultsDocument, format: BenchFormat): string {
  const f = viewOf(doc).formats[format];
  if (!f) throw new Error(`results of kind ${doc.kind} have no ${format} format`);
  return f(doc);
}

/** A results document as files: results.json (with samples) and results.csv, each written atomically. */
export function writeResultsFiles(dir: string, doc: ResultsDocument): void {
  writeAtomic(join(dir, 'results.json'), formatResults(doc, 'json'));
  writeAtomic(join(dir, 'results.csv'), formatResults(doc, 'csv'));
}
