/** Training records → the summary table (mean ± std over seeds per kernel), curves as CSV, step-time table. */
import type { StepTimeRecord } from '../train/types.ts';
import type { TrainDocument, TrainRecord } from '../train/types.ts';
import { toMarkdown } from './formats.ts';
import { renderTable } from './terminal.ts';
import { formatDifference, pairedDifferences, recoveries } from './train-stats.ts';

const meanStd = (xs: readonly number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { m, sd };
};

/** Per kernel: final test accuracy, validation accuracy, s/step, steps/s and time to target, over seeds. */
export function trainSummary(doc: TrainDocument): string {
  const t = trainRows(doc);
  return `${renderTable(t.head, t.rows)}\n${t.caption}`;
}

/** The summary as Markdown (reproduce's table.md), with the paired and transfer tables where they apply. */
export function trainMarkdown(doc: TrainDocument): string {
  const t = trainRows(doc);
  const extra = [pairedTable(doc), transferTable(doc)].filter((x) => x !== null).map((x) => `\n${x!.title}\n\n${toMarkdown(x!.head, x!.rows)}\n`);
  return `${toMarkdown(t.head, t.rows)}\n${t.caption}\n${extra.join('')}`;
}

/** The summary, then the paired and transfer tables, for the terminal. */
export function trainReport(doc: TrainDocument): string {
  const extra = [pairedTable(doc), transferTable(doc)].filter((x) => x !== null).map((x) => `\n${x!.title}\n${renderTable(x!.head, x!.rows)}`);
  return `${trainSummary(doc)}${extra.join('')}`;
}

type Table = { title: string; head: string[]; rows: string[][] };

/** Final test accuracy (and perplexity for language models) of every label against softmax, paired by seed. */
function pairedTable(doc: TrainDocument): Table | null {
  const labels = new Set(doc.records.map((r) => r.kernel));
  if (!labels.has('softmax') || labels.size < 2) return null;
  const lm = doc.options.objective !== 'classify';
  const acc = pairedDifferences(doc.records, 'softmax', (r) => r.testAcc);
  const ppl = lm ? pairedDifferences(doc.records, 'softmax', (r) => r.testPerplexity ?? NaN) : [];
  const rows = acc.map((d, i) => {
    const a = formatDifference(d);
    return [d.label, String(d.n), a.text, a.verdict, ...(lm ? [formatDifference(ppl[i]!, 2).text] : [])];
  });
  const head = ['kernel', 'pairs', 'test acc − softmax (95% CI), paired t', 'verdict', ...(lm ? ['perplexity − softmax (95% CI)'] : [])];
  return {
    title: 'Against softmax on the same seeds (same initial weights, batches and masks); a two-sided paired t-test per row, no correction across rows:',
    head,
    rows,
  };
}

/** With --init-from: accuracy right after the swap and the steps and seconds until within 1 point of the control (softmax). */
function transferTable(doc: TrainDocument): Table | null {
  if (!doc.options.initFrom || !doc.records.some((r) => r.kernel === 'softmax')) return null;
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = recoveries(doc, 'softmax').map((r) => {
    const hits = r.reached.filter((h) => h !== null) as { step: number; seconds: number }[];
    const start = meanStd(r.start.filter(Number.isFinite));
    return [
      r.label,
      `${start.m.toFixed(3)} ± ${start.sd.toFixed(3)}`,
      `${hits.length}/${r.seeds}`,
      hits.length ? `${mean(hits.map((h) => h.step)).toFixed(0)} (${hits.map((h) => h.step).join(', ')})` : 'not reached',
      hits.length ? `${mean(hits.map((h) => h.seconds)).toFixed(1)}` : '–',
    ];
  });
  const src = `${doc.options.initFrom}${doc.options.initKernel ? ` (${doc.options.initKernel})` : ''}`;
  return {
    title: `Started from ${src}: validation accuracy at step 0 (before any update), and the first evaluation within 1 point of the softmax control at the same step and seed:`,
    head: ['kernel', 'val acc at step 0', 'seeds within 1 pt', 'steps (mean; per seed)', 'training s (mean)'],
    rows,
  };
}

function pmOf(rs: readonly TrainRecord[], f: (r: TrainRecord) => number, digits: number): string {
  const { m, sd } = meanStd(rs.map(f));
  return rs.length > 1 ? `${m.toFixed(digits)} ± ${sd.toFixed(digits)}` : m.toFixed(digits);
}

function trainRows(doc: TrainDocument): { head: string[]; rows: string[][]; caption: string } {
  const kernels = [...new Set(doc.records.map((r) => r.kernel))];
  const target = doc.options.targetAcc;
  const rows = kernels.map((k) => {
    const rs = doc.records.filter((r) => r.kernel === k);
    const pm = (f: (r: TrainRecord) => number, digits: number) => {
      const { m, sd } = meanStd(rs.map(f));
      return rs.length > 1 ? `${m.toFixed(digits)} ± ${sd.toFixed(digits)}` : m.toFixed(digits);
    };
    const hits = rs.filter((r) => r.timeToTargetS !== null);
    const toTarget =
      target === null
        ? '–'
        : hits.length
          ? `${meanStd(hits.map((r) => r.timeToTargetS!)).m.toFixed(1)} s (${hits.length}/${rs.length} seeds)`
          : `not reached (0/${rs.length})`;
    const diverged = rs.filter((r) => r.status === 'diverged').length;
    return [
      k,
      String(rs.length),
      pm((r) => r.testAcc, 3),
      pm((r) => r.valAcc, 3),
      pm((r) => r.secondsPerStep, 3),
      pm((r) => r.stepsPerSecond, 2),
      pm((r) => r.trainSeconds, 1),
      toTarget,
      diverged ? `${diverged} diverged` : 'ok',
    ];
  });
  const lm = doc.options.objective !== 'classify';
  if (lm)
    rows.forEach((row, i) =>
      row.splice(
        3,
        0,
        pmOf(
          doc.records.filter((r) => r.kernel === kernels[i]),
          (r) => r.testPerplexity ?? Math.exp(r.testLoss),
          2,
        ),
      ),
    );
  const head = [
    'kernel',
    'seeds',
    'test acc',
    ...(lm ? ['test perplexity'] : []),
    'val acc',
    's/step',
    'steps/s',
    'train s',
    `time to ${target ?? 'target'}`,
    'status',
  ];
  const d = doc.dataset;
  const what =
    doc.options.objective === 'lm'
      ? `next-token prediction over ${d.classes} tokens, most frequent next token ${d.majority.toFixed(3)} of test positions`
      : doc.options.objective === 'mlm'
        ? `masked-token prediction over ${d.classes} tokens (15% of residues chosen; 80% masked, 10% random, 10% kept), most frequent masked token ${d.majority.toFixed(3)} of test predictions`
        : `${d.classes} classes, majority class ${d.majority.toFixed(3)} of test`;
  const caption = `${d.name}: ${d.train} train / ${d.validation} validation / ${d.test} test sequences, ${what}; ${doc.options.steps} steps of batch ${doc.options.batch} at L = ${doc.options.seqLen}`;
  return { head, rows, caption };
}

export const TRAIN_CURVE_COLUMNS = ['kernel', 'seed', 'step', 'seconds', 'trainLoss', 'trainAcc', 'valLoss', 'valAcc'] as const;

/** One row per evaluation of every run (what the figures plot). */
export function curveRows(doc: TrainDocument): Record<(typeof TRAIN_CURVE_COLUMNS)[number], string | number>[] {
  return doc.records.flatMap((r) => r.curve.map((c) => ({ kernel: r.kernel, seed: r.seed, ...c })));
}

export const STEP_TIME_COLUMNS = ['kernel', 'seqLen', 'status', 'medianS', 'ratio', 'lo', 'hi', 'estimatedMemoryBytes', 'error'] as const;

export function stepTimeRows(records: readonly StepTimeRecord[]) {
  return records.map((r) => ({
    kernel: r.kernel,
    seqLen: r.seqLen,
    status: r.status,
    medianS: r.medianS,
    ratio: r.vsSoftmax?.ratio ?? null,
    lo: r.vsSoftmax?.lo ?? null,
    hi: r.vsSoftmax?.hi ?? null,
    estimatedMemoryBytes: r.estimatedMemoryBytes,
    error: r.error,
  }));
}

/** Seconds per step per (L, kernel) with the paired ratio to softmax and, beside it, the speed-up. */
export function stepTimeTable(records: readonly StepTimeRecord[], markdown = false): string {
  const rows = records.map((r) => [
    String(r.seqLen),
    r.kernel,
    r.status === 'ok' && r.medianS !== null ? `${(r.medianS * 1000).toFixed(1)} ms` : r.status,
    r.vsSoftmax ? `${r.vsSoftmax.ratio.toFixed(3)} (${r.vsSoftmax.lo.toFixed(3)}–${r.vsSoftmax.hi.toFixed(3)})` : '–',
    r.vsSoftmax && r.vsSoftmax.ratio > 0 ? `${(1 / r.vsSoftmax.ratio).toFixed(2)}×` : '–',
  ]);
  const head = ['L', 'kernel', 'median step', '÷ softmax (95% CI, paired rounds)', 'speed-up'];
  return markdown ? toMarkdown(head, rows) : renderTable(head, rows);
}
