/**
 * Vega-Lite figures of training runs (pure data → spec): accuracy against wall-clock and against
 * steps (mean ± std over seeds), loss curves (train dashed, validation solid, as the paper's
 * Fig. 5 draws them), and seconds per training step against L on log-log axes.
 */
import type { StepTimeRecord } from '../train/types.ts';
import type { TrainDocument } from '../train/types.ts';
import { type Caption, DECADE_AXIS, kernelColor, type Spec } from './plot-specs.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Mean and std over seeds at each evaluation step, per kernel. */
export function curveStats(doc: TrainDocument) {
  const out: {
    kernel: string;
    step: number;
    seconds: number;
    valAcc: number;
    valAccLo: number;
    valAccHi: number;
    trainAcc: number | null;
    trainLoss: number | null;
    valLoss: number;
    seeds: number;
  }[] = [];
  for (const kernel of [...new Set(doc.records.map((r) => r.kernel))]) {
    const runs = doc.records.filter((r) => r.kernel === kernel);
    const steps = [...new Set(runs.flatMap((r) => r.curve.map((c) => c.step)))].sort((a, b) => a - b);
    for (const step of steps) {
      const pts = runs.flatMap((r) => r.curve.filter((c) => c.step === step));
      const mean = (f: (c: (typeof pts)[number]) => number) => pts.reduce((s, c) => s + f(c), 0) / pts.length;
      // Training loss and accuracy are null (NaN) at an evaluation before any step (--init-from's step 0).
      const trainMean = (f: (c: (typeof pts)[number]) => number | null) => {
        const xs = pts.map(f).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
        return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
      };
      const acc = mean((c) => c.valAcc);
      const sd = pts.length > 1 ? Math.sqrt(pts.reduce((s, c) => s + (c.valAcc - acc) ** 2, 0) / (pts.length - 1)) : 0;
      out.push({
        kernel,
        step,
        seconds: mean((c) => c.seconds),
        valAcc: acc,
        valAccLo: acc - sd,
        valAccHi: acc + sd,
        trainAcc: trainMean((c) => c.trainAcc),
        trainLoss: trainMean((c) => c.trainLoss),
        valLoss: mean((c) => c.valLoss),
        seeds: pts.length,
      });
    }
  }
  return out;
}

/**
 * One colour per run label: a plain kernel keeps its colour in every figure; a variant
 * (favor-pos+noredraw) takes the first palette colour no other label of the figure uses.
 */
export function labelColors(labels: readonly string[]): string[] {
  const used = new Set(labels.filter((l) => !l.includes('+')).map(kernelColor));
  const spare = PALETTE.filter((c) => !used.has(c));
  let next = 0;
  return labels.map((l) => (l.includes('+') ? (spare[next++ % Math.max(1, spare.length)] ?? '#000000') : kernelColor(l)));
}

const PALETTE = ['#17becf', '#bcbd22', '#8c564b', '#e377c2', '#7f7f7f', '#ff7f0e', '#2ca02c', '#9467bd'];

/** Train and validation series share one dash scale across the panels: validation solid, train dashed. */
const SPLIT = { calculate: "indexof(datum.field, 'train') === 0 ? 'train' : 'validation'", as: 'split' };
const DASH = {
  field: 'split',
  type: 'nominal',
  scale: {
    domain: ['validation', 'train'],
    range: [
      [1, 0],
      [5, 3],
    ],
  },
  legend: null,
};

export function trainSpec(doc: TrainDocument, caption: Caption): Spec {
  const values = curveStats(doc);
  const kernels = [...new Set(values.map((v) => v.kernel))];
  const color = { field: 'kernel', type: 'nominal', title: 'kernel', scale: { domain: kernels, range: labelColors(kernels) }, legend: { labelLimit: 0 } };
  const accPanel = (x: 'seconds' | 'step', title: string) => ({
    width: 260,
    height: 220,
    title,
    layer: [
      {
        mark: { type: 'area', opacity: 0.15 },
        encoding: { x: { field: x, type: 'quantitative' }, y: { field: 'valAccLo', type: 'quantitative' }, y2: { field: 'valAccHi' }, color },
      },
      {
        transform: [{ fold: ['trainAcc', 'valAcc'], as: ['field', 'acc'] }, { filter: 'isValid(datum.acc)' }, SPLIT],
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: x, type: 'quantitative', title: x === 'seconds' ? 'training seconds (no evaluation)' : 'step' },
          y: { field: 'acc', type: 'quantitative', title: 'accuracy (train dashed, validation solid)', scale: { zero: false } },
          color,
          strokeDash: DASH,
        },
      },
      {
        data: { values: [{ majority: doc.dataset.majority }] },
        mark: { type: 'rule', strokeDash: [2, 2], color: 'gray' },
        encoding: { y: { field: 'majority', type: 'quantitative' } },
      },
    ],
  });
  const lossPanel = {
    width: 260,
    height: 220,
    title: 'loss: train dashed, validation solid',
    transform: [{ fold: ['trainLoss', 'valLoss'], as: ['field', 'loss'] }, { filter: 'isValid(datum.loss)' }, SPLIT],
    mark: { type: 'line' },
    encoding: {
      x: { field: 'step', type: 'quantitative' },
      y: { field: 'loss', type: 'quantitative', title: 'cross-entropy', scale: { zero: false } },
      color,
      strokeDash: DASH,
    },
  };
  const sub = `mean over ${Math.max(...values.map((v) => v.seeds))} seeds, band ±1 std; dotted: ${doc.options.objective === 'classify' ? 'majority class' : 'most frequent target token'} ${doc.dataset.majority.toFixed(3)}`;
  return {
    $schema: SCHEMA,
    title: { text: caption.title, subtitle: [caption.machine, sub], anchor: 'start' },
    config: { font: 'DejaVu Sans', axis: { grid: true, gridOpacity: 0.5 } },
    data: { values },
    hconcat: [accPanel('seconds', 'accuracy vs wall-clock'), accPanel('step', 'accuracy vs steps'), lossPanel],
  };
}

export function stepTimeSpec(records: readonly StepTimeRecord[], caption: Caption): Spec {
  const values = records.filter((r) => r.medianS !== null).map((r) => ({ kernel: r.kernel, seqLen: r.seqLen, ms: r.medianS! * 1000 }));
  const kernels = [...new Set(values.map((v) => v.kernel))];
  return {
    $schema: SCHEMA,
    title: { text: caption.title, subtitle: [caption.machine, 'median of interleaved timed steps (forward, backward, AdamW update)'], anchor: 'start' },
    config: { font: 'DejaVu Sans', axis: { grid: true, gridOpacity: 0.5 } },
    width: 420,
    height: 280,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'seqLen', type: 'quantitative', title: 'sequence length L', scale: { type: 'log', base: 2 } },
      y: { field: 'ms', type: 'quantitative', title: 'ms per training step', scale: { type: 'log' }, axis: DECADE_AXIS },
      color: { field: 'kernel', type: 'nominal', scale: { domain: kernels, range: kernels.map(kernelColor) } },
    },
  };
}
