import { Command, Option } from 'commander';
import { usage } from '../errors.ts';
import { makeDocument } from '../results/version.ts';
import { ESTIMATOR_NAMES, findKernel, getKernel } from '../kernels/index.ts';
import { geometryFromNorms, utilityGrid } from '../reference/closed-forms.ts';
import { toCsv, toJson } from '../report/formats.ts';
import { writeAtomic } from '../results/files.ts';
import { print, renderTable } from '../report/terminal.ts';
import { oneOf, positiveInt } from './options.ts';

const finite =
  (flag: string) =>
  (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw usage(flag, `'${raw}' is not a number`);
    return n;
  };
const nonNegative =
  (flag: string) =>
  (raw: string): number => {
    const n = finite(flag)(raw);
    if (n < 0) throw usage(flag, `'${raw}' is negative`, 'a number ≥ 0');
    return n;
  };

const utility = new Command('utility')
  .description('r(φ, l) = MSE(trig)/MSE(pos) over φ ∈ [−π, π], l ∈ [−2, 2] (Fig. 2)')
  .option('--angle-steps <n>', 'grid points along φ', positiveInt('--angle-steps'), 181)
  .option('--norm-steps <n>', 'grid points along l', positiveInt('--norm-steps'), 81)
  .addOption(
    new Option('--format <format>', 'csv or json')
      .choices(['csv', 'json'])
      .default('csv', 'csv')
      .argParser(oneOf('--format', ['csv', 'json'] as const)),
  )
  .option('-o, --output <file>', 'write to a file instead of stdout')
  .action(async (o: { angleSteps: number; normSteps: number; format: 'csv' | 'json'; output?: string }) => {
    const { collectEnvironment } = await import('../environment.ts');
    if (o.angleSteps < 2 || o.normSteps < 2) throw usage('--angle-steps/--norm-steps', 'need at least 2 points', '≥ 2');
    const grid = utilityGrid(o.angleSteps, o.normSteps);
    const text =
      o.format === 'json'
        ? toJson(makeDocument('utility', { environment: collectEnvironment(), options: o, records: grid }))
        : toCsv(grid, ['angle', 'norm', 'ratio']);
    if (!o.output) return print(text.trimEnd());
    try {
      writeAtomic(o.output, text);
    } catch (e) {
      throw usage('--output', `cannot write '${o.output}': ${(e as NodeJS.ErrnoException).code}`, 'a writable file path');
    }
  });

const mse = new Command('mse')
  .description('closed-form MSE of each estimator of SM(x, y) for one pair (docs/formulas.md §5)')
  .requiredOption('--x-norm <a>', '‖x‖', nonNegative('--x-norm'))
  .requiredOption('--y-norm <b>', '‖y‖', nonNegative('--y-norm'))
  .requiredOption('--angle <phi>', 'angle between x and y, radians', finite('--angle'))
  .requiredOption('--features <m>', 'random features m', positiveInt('--features'))
  .option('--dim <d>', 'dimension d (orthogonal rows; the Theorem 2 bound needs m ≤ d)', positiveInt('--dim'))
  .addOption(
    new Option('--feature-type <type>', 'iid rows (Lemma 2), or orthogonal blocks with χ_d norms (exact value by series, beside the Theorem 2 bound)')
      .choices(['iid', 'orthogonal'])
      .default('iid', 'iid')
      .argParser(oneOf('--feature-type', ['iid', 'orthogonal'] as const)),
  )
  .option('--json', 'machine-readable output', false)
  .action((o: { xNorm: number; yNorm: number; angle: number; features: number; dim?: number; featureType: 'iid' | 'orthogonal'; json: boolean }) => {
    const g = geometryFromNorms(o.xNorm, o.yNorm, o.angle);
    if (o.featureType === 'orthogonal' && o.dim === undefined) throw usage('--dim', 'orthogonal rows need the dimension d', 'e.g. --dim 16');
    const estimators = ESTIMATOR_NAMES.map((name) => getKernel(name).estimator!);
    const bound = estimators.find((e) => e.orthogonalBound)?.orthogonalBound;
    const mse = (e: (typeof estimators)[number]) => {
      const v = o.featureType === 'iid' ? e.mse(g, o.features, o.dim) : e.orthogonalMse?.(g, o.features, o.dim!);
      return v === undefined || Number.isNaN(v) ? null : v;
    };
    const label = (name: string, v: number | null) =>
      `${name}${o.featureType === 'orthogonal' ? ' (orthogonal, exact)' : getKernel(name).estimator!.fit && v !== null ? ' (A fitted to this pair)' : ''}`;
    const rows: Record<string, number | null> = {
      'SM(x,y)': Math.exp(g.xy),
      ...Object.fromEntries(ESTIMATOR_NAMES.map((name, i) => [label(name, mse(estimators[i]!)), mse(estimators[i]!)])),
      'orthogonal bound (Theorem 2, favor-pos)': bound && o.dim !== undefined && o.features <= o.dim ? bound(g, o.features, o.dim) : null,
    };
    if (o.json) return print(JSON.stringify(rows, null, 2));
    const missing = (k: string) => {
      if (k.startsWith('orthogonal bound')) return '– (needs --dim ≥ m)';
      const est = findKernel(k.split(' ')[0]!)?.estimator;
      if (est?.fit && o.featureType === 'iid') return o.dim === undefined ? '– (needs --dim)' : '– (Ψ depends on coordinates: performer error)';
      return '– (no closed form)';
    };
    print(
      renderTable(
        ['', 'value'],
        Object.entries(rows).map(([k, v]) => [k, v === null ? missing(k) : v.toExponential(4)]),
      ),
    );
  });

export const theoryCommand = new Command('theory').description("the paper's closed-form errors").addCommand(utility).addCommand(mse);
