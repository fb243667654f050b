/** Error-sweep and leak-probe records → table rows and CSV columns. */
import type { LeakRecord } from '../error/leak.ts';
import type { ErrorRecord } from '../error/sweep.ts';
import { renderTable } from './terminal.ts';

export const ERROR_COLUMNS = ['kernel', 'featureType', 'features', 'target', 'metric', 'seqLen', 'dim', 'causal', 'causalImpl', 'chunkSize', 'inputScale', 'seeds', 'ep', 'status', 'mean', 'std', 'min', 'max', 'theoryMse', 'theoryRelMse', 'theoryBound', 'bias', 'nonPositiveDenominators'] as const satisfies readonly (keyof ErrorRecord)[];

const num = (x: number | null) => (x === null ? '–' : Number.isFinite(x) ? x.toExponential(3) : String(x));

/** Head and rows of the error table (terminal and Markdown). */
export function errorTable(records: readonly ErrorRecord[]): { head: string[]; rows: string[][] } {
  const head = ['kernel', 'features', 'm', 'σ', 'metric', 'mean', 'std', 'min', 'max', 'theory MSE', 'Thm 2 bound', 'bias', 'D ≤ 0'];
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);
  const rows = records.map((r) => [r.kernel, r.featureType, String(r.features), String(r.inputScale), r.metric, num(r.mean), num(r.std), num(r.min), num(r.max), num(r.theoryMse), num(r.theoryBound ?? null), pct(r.bias), pct(r.nonPositiveDenominators)]);
  return { head, rows };
}

export const LEAK_COLUMNS = ['kernel', 'causalImpl', 'seqLen', 'position', 'maxChange', 'maxOutput'] as const satisfies readonly (keyof LeakRecord)[];

/** The causal leak probe's table. */
export function leakTable(records: readonly LeakRecord[]): string {
  return renderTable(['kernel', 'strategy', 'L', 'i', 'max |Δ out| at ≤ i', 'max |out|'], records.map((r) => [r.kernel, r.causalImpl ?? '–', r.seqLen, r.position, r.maxChange.toExponential(2), r.maxOutput.toFixed(3)]));
}
