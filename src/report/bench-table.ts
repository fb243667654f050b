/**
 * The bench table for people: one header line with the options that are the same for every row,
 * then only the columns that vary and the figures, with units in the headers, no row separators,
 * a narrow status-mark column explained under the table, and columns dropped (least important
 * first) until the table fits the terminal (100 columns when not a terminal).
 */
import { type BenchRecord, isModelScope } from '../bench/types.ts';
import { hasRole } from '../kernels/index.ts';
import { paint, renderTable, visibleWidth } from './terminal.ts';

/** Milliseconds, percentages and ratios as both bench tables print them. */
export const ms = (x: number | null) => (x === null ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
export const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`);
export const times = (x: number | null) => (x === null ? '–' : `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`);
const mib = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : (x / 2 ** 20).toPrecision(3));

/** Status marks, one character each, and the legend line that explains the ones a table shows. */
const MARKS: Record<string, { mark: string; why: string }> = {
  noisy: { mark: '!', why: 'noisy: 95% margin of error above 10%, within or across processes; use --repeat N, --interleave or a quieter machine' },
  oom: { mark: 'M', why: 'out of memory (estimate over --memory-budget, or killed)' },
  skipped: { mark: '-', why: 'skipped: a shorter L of this series ran out of memory, or the combination cannot run' },
  error: { mark: 'E', why: 'error: the measurement process failed (message under the table)' },
  invalid: { mark: '?', why: 'invalid: a timing was NaN or infinite' },
};

const NOISE_RME = 0.1;
export const isNoisy = (r: BenchRecord): boolean => r.status === 'ok' && ((r.rme ?? 0) > NOISE_RME || (r.processRme ?? 0) > NOISE_RME);
const statusOf = (r: BenchRecord) => (r.status === 'ok' ? (isNoisy(r) ? 'noisy' : null) : r.status);

/** A whole model's size (model scope), or the training step's (train scope); '' for attention alone. */
function scopeOf(r: BenchRecord): string {
  if (!isModelScope(r.scope)) return '';
  const model = `${r.layers} layer${r.layers === 1 ? '' : 's'}, d_model ${r.dim}, d_ff ${r.dFf}, vocab ${r.vocab}`;
  return r.scope === 'train' ? `training step (${model}; AdamW on the host)` : `encoder (${model})`;
}

export function mode(r: BenchRecord): string {
  if (!r.causal) return 'bidir';
  return hasRole(r.kernel, 'linear') ? `causal/${r.causalImpl}` : 'causal';
}

interface Column {
  readonly head: string;
  readonly cell: (r: BenchRecord) => string;
  /** Dropped first when the table is too wide (higher drops earlier); 0 never. */
  readonly drop: number;
}

/** Fields that may vary between rows; constant ones go to the header line. */
const KEYS: { key: string; head: string; value: (r: BenchRecord) => string; header: (v: string) => string }[] = [
  { key: 'kernel', head: 'kernel', value: (r) => r.kernel, header: (v) => v },
  { key: 'scope', head: 'scope', value: scopeOf, header: (v) => v },
  { key: 'pass', head: 'pass', value: (r) => r.pass, header: (v) => v },
  { key: 'mode', head: 'mode', value: mode, header: (v) => (v === 'bidir' ? 'bidirectional' : v) },
  { key: 'batch', head: 'B', value: (r) => String(r.batch), header: (v) => `B=${v}` },
  { key: 'heads', head: 'H', value: (r) => String(r.heads), header: (v) => `H=${v}` },
  { key: 'dim', head: 'd', value: (r) => (isModelScope(r.scope) ? '' : String(r.dim)), header: (v) => `d=${v}` },
  { key: 'features', head: 'm', value: (r) => (hasRole(r.kernel, 'linear') ? `${r.features} ${r.featureType}` : ''), header: (v) => (v ? `m=${v}` : '') },
  { key: 'dtype', head: 'dtype', value: (r) => r.dtype, header: (v) => v },
  { key: 'ep', head: 'ep', value: (r) => r.ep, header: (v) => v },
  { key: 'processes', head: 'procs', value: (r) => String(r.processes ?? 1), header: (v) => `${v} process${v === '1' ? '' : 'es'} per point` },
];

export interface TableOptions {
  /** Columns available: the terminal's width, or 100. */
  readonly width: number;
  readonly color: boolean;
}

/** The header line, the table and the legend of the status marks used. */
export function benchTableLines(records: readonly BenchRecord[], o: TableOptions): string[] {
  const p = o.color ? paint : { red: String, yellow: String, green: String, dim: String, bold: String };
  // A field varies when its applicable (non-empty) values differ: m means nothing for softmax.
  const values = (k: (typeof KEYS)[number]) => [...new Set(records.map(k.value).filter(Boolean))];
  const varying = KEYS.filter((k) => values(k).length > 1);
  const constant = KEYS.filter((k) => !varying.includes(k) && k.key !== 'kernel');
  const header = constant
    .map((k) => values(k)[0])
    .map((v, i) => (v === undefined ? '' : constant[i]!.header(v)))
    .filter(Boolean)
    .join(' · ');
  const columns: Column[] = [
    ...varying.map((k) => ({ head: k.head, cell: k.value, drop: 0 })),
    ...(varying.some((k) => k.key === 'kernel') ? [] : [{ head: 'kernel', cell: (r: BenchRecord) => r.kernel, drop: 0 }]),
    { head: 'L', cell: (r) => String(r.seqLen), drop: 0 },
    { head: 'median ms', cell: (r) => (r.status === 'ok' ? ms(r.medianMs) : r.status), drop: 0 },
    { head: '±rme', cell: (r) => (r.status === 'ok' ? pct(r.processRme ?? r.rme) : ''), drop: 4 },
    { head: 'p10–p90 ms', cell: (r) => (r.status === 'ok' ? `${ms(r.p10Ms)}–${ms(r.p90Ms)}` : ''), drop: 8 },
    { head: 'peak MiB', cell: (r) => mib(r.peakMemoryBytes), drop: 5 },
    { head: 'est. MiB', cell: (r) => mib(r.estimatedMemoryBytes || null), drop: 9 },
    { head: 'GFLOP/s', cell: (r) => (r.gflopsPerSec === null ? '–' : r.gflopsPerSec.toPrecision(3)), drop: 6 },
    // The limit model's fraction (rooflineFraction stays in CSV and JSON: a FLOP-rate figure, not a bound).
    { head: '% limit', cell: (r) => (r.status === 'ok' ? pct(r.limitFraction ?? null) : ''), drop: 3.5 },
    {
      head: '× softmax',
      cell: (r) => (r.speedupVsSoftmax !== null && r.speedupVsSoftmax >= 1 ? p.green(times(r.speedupVsSoftmax)) : times(r.speedupVsSoftmax)),
      drop: 2,
    },
    { head: '× OPT', cell: (r) => times(r.timeVsIdentity), drop: 3 },
    {
      head: '',
      cell: (r) => {
        const s = statusOf(r);
        return s ? (s === 'noisy' ? p.yellow(MARKS[s]!.mark) : p.red(MARKS[s]!.mark)) : '';
      },
      drop: 1,
    },
  ];
  let shown = columns;
  let table = render(shown, records);
  for (const drop of [...new Set(columns.map((c) => c.drop))].filter((d) => d > 0).sort((a, b) => b - a)) {
    if (visibleWidth(table.split('\n')[0]!) <= o.width) break;
    shown = shown.filter((c) => c.drop !== drop);
    table = render(shown, records);
  }
  const used = [...new Set(records.map(statusOf))].filter((s) => s !== null);
  const hidden = columns.filter((c) => !shown.includes(c) && c.head).map((c) => c.head);
  return [
    ...(header ? [p.bold(header)] : []),
    table,
    ...used.map((s) => `${MARKS[s]!.mark} ${MARKS[s]!.why}`),
    ...(hidden.length ? [`(${hidden.join(', ')} left out to fit ${o.width} columns; --format csv or json has every field)`] : []),
  ];
}

function render(columns: readonly Column[], records: readonly BenchRecord[]): string {
  return renderTable(
    columns.map((c) => c.head),
    records.map((r) => columns.map((c) => c.cell(r))),
  );
}
