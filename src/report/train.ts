/** Training records → the summary table (mean ± std over seeds per kernel), curves as CSV, step-time table. */
import type { StepTimeRecord } from '../train/steps.ts';
import type { TrainDocument, TrainRecord } from '../train/types.ts';
import { toMarkdown } from './formats.ts';
import { renderTable } from './terminal.ts';

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

/** The summary as Markdown (reproduce's table.md). */
export function trainMarkdown(doc: TrainDocument): string {
  const t = trainRows(doc);
  return `${toMarkdown(t.head, t.rows)}\n${t.caption}\n`;
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
    const toTarget = target === null ? '–' : hits.length ? `${meanStd(hits.map((r) => r.timeToTargetS!)).m.toFixed(1)} s (${hits.length}/${rs.length} seeds)` : `not reached (0/${rs.length})`;
    const diverged = rs.filter((r) => r.status === 'diverged').length;
    return [k, String(rs.length), pm((r) => r.testAcc, 3), pm((r) => r.valAcc, 3), pm((r) => r.secondsPerStep, 3), pm((r) => r.stepsPerSecond, 2), pm((r) => r.trainSeconds, 1), toTarget, diverged ? `${diverged} diverged` : 'ok'];
  });
  const head = ['kernel', 'seeds', 'test acc', 'val acc', 's/step', 'steps/s', 'train s', `time to ${target ?? 'target'}`, 'status'];
  const d = doc.dataset;
  const what = doc.options.objective === 'lm' ? `next-token prediction over ${d.classes} tokens, most frequent next token ${d.majority.toFixed(3)} of test positions` : `${d.classes} classes, majority class ${d.majority.toFixed(3)} of test`;
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
  return records.map((r) => ({ kernel: r.kernel, seqLen: r.seqLen, status: r.status, medianS: r.medianS, ratio: r.vsSoftmax?.ratio ?? null, lo: r.vsSoftmax?.lo ?? null, hi: r.vsSoftmax?.hi ?? null, estimatedMemoryBytes: r.estimatedMemoryBytes, error: r.error }));
}

/** Seconds per step per (L, kernel) with the paired ratio to softmax and, beside it, the speed-up. */
export function stepTimeTable(records: readonly StepTimeRecord[], markdown = false): string {
  const rows = records.map((r) => [
    String(r.seqLen), r.kernel, r.status === 'ok' && r.medianS !== null ? `${(r.medianS * 1000).toFixed(1)} ms` : r.status,
    r.vsSoftmax ? `${r.vsSoftmax.ratio.toFixed(3)} (${r.vsSoftmax.lo.toFixed(3)}–${r.vsSoftmax.hi.toFixed(3)})` : '–',
    r.vsSoftmax && r.vsSoftmax.ratio > 0 ? `${(1 / r.vsSoftmax.ratio).toFixed(2)}×` : '–',
  ]);
  const head = ['L', 'kernel', 'median step', '÷ softmax (95% CI, paired rounds)', 'speed-up'];
  return markdown ? toMarkdown(head, rows) : renderTable(head, rows);
}
