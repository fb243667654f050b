import { Command, Option } from 'commander';
import { parseShard, type Shard } from '../bench/shard.ts';
import { DEFAULT_CHUNK_SIZE, DEFAULT_ERROR_DIM, DEFAULT_ERROR_SEQ_LEN } from '../defaults.ts';
import type { ErrorRequest } from '../error/run.ts';
import { ESTIMATOR_PATHS, type EstimatorPath, EXACT_TARGETS, HOST_ESTIMATORS, isHostEstimator, TARGETS, type Target } from '../error/targets.ts';
import { usage } from '../errors.ts';
import { DEFAULT_KERNELS, ESTIMATOR_NAMES, KERNEL_NAMES, kernelsWithRole } from '../kernels/index.ts';
import { FEATURE_TYPES, type FeatureType } from '../kernels/projection.ts';
import { CAUSAL_IMPLS, type CausalImpl } from '../kernels/types.ts';
import type { ErrorDocument } from '../error/sweep.ts';
import { inputStatsTable, pairedErrorTable } from '../report/error.ts';
import { FORMATS, type Format, formatResults, writeResultsFiles } from '../report/output.ts';
import { note, print, progress, progressDone, show } from '../report/terminal.ts';
import { ensureDir, lockDir, refuseOtherKind } from '../results/files.ts';
import { makeDocument } from '../results/version.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/providers.ts';
import { listOf, numberList, oneOf, positiveInt, sizeList, withDefault } from './options.ts';

const LINEAR = kernelsWithRole('linear');
export const DEFAULT_ERROR_FEATURES = '16,32,48,64,80,96,112,128,144,160,176,192';

interface ErrorCliOptions {
  kernels: string[];
  featureType: FeatureType[];
  features: number[];
  seqLen: number;
  dim: number;
  seeds: number;
  causal: boolean;
  causalImpl: CausalImpl;
  chunkSize: number;
  inputScale: number[];
  target: Target;
  estimator: EstimatorPath[];
  ep: ExecutionProvider;
  threads: number;
  leak: boolean;
  format: Format;
  out?: string;
  shard?: Shard;
  baseline?: string;
  inputs?: string;
}

/** Flags that describe drawn inputs or paths --inputs does not take: given with it, they would be ignored in silence. */
const DRAWN_ONLY = ['seqLen', 'inputScale', 'shard', 'leak'] as const;

/** With --inputs: the flags it cannot honour, refused by name. */
function checkInputsFlags(o: ErrorCliOptions, cmd: Command): void {
  const given = DRAWN_ONLY.find((k) => cmd.getOptionValueSource(k) === 'cli');
  if (given) {
    const flag = `--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw usage(
      flag,
      "does not apply to --inputs (L, d and the scale are the inputs' own)",
      'with --inputs: --kernels, --feature-type, --features, --seeds, --dim (a check), --causal, --target output|kernel, --estimator, --baseline, --format, --out',
    );
  }
  if (o.target !== 'output' && o.target !== 'kernel') throw usage('--target', `${o.target} is not measured on given inputs yet`, 'output, kernel');
  if (o.target === 'kernel' && o.estimator.includes('exact')) {
    throw usage(
      '--estimator',
      'exact does not apply to --target kernel, which is evaluated in float64 already',
      'with --inputs --target kernel: graph (the default)',
    );
  }
}

export function errorOptions(o: ErrorCliOptions): ErrorRequest {
  const host = o.kernels.find(isHostEstimator);
  if (host) throw usage('--kernels', `${host} is evaluated on the host for given inputs only`, `${host} with --inputs; here: ${LINEAR.join(', ')}`);
  const bad = o.kernels.find((k) => !LINEAR.includes(k));
  if (bad) throw usage('--kernels', `'${bad}' is not a feature kernel`, LINEAR.join(', '));
  if (o.target === 'kernel') {
    const notEstimator = o.kernels.find((k) => !ESTIMATOR_NAMES.includes(k));
    if (notEstimator) throw usage('--target', `kernel needs softmax estimators, not '${notEstimator}'`, ESTIMATOR_NAMES.join(', '));
  }
  if (o.estimator.includes('exact')) {
    if (!EXACT_TARGETS.includes(o.target))
      throw usage(
        '--estimator',
        `exact evaluates --target ${EXACT_TARGETS.join('/')}, not ${o.target}${o.target === 'kernel' ? ' (already float64 without ε)' : ''}`,
        'graph',
      );
    // With --inputs and graph,exact, a kernel that is not a softmax estimator (favor-relu) runs on the graph only.
    const noReference = o.inputs !== undefined && o.estimator.includes('graph') ? undefined : o.kernels.find((k) => !ESTIMATOR_NAMES.includes(k));
    if (noReference) throw usage('--estimator', `exact needs softmax estimators, not '${noReference}'`, ESTIMATOR_NAMES.join(', '));
  }
  if (o.baseline !== undefined && !o.kernels.includes(o.baseline)) throw usage('--baseline', `'${o.baseline}' is not among --kernels`, o.kernels.join(', '));
  if (o.target === 'matrix' && o.seqLen > 4096) throw usage('--seq-len', `--target matrix materialises L×L matrices; ${o.seqLen} is too long`, '≤ 4096');
  return {
    kernels: o.kernels,
    featureTypes: o.featureType,
    features: o.features,
    seqLen: o.seqLen,
    dim: o.dim,
    seeds: o.seeds,
    causal: o.causal,
    causalImpl: o.causalImpl,
    chunkSize: o.chunkSize,
    inputScales: o.inputScale,
    target: o.target,
    estimators: o.estimator,
    ep: o.ep,
    threads: o.threads,
    shard: o.shard ?? null,
  };
}

/** Sweep flags the leak probe does not use: given with --leak, they would be ignored in silence. */
const SWEEP_ONLY = ['target', 'featureType', 'seeds', 'inputScale', 'threads', 'shard', 'baseline'] as const;

function checkLeakFlags(cmd: Command): void {
  const given = SWEEP_ONLY.find((k) => cmd.getOptionValueSource(k) === 'cli');
  if (given) {
    const flag = `--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw usage(
      flag,
      'is ignored by --leak (the leak probe has no such setting)',
      'with --leak: --kernels, --seq-len, --dim, --features, --chunk-size, --ep, --format, --out',
    );
  }
}

export const errorCommand = new Command('error')
  .description("approximation error of the feature kernels vs exact softmax attention (the paper's Fig. 4), with closed forms")
  .addOption(withDefault('--kernels <list>', 'feature kernels', listOf('--kernels', [...KERNEL_NAMES, ...HOST_ESTIMATORS]), DEFAULT_KERNELS.error.join(',')))
  .addOption(withDefault('--feature-type <list>', 'projection matrices to sweep', listOf('--feature-type', FEATURE_TYPES), 'iid,orthogonal'))
  .addOption(withDefault('--features <list>', 'numbers of random features m', sizeList('--features'), DEFAULT_ERROR_FEATURES))
  .option('--seq-len <L>', 'sequence length', positiveInt('--seq-len'), DEFAULT_ERROR_SEQ_LEN)
  .option('--dim <d>', 'head dimension', positiveInt('--dim'), DEFAULT_ERROR_DIM)
  .option('--seeds <n>', 'seeds (each draws inputs and projection)', positiveInt('--seeds'), 15)
  .option('--causal', 'causal attention', false)
  .addOption(
    new Option('--causal-impl <impl>', 'causal strategy').choices(CAUSAL_IMPLS).default('chunked', 'chunked').argParser(oneOf('--causal-impl', CAUSAL_IMPLS)),
  )
  .option('--chunk-size <C>', 'chunk size of the chunked strategy', positiveInt('--chunk-size'), DEFAULT_CHUNK_SIZE)
  .addOption(withDefault('--input-scale <list>', 'Q, K ~ N(0, σ²) i.i.d. (V ~ N(0, 1)); a comma list sweeps σ', numberList('--input-scale'), '1'))
  .addOption(
    new Option(
      '--target <target>',
      'output: MSE of attention outputs; matrix: attention rows; kernel: per-pair SM estimates with closed forms; grad: dQ, dK, dV',
    )
      .choices(TARGETS)
      .default('output', 'output')
      .argParser(oneOf('--target', TARGETS)),
  )
  .addOption(
    withDefault(
      '--estimator <list>',
      'graph: the ONNX graph bench times (float32, ε = 1e-6 after the stabiliser shifts); exact: the same estimator (projection, A/Ψ fits) in float64 without ε; graph,exact: both, on paired seeds',
      listOf('--estimator', ESTIMATOR_PATHS),
      'graph',
    ),
  )
  .addOption(
    new Option('--ep <provider>', 'execution provider').choices(EXECUTION_PROVIDERS).default('cpu', 'cpu').argParser(oneOf('--ep', EXECUTION_PROVIDERS)),
  )
  .option('--threads <n>', 'intra-op threads (1: identical numbers run to run)', positiveInt('--threads'), 1)
  .option('--leak', 'causal leak probe instead of the sweep (with --out: results.json of kind leak, and results.csv)', false)
  .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table', 'table').argParser(oneOf('--format', FORMATS)))
  .option('--out <dir>', 'write results.json and results.csv there')
  .option('--shard <i/n>', 'run only shard i of n of the (kernel, feature type, m) cases', parseShard)
  .option('--baseline <kernel>', "also compare every case with this kernel's on paired seeds (ratio, 95% CI, paired p)")
  .option(
    '--inputs <file|dir>',
    "given q, k, v instead of Gaussian draws: an .npz (performer capture, numpy.savez), a directory of .npy, or a performer train --out directory (captured here: two test batches, seed 0); arrays q, k[, v, mask] or l<n>.q, l<n>.k[, l<n>.v], [B, H, L, d] raw projections: the tool applies d^(-1/4) itself. Seeds then draw only the projections; results per layer and head, with each head's input statistics (docs/error-inputs.md)",
  )
  .action(async (o: ErrorCliOptions, cmd: Command) => {
    if (o.inputs !== undefined) return errorOnInputs(o, cmd, o.inputs);
    // Every flag is checked before --out is created, so a refused command leaves nothing behind.
    const opts = o.leak ? (checkLeakFlags(cmd), null) : errorOptions(o);
    if (o.out) {
      refuseOtherKind(o.out, o.leak ? 'leak' : 'error');
      ensureDir(o.out);
      lockDir(o.out);
    }
    const { collectEnvironment } = await import('../environment.ts');
    if (!opts) {
      const { runLeakProbe } = await import('../error/leak.ts');
      const baselines = kernelsWithRole('exact', 'fused');
      const environment = collectEnvironment();
      const recs = await runLeakProbe({
        kernels: o.kernels.concat(baselines),
        seqLen: Math.min(o.seqLen, 1024),
        dim: o.dim,
        features: Math.max(...o.features),
        chunkSize: o.chunkSize,
        seed: 0,
        ep: o.ep,
      });
      const doc = makeDocument('leak', { environment, options: o, records: recs });
      if (o.out) writeResultsFiles(o.out, doc);
      return (o.format === 'table' ? show : print)(formatResults(doc, o.format));
    }
    const { runErrorRequest } = await import('../error/run.ts');
    const doc = await runErrorRequest(opts, { onProgress: (d, t, w) => progress(`[${d + 1}/${t}] ${w}`) }).finally(progressDone);
    if (o.out) writeResultsFiles(o.out, doc);
    (o.format === 'table' ? show : print)(formatResults(doc, o.format));
    if (o.baseline && o.format === 'table') show(pairedErrorTable(doc.records, o.baseline));
  });

/** `error --inputs`: the sweep on given q, k, v, grouped by layer and head (src/error/given.ts). */
async function errorOnInputs(o: ErrorCliOptions, cmd: Command, path: string): Promise<void> {
  checkInputsFlags(o, cmd);
  const host = o.kernels.filter(isHostEstimator);
  if (host.length && o.causal)
    throw usage('--kernels', `${host.join(', ')} (host-side FAVOR#) are bidirectional only here`, 'leave out --causal, or the graph kernels');
  if (o.baseline !== undefined && isHostEstimator(o.baseline) && !host.includes(o.baseline))
    throw usage('--baseline', `'${o.baseline}' is not among --kernels`, o.kernels.join(', '));
  const req = errorOptions({
    ...o,
    kernels: o.kernels.filter((k) => !isHostEstimator(k)),
    ...(o.baseline !== undefined && isHostEstimator(o.baseline) ? { baseline: undefined } : {}),
  });
  const { CAPTURE_DEFAULTS, groupInputs, isTrainRun, loadInputs } = await import('../error/inputs.ts');
  const dim = cmd.getOptionValueSource('dim') === 'cli' ? o.dim : undefined;
  // Read and checked before --out is created, so refused inputs leave nothing behind.
  let inputs;
  if (isTrainRun(path)) {
    // A train run's directory: its attention inputs captured here, as `performer capture` would.
    const { runCapture } = await import('../train/capture.ts');
    const cap = await runCapture({ from: path, ...CAPTURE_DEFAULTS });
    inputs = groupInputs(new Map([...cap.arrays].map(([n, a]) => [n, { ...a, notes: [] }])), path, cap.meta as unknown as Record<string, unknown>, dim);
    note(`${path}: captured ${cap.meta.examples} ${cap.meta.split} examples of ${cap.meta.label} seed ${cap.meta.seed} (step ${cap.meta.step})`);
  } else inputs = loadInputs(path, dim);
  if (o.out) {
    refuseOtherKind(o.out, 'error');
    ensureDir(o.out);
    lockDir(o.out);
  }
  for (const n of inputs.notes) note(`${path}: ${n}`);
  const g0 = inputs.groups[0]!;
  if (inputs.sidecar?.causal === true && !o.causal) note(`${path}: the captured model's attention is causal; add --causal to measure it so`);
  const { runGivenSweep } = await import('../error/given.ts');
  const { collectEnvironment } = await import('../environment.ts');
  const environment = collectEnvironment();
  const { inputScales: _, ...rest } = req;
  const { records, heads } = await runGivenSweep(
    { ...rest, seqLen: g0.seqLen, dim: g0.dim, inputScale: 0, estimator: 'graph' },
    inputs,
    { onProgress: (d, t, w) => progress(`[${d + 1}/${t}] ${w}`) },
    host,
    o.estimator,
  ).finally(progressDone);
  const doc: ErrorDocument = makeDocument('error', {
    environment,
    options: { ...req, kernels: o.kernels, inputs: path },
    records,
    inputs: { path, sidecar: inputs.sidecar, notes: inputs.notes, heads },
  });
  if (o.out) writeResultsFiles(o.out, doc);
  if (o.format === 'table') show(inputStatsTable(heads, false));
  if (o.format === 'markdown') print(inputStatsTable(heads, true));
  (o.format === 'table' ? show : print)(formatResults(doc, o.format));
  if (o.baseline && o.format === 'table') show(pairedErrorTable(doc.records, o.baseline));
}
