/** Compare verdicts for people: one row per point, then a one-line summary (and what to do when inconclusive). */
import type { CompareOutcome } from '../ci/compare.ts';
import { paint, renderTable } from './terminal.ts';

const pct = (x: number) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;
const num = (x: number | null) => (x === null ? '–' : x.toPrecision(4));

const VERDICT_COLOR = { slower: paint.red, faster: paint.green, invalid: paint.magenta, inconclusive: paint.yellow, unchanged: (s: string) => s } as const;

export function compareTable(out: CompareOutcome, o: { threshold: number; alpha: number }): string {
  const unit = out.kind === 'bench' ? ' ms' : '';
  const head = ['point', `baseline${unit}`, `current${unit}`, 'change (CI)', 'p slower', 'detectable', 'n', 'verdict'];
  const rows = out.rows.map((r) => [
    r.label,
    num(r.baseline),
    num(r.current),
    r.ratio === null ? '–' : `${pct(r.ratio)}${r.lo !== null && r.hi !== null ? ` (${pct(r.lo)} … ${pct(r.hi)})` : ''}`,
    r.p === null ? '–' : r.p < 1e-3 ? r.p.toExponential(1) : r.p.toFixed(3),
    r.detectable === null ? '–' : `≥ ${pct(r.detectable)}`,
    `${r.n[0]}/${r.n[1]}`,
    VERDICT_COLOR[r.verdict](r.verdict === 'inconclusive' && r.needed !== null ? `inconclusive (need ≥ ${r.needed})` : r.verdict),
  ]);
  const count = (v: string) => out.rows.filter((r) => r.verdict === v).length;
  const need = Math.max(0, ...out.rows.map((r) => r.needed ?? 0));
  const t = `${(o.threshold * 100).toFixed(0)}%`;
  const lines = [
    renderTable(head, rows),
    `${out.rows.length} points${out.paired ? ' (paired by round: one relative run)' : ''}: ${count('slower')} slower and ${count('faster')} faster beyond ${t}, ${count('unchanged')} unchanged, ${count('inconclusive')} inconclusive, ${count('invalid')} invalid (α = ${o.alpha}, Holm over the points).`,
  ];
  if (count('inconclusive'))
    lines.push(`inconclusive: these runs cannot detect a ${t} slowdown; measure with --repeat ${need} (processes per point) or on a quieter machine.`);
  if (count('invalid')) lines.push('invalid: a file holds NaN or infinite numbers for these points; they are not results (exit 2).');
  return lines.join('\n');
}
