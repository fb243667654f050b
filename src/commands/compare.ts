import { Command } from 'commander';
import type { CompareRequest } from '../ci/compare.ts';
import { usage } from '../errors.ts';
import { compareTable } from '../report/compare.ts';
import { printJson, show } from '../report/terminal.ts';
import { positiveNumber, withDefault } from './options.ts';

interface CompareCliOptions extends CompareRequest {
  json: boolean;
}

const percent = (v: string) => positiveNumber('--threshold')(v.replace(/%$/, '')) / 100;

export const compareCommand = new Command('compare')
  .description('regression check between two results files: exit 1 only on a real, significant slowdown (or error growth); exit 2 on invalid numbers')
  .argument('<baseline>', 'baseline results.json')
  .argument('<current>', 'current results.json')
  .addOption(withDefault('--threshold <pct>', 'smallest slowdown that counts', percent, '10%'))
  .option(
    '--metric <m>',
    'per-process figure tested: median, mean or min',
    (v: string) => {
      if (!['median', 'mean', 'min'].includes(v)) throw usage('--metric', `'${v}' is not supported`, 'median, mean, min');
      return v;
    },
    'median',
  )
  .option(
    '--alpha <a>',
    'family-wise significance level (Holm over the points)',
    (v: string) => {
      const a = Number(v);
      if (!(a > 0 && a < 1)) throw usage('--alpha', `'${v}' is not in (0, 1)`);
      return a;
    },
    0.05,
  )
  .option('--allow-env-change', 'compare even when provider, ONNX Runtime version, CPU or threads differ', false)
  .option('--json', 'machine-readable output', false)
  .action(async (basePath: string, curPath: string, o: CompareCliOptions) => {
    const { runCompare } = await import('../ci/compare.ts');
    const out = runCompare(basePath, curPath, o);
    const verdict = out.code === 2 ? 'invalid' : out.code === 1 ? 'regression' : out.rows.some((r) => r.verdict === 'inconclusive') ? 'inconclusive' : 'ok';
    if (o.json) printJson({ verdict, paired: out.paired, comparisons: out.rows });
    else show(compareTable(out, o));
    process.exitCode = out.code;
  });
