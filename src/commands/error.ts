import { join } from 'node:path';
import { Command, Option } from 'commander';
import { parseShard, type Shard } from '../bench/shard.ts';
import { SCHEMA_VERSION } from '../bench/types.ts';
import { collectEnvironment } from '../environment.ts';
import { SOFTMAX_ESTIMATORS } from '../error/estimators.ts';
import { runLeakProbe } from '../error/leak.ts';
import { type ErrorOptions, type ErrorRecord, runErrorSweep, TARGETS, type Target } from '../error/sweep.ts';
import { usage } from '../errors.ts';
import { KERNEL_NAMES, KERNELS } from '../kernels/index.ts';
import { FEATURE_TYPES, type FeatureType } from '../kernels/projection.ts';
import { CAUSAL_IMPLS, type CausalImpl } from '../kernels/types.ts';
import { toCsv, toJson, toMarkdown } from '../report/formats.ts';
import { ensureDir, writeAtomic } from '../report/results.ts';
import { print, progress, progressDone, renderTable } from '../report/terminal.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/session.ts';
import { FORMATS, type Format } from './bench.ts';
import { listOf, oneOf, positiveInt, positiveNumber, sizeList } from './options.ts';

const LINEAR = Object.values(KERNELS).filter((k) => k.linear).map((k) => k.name);
export const DEFAULT_ERROR_FEATURES = '16,32,48,64,80,96,112,128,144,160,176,192';

export const ERROR_COLUMNS = ['kernel', 'featureType', 'features', 'target', 'metric', 'seqLen', 'dim', 'causal', 'causalImpl', 'inputScale', 'seeds', 'mean', 'std', 'min', 'max', 'theoryMse', 'nonPositiveDenominators'] as const satisfies readonly (keyof ErrorRecord)[];

const num = (x: number | null) => (x === null ? '–' : x.toExponential(3));

export function errorTable(records: readonly ErrorRecord[]): { head: string[]; rows: string[][] } {
  const head = ['kernel', 'features', 'm', 'metric', 'mean', 'std', 'min', 'max', 'theory MSE', 'D ≤ 0'];
  const rows = records.map((r) => [r.kernel, r.featureType, String(r.features), r.metric, num(r.mean), num(r.std), num(r.min), num(r.max), num(r.theoryMse), r.nonPositiveDenominators === null ? '–' : `${(100 * r.nonPositiveDenominators).toFixed(2)}%`]);
  return { head, rows };
}

interface ErrorCliOptions {
  kernels: string[];
  featureTypes: FeatureType[];
  features: number[];
  seqLen: number;
  dim: number;
  seeds: number;
  causal: boolean;
  causalImpl: CausalImpl;
  chunkSize: number;
  inputScale: number;
  target: Target;
  ep: ExecutionProvider;
  threads: number;
  leak: boolean;
  format: Format;
  out?: string;
  shard?: Shard;
}

export function errorOptions(o: ErrorCliOptions): ErrorOptions {
  const bad = o.kernels.find((k) => !LINEAR.includes(k));
  if (bad) throw usage('--kernels', `'${bad}' is not a feature kernel`, LINEAR.join(', '));
  if (o.target === 'kernel') {
    const notEstimator = o.kernels.find((k) => !(SOFTMAX_ESTIMATORS as readonly string[]).includes(k));
    if (notEstimator) throw usage('--target', `kernel needs softmax estimators, not '${notEstimator}'`, SOFTMAX_ESTIMATORS.join(', '));
  }
  if (o.target === 'matrix' && o.seqLen > 4096) throw usage('--seq-len', `--target matrix materialises L×L matrices; ${o.seqLen} is too long`, '≤ 4096');
  return {
    kernels: o.kernels, featureTypes: o.featureTypes, features: o.features, seqLen: o.seqLen, dim: o.dim, seeds: o.seeds, causal: o.causal,
    causalImpl: o.causalImpl, chunkSize: o.chunkSize, inputScale: o.inputScale, target: o.target, ep: o.ep, threads: o.threads,
    shard: o.shard ?? null,
  };
}

export const errorCommand = new Command('error')
  .description('approximation error of the feature kernels vs exact softmax attention (the paper\'s Fig. 4), with closed forms')
  .option('--kernels <list>', 'feature kernels', listOf('--kernels', KERNEL_NAMES), ['favor-pos', 'favor-trig'])
  .option('--feature-types <list>', 'projections', listOf('--feature-types', FEATURE_TYPES), ['iid', 'orthogonal'])
  .option('--features <list>', 'numbers of random features m', sizeList('--features'), sizeList('--features')(DEFAULT_ERROR_FEATURES))
  .option('--seq-len <L>', 'sequence length', positiveInt('--seq-len'), 4096)
  .option('--dim <d>', 'head dimension', positiveInt('--dim'), 16)
  .option('--seeds <n>', 'seeds (each draws inputs and projection)', positiveInt('--seeds'), 15)
  .option('--causal', 'causal attention', false)
  .addOption(new Option('--causal-impl <impl>', 'causal strategy').choices(CAUSAL_IMPLS).default('chunked').argParser(oneOf('--causal-impl', CAUSAL_IMPLS)))
  .option('--chunk-size <C>', 'chunk size of the chunked strategy', positiveInt('--chunk-size'), 128)
  .option('--input-scale <sigma>', 'Q, K ~ N(0, σ²) i.i.d. (V ~ N(0, 1))', positiveNumber('--input-scale'), 1)
  .addOption(new Option('--target <target>', 'output: MSE of attention outputs; matrix: attention rows; kernel: per-pair SM estimates with closed forms; grad: dQ, dK, dV').choices(TARGETS).default('output').argParser(oneOf('--target', TARGETS)))
  .addOption(new Option('--ep <provider>', 'execution provider').choices(EXECUTION_PROVIDERS).default('cpu').argParser(oneOf('--ep', EXECUTION_PROVIDERS)))
  .option('--threads <n>', 'intra-op threads (1: identical numbers run to run)', positiveInt('--threads'), 1)
  .option('--leak', 'causal leak probe instead of the sweep', false)
  .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table').argParser(oneOf('--format', FORMATS)))
  .option('--out <dir>', 'write results.json and results.csv there')
  .option('--shard <i/n>', 'run only shard i of n of the (kernel, feature type, m) cases', parseShard)
  .action(async (o: ErrorCliOptions) => {
    if (o.out) ensureDir(o.out);
    if (o.leak) {
      const recs = await runLeakProbe({ kernels: o.kernels.concat(['softmax', 'softmax-fused']), seqLen: Math.min(o.seqLen, 1024), dim: o.dim, features: Math.max(...o.features), chunkSize: o.chunkSize, seed: 0, ep: o.ep });
      if (o.format === 'json') return print(toJson({ schemaVersion: SCHEMA_VERSION, environment: collectEnvironment(), options: o, records: recs }));
      print(renderTable(['kernel', 'strategy', 'L', 'i', 'max |Δ out| at ≤ i', 'max |out|'], recs.map((r) => [r.kernel, r.causalImpl ?? '–', r.seqLen, r.position, r.maxChange.toExponential(2), r.maxOutput.toFixed(3)])));
      return;
    }
    const opts = errorOptions(o);
    const records = await runErrorSweep(opts, { onProgress: (d, t, w) => progress(`[${d + 1}/${t}] ${w}`) });
    progressDone();
    const doc = { schemaVersion: SCHEMA_VERSION, kind: 'error' as const, environment: collectEnvironment(), options: opts, records };
    if (o.out) {
      writeAtomic(join(o.out, 'results.json'), toJson(doc));
      writeAtomic(join(o.out, 'results.csv'), toCsv(records, ERROR_COLUMNS));
    }
    const t = errorTable(records);
    if (o.format === 'json') print(toJson(doc));
    else if (o.format === 'csv') print(toCsv(records, ERROR_COLUMNS));
    else if (o.format === 'markdown') print(toMarkdown(t.head, t.rows));
    else print(renderTable(t.head, t.rows));
  });

