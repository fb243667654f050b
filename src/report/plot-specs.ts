/**
 * Vega-Lite specs in the paper's conventions, built from results documents (pure data → spec).
 * - bench: time vs L on log axes, one colour per kernel, softmax dashed and linear solid, OPT as
 *   black ×, a red triangle where a series runs out of memory, L* marked; a panel per pass (and batch).
 * - error: mean error vs m on a log axis with ±std bands, one colour per kernel/projection.
 * - utility: r(φ, l) as a heat map of log10 r, and the l = 1 slice on a log axis (Fig. 2).
 */
import type { BenchRecord } from '../bench/types.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { deriveRecords } from '../bench/derive.ts';
import { crossovers, processInterval, type Crossover } from '../bench/summary.ts';
import { hasRole, isSoftmaxBaseline, KERNEL_NAMES } from '../kernels/index.ts';

export type Spec = Record<string, unknown>;

/** A log axis labelled at powers of ten only (the minor ticks stay, unlabelled). */
export const DECADE_AXIS = { labelExpr: "abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6 ? datum.label : ''" };
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface Caption {
  readonly title: string;
  readonly machine: string;
  /** The commit the data was measured at (environment.gitCommit), for timing figures' subtitles. */
  readonly commit?: string | null;
}

const header = (c: Caption) => ({
  $schema: SCHEMA,
  title: { text: c.title, subtitle: c.machine, anchor: 'start' },
  config: { font: 'DejaVu Sans', axis: { grid: true, gridOpacity: 0.5 } },
});

/** One colour per kernel, fixed by registry order so every figure agrees. */
const KERNEL_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
export const kernelColor = (kernel: string): string => KERNEL_COLORS[Math.max(0, KERNEL_NAMES.indexOf(kernel)) % KERNEL_COLORS.length]!;

const PASS_TITLES: Record<string, string> = { forward: 'forward', backward: 'forward + backward' };
const lengthLabel =
  "datum.value >= 1048576 ? format(datum.value / 1048576, '~g') + 'M' : datum.value >= 1024 ? format(datum.value / 1024, '~g') + 'K' : format(datum.value, '~g')";
const timeLabel = "datum.value >= 1000 ? format(datum.value / 1000, '~g') + ' s' : format(datum.value, '~g') + ' ms'";

/**
 * One placeholder datum for each (row, column) cell of a facet grid that has no data, marked
 * `{ [tag]: 'empty' }` so no layer draws it. Vega-lite lays a row × column facet out as the
 * cross product of the values, ordering cells by each datum's position in the sort arrays; a
 * cell without data has no position, sorts first, and pushes every cell before it one place on
 * (softmax's forward panel drew empty, its samples under "forward + backward", because
 * softmax-fused has no backward cell).
 */
export function emptyCells(
  rows: readonly Record<string, unknown>[],
  rowField: string,
  rowValues: readonly unknown[],
  colField: string,
  colValues: readonly unknown[],
  tag: string,
): Record<string, unknown>[] {
  const seen = new Set(rows.map((r) => JSON.stringify([r[rowField], r[colField]])));
  return rowValues.flatMap((rv) =>
    colValues.filter((cv) => !seen.has(JSON.stringify([rv, cv]))).map((cv) => ({ [rowField]: rv, [colField]: cv, [tag]: 'empty' })),
  );
}

/**
 * Time vs sequence length in the paper's conventions: one colour per kernel (the same in every
 * panel), exact softmax dashed and linear attention solid, OPT (identity) as black ×, the first
 * length a series ran out of memory as a red triangle, the crossover L* of each linear kernel
 * marked; log-2 length and log time axes with readable labels; one column per pass ("forward",
 * "forward + backward") and one row per batch size when there are several.
 */
/** "commit abc1234 · 2–3 processes per point": where the timings come from and how often each point was measured. */
function provenance(records: readonly BenchRecord[], caption: Caption): string {
  const counts = records.filter((r) => r.status === 'ok').map((r) => r.processes ?? 1);
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  const per = counts.length ? `${lo === hi ? lo : `${lo}–${hi}`} process${hi > 1 ? 'es' : ''} per point` : 'no point measured';
  return `${caption.commit ? `commit ${caption.commit.slice(0, 7)}` : 'commit not recorded'} · ${per}`;
}

/** ` (lo–hi)`: the range of the rounds' own crossovers, where the file has one. */
function roundRange(c: Crossover): string {
  const r = c.rounds;
  if (!r || r.undetermined) return r?.undetermined ? ' (rounds: undetermined)' : '';
  if (r.lo === null && r.hi === null) return ''; // every round on the median's side of the grid
  return ` (${r.lo === null ? '<grid' : Math.round(r.lo)}–${r.hi === null ? '>grid' : Math.round(r.hi)})`;
}

export function benchSpec(records: readonly BenchRecord[], caption: Caption): Spec {
  const batches = [...new Set(records.map((r) => r.batch))].sort((a, b) => a - b);
  const ok = records.filter((r) => r.status === 'ok' && r.medianMs !== null);
  // A file of training steps (bench --scope train) names its one pass for what it times.
  const steps = records.length > 0 && records.every((r) => r.scope === 'train');
  const passTitle = (pass: string) => (steps ? 'training step: forward + backward + AdamW' : (PASS_TITLES[pass] ?? pass));
  const panel = (r: { pass: string; batch: number }) => ({ pass: passTitle(r.pass), batch: `batch ${r.batch}` });
  const kind = (k: string) => (hasRole(k, 'opt') ? 'OPT (identity)' : isSoftmaxBaseline(k) ? 'exact softmax' : 'linear attention');
  const rows = ok.map((r) => {
    const ci = processInterval(r);
    return {
      ...panel(r),
      kernel: r.kernel,
      L: r.seqLen,
      ms: r.medianMs!,
      kind: kind(r.kernel),
      family: kind(r.kernel),
      marker: kind(r.kernel),
      ...(ci ? { lo: ci[0], hi: ci[1] } : {}),
    };
  });
  const oom = records
    .filter((r) => r.status === 'oom')
    .flatMap((r) => {
      const last = ok
        .filter((o) => o.kernel === r.kernel && o.pass === r.pass && o.batch === r.batch && o.seqLen < r.seqLen)
        .sort((a, b) => b.seqLen - a.seqLen)[0];
      return last ? [{ ...panel(r), kernel: r.kernel, L: r.seqLen, ms: last.medianMs!, kind: 'out of memory', marker: 'out of memory' }] : [];
    });
  const times = rows.map((r) => r.ms);
  const decades = Array.from({ length: 12 }, (_, i) => 10 ** (i - 3)).filter((v) => v >= Math.min(...times) / 10 && v <= Math.max(...times) * 10);
  const marks = batches.flatMap((b) => {
    const derived = deriveRecords(
      records.filter((r) => r.batch === b),
      null,
    );
    // Several linear kernels cross at about the same L: their labels stack, one line each.
    const seen = new Map<string, number>();
    return crossovers(derived)
      .filter((c) => c.bound === 'exact')
      .map((c) => {
        const line = seen.get(c.pass) ?? 0;
        seen.set(c.pass, line + 1);
        return {
          ...panel({ pass: c.pass, batch: b }),
          kernel: c.kernel,
          L: c.seqLen!,
          kind: 'crossover',
          label: `L* ≈ ${Math.round(c.seqLen!)}${roundRange(c)}`,
          labelY: 2 + 12 * line,
        };
      });
  });
  const lengths = [...new Set(records.map((r) => r.seqLen))].sort((a, b) => a - b);
  const x = {
    field: 'L',
    type: 'quantitative',
    title: 'sequence length L',
    scale: { type: 'log', base: 2, domain: [lengths[0]! / 1.2, lengths.at(-1)! * 1.2], nice: false },
    axis: { values: lengths, labelExpr: lengthLabel, grid: false },
  };
  const y = { field: 'ms', type: 'quantitative', title: 'time (median)', scale: { type: 'log' }, axis: { values: decades, labelExpr: timeLabel } };
  const kernels = [...new Set(records.map((r) => r.kernel))].filter((k) => !hasRole(k, 'opt'));
  // One colour encoding for every layer: a layer that said `legend: null` for the same scale made
  // vega-lite warn of a conflicting legend on every plot (the merged legend is the same).
  const color = {
    field: 'kernel',
    type: 'nominal',
    title: 'kernel',
    scale: { domain: kernels, range: kernels.map(kernelColor) },
    legend: { orient: 'bottom', labelLimit: 0 },
  };
  const dash = {
    field: 'family',
    type: 'nominal',
    title: 'line',
    scale: {
      domain: ['exact softmax', 'linear attention'],
      range: [
        [6, 4],
        [1, 0],
      ],
    },
    legend: null,
  };
  const shape = {
    field: 'marker',
    type: 'nominal',
    title: 'marker',
    scale: { domain: ['OPT (identity)', 'out of memory'], range: ['M-1,-1L1,1M-1,1L1,-1', 'triangle-down'] },
    legend: { orient: 'bottom', labelLimit: 0, symbolStrokeWidth: 2 },
  };
  const head = header(caption);
  return {
    ...head,
    title: {
      ...head.title,
      subtitle: [
        caption.machine,
        provenance(records, caption),
        `dashed: exact softmax · solid: linear attention${rows.some((r) => 'lo' in r) ? ' · bars: 95% interval across processes' : ''}`,
        `dotted: L*, where a linear kernel overtakes the best softmax${marks.some((m) => m.label.includes('(')) ? " (range: each round's own L*)" : ''}`,
      ],
    },
    data: {
      values: [
        ...rows,
        ...oom,
        ...marks,
        ...emptyCells(
          [...rows, ...oom, ...marks],
          'batch',
          batches.map((b) => `batch ${b}`),
          'pass',
          [...new Set(records.map((r) => panel(r).pass))],
          'kind',
        ),
      ],
    },
    facet: {
      column: { field: 'pass', type: 'nominal', title: null, sort: ['forward', 'forward + backward'] },
      ...(batches.length > 1 ? { row: { field: 'batch', type: 'nominal', title: null, sort: batches.map((b) => `batch ${b}`) } } : {}),
    },
    spec: {
      width: 300,
      height: 220,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'exact softmax' || datum.kind === 'linear attention'" }],
          mark: { type: 'line', point: { size: 25 } },
          encoding: { x, y, color, strokeDash: dash },
        },
        // The out-of-memory triangle takes the colour of the series that ran out; OPT's × is black.
        {
          transform: [{ filter: "datum.kind === 'OPT (identity)' || datum.kind === 'out of memory'" }],
          mark: { type: 'point', size: 90, filled: false, strokeWidth: 2 },
          encoding: { x, y, shape, stroke: { ...color, condition: { test: "datum.kind === 'OPT (identity)'", value: 'black' } } },
        },
        { transform: [{ filter: "datum.kind === 'crossover'" }], mark: { type: 'rule', strokeDash: [2, 3], opacity: 0.6 }, encoding: { x, color } },
        {
          transform: [{ filter: "datum.kind === 'crossover'" }],
          mark: { type: 'text', align: 'left', dx: 3, dy: -4, fontSize: 10, baseline: 'top' },
          encoding: { x, y: { field: 'labelY', type: 'quantitative', scale: null }, text: { field: 'label' }, color },
        },
        // The 95% interval across processes, where a point has several (last: the layers above keep their order).
        {
          transform: [{ filter: 'isValid(datum.lo)' }],
          mark: { type: 'rule', strokeWidth: 1.5 },
          encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

export function errorSpec(records: readonly ErrorRecord[], caption: Caption): Spec {
  const rows = records.map((r) => ({
    series: `${r.kernel} ${r.featureType}`,
    metric: r.metric,
    m: r.features,
    mean: r.mean,
    lo: Math.max(r.mean - r.std, r.min, Number.MIN_VALUE),
    hi: r.mean + r.std,
  }));
  const x = { field: 'm', type: 'quantitative', title: 'random features m' };
  return {
    ...header(caption),
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 340,
      height: 260,
      layer: [
        {
          mark: { type: 'errorband', opacity: 0.2 },
          encoding: {
            x,
            y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, axis: DECADE_AXIS, title: 'error (mean ± std over seeds)' },
            y2: { field: 'hi' },
            color: { field: 'series', type: 'nominal', title: 'kernel, projection' },
          },
        },
        {
          mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'mean', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'series', type: 'nominal' } },
        },
      ],
    },
  };
}

/**
 * Fig. 2: log10 r(φ, l) as a heat map on a diverging scale centred at r = 1 (red: positive
 * features win, r > 1; blue: trig wins), φ ticks at multiples of π/2, no grid over it; beside it
 * the slice l = 1 on a log axis with r = 1 marked.
 */
export function utilitySpec(rows: readonly { angle: number; norm: number; ratio: number }[], caption: Caption): Spec {
  const values = rows.filter((r) => Number.isFinite(r.ratio) && r.ratio > 0).map((r) => ({ ...r, log10r: Math.log10(r.ratio) }));
  const norms = [...new Set(values.map((r) => r.norm))];
  const one = norms.reduce((best, n) => (Math.abs(n - 1) < Math.abs(best - 1) ? n : best), norms[0] ?? 1);
  const piTicks = [-Math.PI, -Math.PI / 2, 0, Math.PI / 2, Math.PI];
  const piLabel = "datum.value < -3 ? '−π' : datum.value < -1 ? '−π/2' : datum.value < 1 && datum.value > -1 ? '0' : datum.value < 3 ? 'π/2' : 'π'";
  const angle = {
    field: 'angle',
    type: 'quantitative',
    title: 'angle φ between x and y',
    scale: { domain: [-Math.PI, Math.PI], nice: false },
    axis: { values: piTicks, labelExpr: piLabel, grid: false },
  };
  const extreme = Math.max(...values.map((r) => Math.abs(r.log10r)), 1);
  return {
    ...header(caption),
    data: { values },
    hconcat: [
      {
        title: 'log10 r(φ, l), r = MSE(trig) / MSE(pos)',
        width: 320,
        height: 260,
        mark: 'rect',
        encoding: {
          x: { ...angle, bin: { maxbins: 60 } },
          y: { field: 'norm', type: 'quantitative', bin: { maxbins: 40 }, title: 'l = ‖x‖ = ‖y‖', axis: { grid: false, values: [-2, -1, 0, 1, 2] } },
          color: {
            aggregate: 'mean',
            field: 'log10r',
            type: 'quantitative',
            title: ['log10 r', '(> 0: positive wins)'],
            scale: { scheme: 'redblue', reverse: true, domain: [-extreme, extreme], domainMid: 0 },
          },
        },
      },
      {
        title: `slice l = ${one.toFixed(2)}`,
        width: 320,
        height: 260,
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { datum: 1 } } },
          {
            mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#555' },
            encoding: { x: { datum: -Math.PI }, y: { datum: 1 }, text: { value: 'r = 1: equal MSE' } },
          },
          {
            transform: [{ filter: `datum.norm === ${one}` }],
            mark: 'line',
            encoding: { x: angle, y: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'r(φ, 1)' } },
          },
        ],
      },
    ],
  };
}

/**
 * Per-point distributions, as criterion shows them: a box over every timed sample of each point
 * (whiskers at 1.5 IQR, outliers as dots) and each process's median as a black tick, on a log time
 * axis; one row per kernel, one column per pass. Noise is visible at a glance.
 */
export function distributionSpec(records: readonly BenchRecord[], caption: Caption): Spec {
  const ok = records.filter((r) => r.status === 'ok');
  const samples = ok.flatMap((r) =>
    r.samplesMs.map((ms) => ({ kernel: r.kernel, pass: PASS_TITLES[r.pass] ?? r.pass, L: String(r.seqLen), ms, what: 'sample' })),
  );
  const medians = ok.flatMap((r) =>
    (r.processMediansMs ?? []).map((ms) => ({ kernel: r.kernel, pass: PASS_TITLES[r.pass] ?? r.pass, L: String(r.seqLen), ms, what: 'process median' })),
  );
  const lengths = [...new Set(ok.map((r) => r.seqLen))].sort((a, b) => a - b).map(String);
  const kernels = [...new Set(ok.map((r) => r.kernel))];
  const passes = [...new Set(ok.map((r) => PASS_TITLES[r.pass] ?? r.pass))];
  const x = { field: 'L', type: 'ordinal', title: 'sequence length L', sort: lengths };
  const y = { field: 'ms', type: 'quantitative', title: 'time per run', scale: { type: 'log' }, axis: { labelExpr: timeLabel } };
  const head = header({ ...caption, title: `${caption.title}: distributions` });
  return {
    ...head,
    title: {
      ...head.title,
      subtitle: [caption.machine, "box: every timed sample of a point (whiskers 1.5 IQR, dots beyond); black tick: one process's median"],
    },
    data: { values: [...samples, ...medians, ...emptyCells([...samples, ...medians], 'kernel', kernels, 'pass', passes, 'what')] },
    facet: {
      row: { field: 'kernel', type: 'nominal', title: null, sort: kernels },
      column: { field: 'pass', type: 'nominal', title: null, sort: ['forward', 'forward + backward'] },
    },
    spec: {
      width: 300,
      height: 140,
      layer: [
        {
          transform: [{ filter: "datum.what === 'sample'" }],
          mark: { type: 'boxplot', extent: 1.5, size: 14 },
          encoding: { x, y, color: { field: 'kernel', type: 'nominal', scale: { domain: kernels, range: kernels.map(kernelColor) }, legend: null } },
        },
        { transform: [{ filter: "datum.what === 'process median'" }], mark: { type: 'tick', color: 'black', thickness: 1.5, size: 12 }, encoding: { x, y } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}
