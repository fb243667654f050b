/** Bench records → table rows, CSV columns, and the summary lines under the table. */
import { crossovers, exponents, pairedSpeedups, processInterval, type Crossover, type Exponent } from '../bench/summary.ts';
import type { BenchDocument, BenchRecord } from '../bench/types.ts';
import { toMarkdown } from './formats.ts';
import { benchTableLines, isNoisy, mode, ms, pct, times } from './bench-table.ts';
import { limitFooter, profileTable } from './limit.ts';
import { colorEnabled, formatBytes, paint, tableWidth } from './terminal.ts';

/** CSV columns: every record field but the raw samples and the profile (those are in JSON). */
export const BENCH_CSV_COLUMNS = [
  'kernel',
  'pass',
  'causal',
  'causalImpl',
  'chunkSize',
  'scope',
  'layers',
  'dFf',
  'vocab',
  'seqLen',
  'batch',
  'heads',
  'dim',
  'features',
  'featureType',
  'ep',
  'dtype',
  'seed',
  'threads',
  'status',
  'medianMs',
  'meanMs',
  'p10Ms',
  'p90Ms',
  'minMs',
  'rme',
  'runs',
  'processes',
  'processRme',
  'firstRunMs',
  'peakMemoryBytes',
  'estimatedMemoryBytes',
  'flops',
  'gflopsPerSec',
  'rooflineFraction',
  'limitMs',
  'limitFraction',
  'speedupVsSoftmax',
  'timeVsIdentity',
  'error',
] as const satisfies readonly (keyof BenchRecord)[];

export const TABLE_HEAD = [
  'kernel',
  'pass',
  'mode',
  'B',
  'L',
  'median ms',
  '95% CI ms',
  '±rme',
  'p10–p90 ms',
  'peak mem',
  'est. mem',
  'GFLOP/s',
  'limit',
  '×softmax',
  '×OPT',
];

export { isNoisy, mode } from './bench-table.ts';

/** A row; `paired`: the speed-up over softmax paired by round, [geometric mean, 95% lo, hi] (Markdown and HTML). */
export function tableRow(r: BenchRecord, color = true, paired?: [number, number, number]): string[] {
  const p = color ? paint : { red: String, yellow: String, green: String, dim: String };
  const base = [r.kernel, r.pass, mode(r), String(r.batch), String(r.seqLen)];
  if (r.status !== 'ok') {
    const tag = r.status === 'error' ? p.red('error') : r.status === 'invalid' ? p.red('invalid') : r.status === 'oom' ? p.yellow('oom') : p.dim('skipped');
    return [...base, tag, '', '', '', '', formatBytes(r.estimatedMemoryBytes || null), '', '', '', ''];
  }
  const speed = r.speedupVsSoftmax;
  const f = (x: number) => x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2);
  const speedText = speed === null ? '–' : `${times(speed)}${paired ? ` (${f(paired[0])}, ${f(paired[1])}–${f(paired[2])})` : ''}`;
  const speedCell = speed !== null && speed >= 1 ? p.green(speedText) : speedText;
  return [
    ...base,
    ms(r.medianMs),
    ci(r),
    `${pct(r.rme)}${isNoisy(r) ? p.yellow(' !') : ''}`,
    `${ms(r.p10Ms)}–${ms(r.p90Ms)}`,
    formatBytes(r.peakMemoryBytes),
    formatBytes(r.estimatedMemoryBytes),
    r.gflopsPerSec === null ? '–' : r.gflopsPerSec.toFixed(1),
    pct(r.limitFraction ?? null),
    speedCell,
    times(r.timeVsIdentity),
  ];
}

/** A point's 95% interval across processes, `lo–hi` ms, or – with one process. */
function ci(r: BenchRecord): string {
  const i = processInterval(r);
  return i ? `${ms(i[0])}–${ms(i[1])}` : '–';
}

/** A crossover in words, with its range over rounds where the file has several processes per point. */
export function crossoverText(c: Crossover): string {
  const main =
    c.bound === 'exact'
      ? `L* ≈ ${Math.round(c.seqLen!)}`
      : c.bound === 'below'
        ? `faster at every L measured (from L = ${c.seqLen})`
        : c.bound === 'above'
          ? c.fasterShorter
            ? `slower at the longest L measured (L = ${c.seqLen}), though faster at some shorter L`
            : `slower at every L measured (up to L = ${c.seqLen})`
          : 'no softmax baseline measured';
  const r = c.rounds;
  if (!r) return main;
  if (r.lo === null && r.hi === null && !r.undetermined) return `${main}; the same in each of the ${r.n} rounds`;
  if (r.undetermined) return `${main}; undetermined: the ${r.n} rounds' own crossovers span the grid (below it in one, above it in another)`;
  const lo = r.lo === null ? 'below the grid' : String(Math.round(r.lo));
  const hi = r.hi === null ? 'above the grid' : String(Math.round(r.hi));
  return `${main}; over ${r.n} rounds: ${lo === hi ? lo : `${lo} to ${hi}`}`;
}

export function summaryLines(cross: readonly Crossover[], exps: readonly Exponent[]): string[] {
  const lines: string[] = [];
  const batches = new Set(cross.map((c) => c.batch)).size > 1;
  const tag = (x: { kernel: string; pass: string; causal: boolean; batch?: number }) =>
    `${x.kernel} ${x.pass}${x.causal ? ' causal' : ''}${batches && x.batch !== undefined ? ` B=${x.batch}` : ''}`;
  for (const c of cross) lines.push(`crossover vs best softmax: ${tag(c)}: ${crossoverText(c)}`);
  for (const e of exps) lines.push(`scaling: ${tag(e)}: time ∝ L^${e.k.toFixed(2)} (${e.points} lengths)`);
  return lines;
}

export function errorLines(records: readonly BenchRecord[]): string[] {
  return records
    .filter((r) => r.status === 'error' || r.status === 'invalid')
    .map((r) => `${r.status}: ${r.kernel} ${r.pass} ${mode(r)} L=${r.seqLen}: ${r.error}`);
}

/** `--profile`: the per-node table (files of older versions have only the time per op type). */
export function profileLines(records: readonly BenchRecord[], top = 5): string[] {
  return records
    .filter((r) => r.profile || r.nodeProfile?.length)
    .flatMap((r) => {
      if (r.nodeProfile?.length) return profileTable(r);
      const ops = Object.entries(r.profile!)
        .slice(0, top)
        .map(([op, t]) => `${op} ${t.toFixed(2)} ms`)
        .join(', ');
      return [`profile: ${r.kernel} ${r.pass} ${mode(r)} L=${r.seqLen}: ${ops}`];
    });
}

/** The bench table for people: rows, then crossovers, scaling, profiles, errors, the limit model's rates and the roofline. */
export function benchTable(doc: BenchDocument): string {
  const rf = doc.roofline;
  const lines = [
    ...benchTableLines(doc.records, { width: tableWidth(), color: colorEnabled() }),
    ...summaryLines(doc.summary.crossovers, doc.summary.exponents),
    ...profileLines(doc.records),
    ...errorLines(doc.records),
  ];
  const limit = limitFooter(doc);
  if (limit) lines.push(limit);
  if (rf)
    lines.push(
      `roofline: ${rf.matmulGflops.toFixed(1)} GFLOP/s float32 matmul (n = ${rf.matmulSize}), ${rf.bandwidthGBps.toFixed(1)} GB/s elementwise, ${rf.ep}${rf.threads ? `, ${rf.threads} threads` : ''}`,
    );
  return lines.join('\n');
}

const MARKDOWN_NOTE =
  'median: of the process medians; 95% CI: t-interval of the mean log process median across processes (n − 1 degrees of freedom; – with one process); ±rme: 95% margin within a process; ! marks a margin above 10%, within or across processes. ×softmax: the median of the fastest softmax over this one; in brackets, with several processes, the speed-up paired by round (the r-th processes of both ran in the same round): its geometric mean over rounds and 95% interval (paired t on the log ratios), which can differ from the ratio of the medians. Crossovers are interpolated on log-log axes; with several processes per point, each round (one process per point) gives its own crossover, and their range is shown.';

/** Markdown: the table, its legend, then crossovers (with their range over rounds) and scaling, recomputed from the records. */
export function benchMarkdown(doc: BenchDocument): string {
  const { head, rows } = benchMarkdownRows(doc.records);
  const table = toMarkdown(head, rows);
  const lines = summaryLines(crossovers(doc.records), exponents(doc.records));
  const procs = [...new Set(doc.records.filter((r) => r.status === 'ok').map((r) => r.processes ?? 1))];
  return `${table.trimEnd()}\n\nProcesses per point: ${procs.join(', ') || '–'}. ${MARKDOWN_NOTE}\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`;
}

/** The full-column rows (Markdown and HTML reports), without colour. */
export function benchMarkdownRows(records: readonly BenchRecord[]) {
  const paired = pairedSpeedups(records);
  return { head: TABLE_HEAD, rows: records.map((r) => tableRow(r, false, paired.get(r))) };
}
