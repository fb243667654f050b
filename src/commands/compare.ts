import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { compareBench, compareErrors, type Comparison, environmentDiff, type ErrorLike } from '../bench/compare.ts';
import { type BenchRecord, SCHEMA_VERSION } from '../bench/types.ts';
import { usage } from '../errors.ts';
import { print, printJson, renderTable, paint } from '../report/terminal.ts';
import { positiveNumber } from './options.ts';

export interface ResultsFile {
  schemaVersion: number;
  kind: 'bench' | 'error';
  environment: Record<string, unknown>;
  options: Record<string, unknown>;
  records: unknown[];
}

/** Reads and validates a results file; anything unusable is a usage error naming the argument. */
export function readResults(path: string, arg: string): ResultsFile {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? 'not valid JSON';
    throw usage(arg, `cannot read '${path}': ${why}`, 'a results.json written by performer');
  }
  const d = doc as Partial<ResultsFile> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.records) || typeof d.environment !== 'object' || typeof d.options !== 'object') {
    throw usage(arg, `'${path}' is not a performer results file (needs schemaVersion, environment, options, records)`);
  }
  if (d.schemaVersion !== SCHEMA_VERSION) throw usage(arg, `'${path}' has schemaVersion ${String(d.schemaVersion)}`, String(SCHEMA_VERSION));
  if (d.kind !== 'bench' && d.kind !== 'error') throw usage(arg, `'${path}' has kind ${String(d.kind)}`, 'bench, error');
  return d as ResultsFile;
}

const pct = (x: number) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;

interface CompareCliOptions {
  threshold: number;
  metric: 'median' | 'mean' | 'min';
  alpha: number;
  allowEnvChange: boolean;
  json: boolean;
}

/** Compares two results files; returns the comparisons and the exit code (1: a real regression). */
export function runCompare(basePath: string, curPath: string, o: CompareCliOptions): { rows: Comparison[]; code: number } {
  const base = readResults(basePath, '<baseline>');
  const cur = readResults(curPath, '<current>');
  if (base.kind !== cur.kind) throw usage('<current>', `kind ${cur.kind} cannot be compared with ${base.kind}`);
  const diffs = environmentDiff(base.environment, cur.environment, base.options, cur.options);
  if (diffs.length && !o.allowEnvChange) throw usage('--allow-env-change', `the environments differ (${diffs.join('; ')}); timings are not comparable`);
  const opts = { threshold: o.threshold, alpha: o.alpha, metric: o.metric };
  const rows = base.kind === 'bench'
    ? compareBench(base.records as BenchRecord[], cur.records as BenchRecord[], opts)
    : compareErrors(base.records as ErrorLike[], cur.records as ErrorLike[], opts);
  if (!rows.length) throw usage('<current>', 'no point is in both files (with status ok)');
  return { rows, code: rows.some((r) => r.verdict === 'slower') ? 1 : 0 };
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
