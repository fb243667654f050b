/** Comparing two results files: read, check they are comparable, and hand the records to the statistics. */
import { compareBench, compareErrors, type Comparison, type CompareOptions, environmentDiff } from './verdicts.ts';
import type { BenchRecord } from '../bench/types.ts';
import { usage } from '../errors.ts';
import { hasRole } from '../kernels/index.ts';
import type { ErrorLike } from '../results/keys.ts';
import { errorKey, pointKey } from '../results/keys.ts';
import { readResults } from '../results/read.ts';

export interface CompareRequest extends Omit<CompareOptions, 'paired'> {
  readonly allowEnvChange: boolean;
}

/** A comparison with the point named for people (kernel, pass, mode, sizes). */
export interface LabelledComparison extends Comparison {
  readonly label: string;
}

export interface CompareOutcome {
  readonly kind: 'bench' | 'error';
  readonly paired: boolean;
  readonly rows: LabelledComparison[];
  /** 2: invalid numbers in a file; 1: a real regression; 0: none. */
  readonly code: number;
}

const benchLabel = (r: BenchRecord) => {
  const mode = !r.causal ? '' : hasRole(r.kernel, 'linear') ? ` causal/${r.causalImpl}` : ' causal';
  const sizes = [r.batch !== 1 ? `B=${r.batch}` : '', r.heads !== 1 ? `H=${r.heads}` : '', `d=${r.dim}`].filter(Boolean).join(' ');
  return `${r.kernel} ${r.pass}${mode} L=${r.seqLen} ${sizes}${r.scope === 'model' ? ' (model)' : r.scope === 'train' ? ' (train step)' : ''}`;
};

const errorLabel = (r: ErrorLike) =>
  `${r.kernel} ${r.featureType} m=${r.features} ${r.metric}${r.causal ? ' causal' : ''} L=${r.seqLen} d=${r.dim} σ=${r.inputScale}`;

/** Compares two results files; returns labelled comparisons and the exit code. */
export function runCompare(basePath: string, curPath: string, o: CompareRequest): CompareOutcome {
  const base = readResults(basePath, '<baseline>');
  const cur = readResults(curPath, '<current>');
  if (base.kind !== cur.kind) throw usage('<current>', `kind ${cur.kind} cannot be compared with ${base.kind}`);
  // Two files from one relative run (`bench --against`) pair their processes round by round.
  const run = base.options.relativeRun;
  const paired = typeof run === 'string' && run === cur.options.relativeRun && base.options.relativeRole !== cur.options.relativeRole;
  const diffs = paired ? [] : environmentDiff(base.environment, cur.environment, base.options, cur.options);
  if (diffs.length && !o.allowEnvChange) throw usage('--allow-env-change', `the environments differ (${diffs.join('; ')}); timings are not comparable`);
  const out = compareRecords(base.kind, base.records, cur.records, { threshold: o.threshold, alpha: o.alpha, metric: o.metric, paired });
  if (!out.rows.length) throw usage('<current>', 'no point is in both files (with status ok)');
  return out;
}

/** Verdicts over two record lists of one kind, labelled, with the exit code (2 invalid, 1 slower, else 0). */
export function compareRecords(kind: 'bench' | 'error', base: readonly unknown[], cur: readonly unknown[], opts: CompareOptions): CompareOutcome {
  let rows: LabelledComparison[];
  if (kind === 'bench') {
    const labels = new Map((cur as BenchRecord[]).map((r) => [pointKey(r), benchLabel(r)]));
    rows = compareBench(base as BenchRecord[], cur as BenchRecord[], opts).map((c) => ({ ...c, label: labels.get(c.key) ?? c.key }));
  } else {
    const labels = new Map((cur as ErrorLike[]).map((r) => [errorKey(r), errorLabel(r)]));
    rows = compareErrors(base as ErrorLike[], cur as ErrorLike[], opts).map((c) => ({ ...c, label: labels.get(c.key) ?? c.key }));
  }
  const code = rows.some((r) => r.verdict === 'invalid') ? 2 : rows.some((r) => r.verdict === 'slower') ? 1 : 0;
  return { kind, paired: Boolean(opts.paired), rows, code };
}
