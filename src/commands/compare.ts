import { Command } from 'commander';
import type { Comparison } from '../bench/compare.ts';
import { usage } from '../errors.ts';
import { print, printJson, renderTable, paint } from '../report/terminal.ts';
import { type CompareRequest, runCompare } from '../ci/compare.ts';
import { positiveNumber } from './options.ts';

const pct = (x: number) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;

interface CompareCliOptions extends CompareRequest {
  json: boolean;
}

export const compareCommand = new Command('compare')
  .description('regression check between two results files: fails only on a real, significant slowdown (or error growth)')
  .argument('<baseline>', 'baseline results.json')
  .argument('<current>', 'current results.json')
  .option('--threshold <pct>', 'smallest slowdown that counts, e.g. 5%', (v: string) => positiveNumber('--threshold')(v.replace(/%$/, '')) / 100, 0.05)
  .option('--metric <m>', 'median, mean or min', (v: string) => {
    if (!['median', 'mean', 'min'].includes(v)) throw usage('--metric', `'${v}' is not supported`, 'median, mean, min');
    return v;
  }, 'median')
  .option('--alpha <a>', 'significance level of the Mann–Whitney U test', (v: string) => {
    const a = Number(v);
    if (!(a > 0 && a < 1)) throw usage('--alpha', `'${v}' is not in (0, 1)`);
    return a;
  }, 0.05)
  .option('--allow-env-change', 'compare even when provider, ONNX Runtime version, CPU or threads differ', false)
  .option('--json', 'machine-readable output', false)
  .action((basePath: string, curPath: string, o: CompareCliOptions) => {
    const { rows, code } = runCompare(basePath, curPath, o);
    if (o.json) printJson({ verdict: code ? 'regression' : 'ok', comparisons: rows });
    else {
      const tag = (v: Comparison['verdict']) => (v === 'slower' ? paint.red(v) : v === 'faster' ? paint.green(v) : v);
      print(renderTable(['point', 'baseline', 'current', 'change', 'p (slower)', 'verdict'], rows.map((r) => [r.key, r.baseline.toPrecision(4), r.current.toPrecision(4), pct(r.ratio), r.p === null ? '–' : r.p.toExponential(1), tag(r.verdict)])));
      const slower = rows.filter((r) => r.verdict === 'slower').length;
      print(slower ? `${slower} of ${rows.length} points regressed beyond ${(o.threshold * 100).toFixed(1)}% (α = ${o.alpha})` : `no regression beyond ${(o.threshold * 100).toFixed(1)}% in ${rows.length} points`);
    }
    process.exitCode = code;
  });
