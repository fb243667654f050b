/** Comparing two results files: read, check they are comparable, and hand the records to the statistics. */
import { compareBench, compareErrors, type Comparison, type CompareOptions, environmentDiff } from '../bench/compare.ts';
import type { BenchRecord } from '../bench/types.ts';
import { usage } from '../errors.ts';
import type { ErrorLike } from '../results/keys.ts';
import { readResults } from '../results/read.ts';

export interface CompareRequest extends CompareOptions {
  readonly allowEnvChange: boolean;
}

/** Compares two results files; returns the comparisons and the exit code (1: a real regression). */
export function runCompare(basePath: string, curPath: string, o: CompareRequest): { rows: Comparison[]; code: number } {
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
