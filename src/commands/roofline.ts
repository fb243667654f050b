import { Command, Option } from 'commander';
import type { BenchPoint } from '../bench/types.ts';
import { usage } from '../errors.ts';
import { PASSES, type Pass } from '../kernels/build.ts';
import { KERNEL_NAMES } from '../kernels/index.ts';
import { cachedLines, graphLimitLines } from '../report/limit.ts';
import { printJson, progress, progressDone, show } from '../report/terminal.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/providers.ts';
import { addKernelOptions, addShapeOptions, checkTensorSize, kernelConfig, oneOf, positiveInt, type KernelOptionValues } from './options.ts';
import { examples } from './help.ts';

interface RooflineOptions extends KernelOptionValues {
  ep: ExecutionProvider;
  threads?: number;
  refresh: boolean;
  json: boolean;
  kernel?: string;
  seqLen: number;
  pass: Pass;
  batch: number;
  heads: number;
  dim: number;
}

/** Flags that describe a graph: meaningless without --kernel. */
const GRAPH_FLAGS = ['seqLen', 'pass', 'batch', 'heads', 'dim', 'causal', 'causalImpl', 'chunkSize', 'features', 'featureType', 'seed'];

export const rooflineCommand = addKernelOptions(
  addShapeOptions(
    new Command('roofline')
      .description("this machine's limits through ONNX Runtime: float32 MatMul rates per product shape and the elementwise bandwidth (best seen, cached)")
      .addOption(
        new Option('--ep <provider>', 'execution provider').choices(EXECUTION_PROVIDERS).default('cpu', 'cpu').argParser(oneOf('--ep', EXECUTION_PROVIDERS)),
      )
      .option('--threads <n>', 'intra-op threads', positiveInt('--threads'))
      .addOption(
        new Option('--kernel <name>', "a kernel's graph: measure and show the limit of its products and elementwise work").argParser(
          oneOf('--kernel', KERNEL_NAMES),
        ),
      )
      .option('--seq-len <L>', 'sequence length (with --kernel)', positiveInt('--seq-len'), 4096)
      .addOption(
        new Option('--pass <pass>', 'forward graph, or forward+backward (with --kernel)')
          .choices(PASSES)
          .default('forward', 'forward')
          .argParser(oneOf('--pass', PASSES)),
      ),
  ),
)
  .option('--refresh', 'measure again (the cache still keeps the best rate): the roofline, or with --kernel its products', false)
  .option('--json', 'machine-readable output', false)
  .addHelpText(
    'after',
    examples([
      ['performer roofline', 'the roofline and every cached product rate'],
      ['performer roofline --kernel favor-pos --seq-len 4096 --heads 8 --pass backward', "the bound of each node of favor-pos's gradient graph"],
    ]),
  )
  .action(async (o: RooflineOptions, cmd: Command) => {
    const threads = o.threads ?? null;
    if (!o.kernel) {
      const given = GRAPH_FLAGS.find((f) => cmd.getOptionValueSource(f) === 'cli');
      if (given)
        throw usage('--kernel', `is needed with --${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} (the graph to price)`, KERNEL_NAMES.join(', '));
      const { getRoofline } = await import('../limit/roofline.ts');
      const { cachedLimits } = await import('../limit/rates.ts');
      const roofline = await getRoofline(o.ep, threads, o.refresh);
      const limits = cachedLimits(o.ep, threads); // null only when the cache cannot be written
      return o.json ? printJson({ ...roofline, limits }) : show(cachedLines(roofline, limits).join('\n'));
    }
    const { graphLimit } = await import('../limit/price.ts');
    const point = graphPoint(o, o.kernel);
    const onMeasure = (what: string, i: number, n: number) => progress(`measuring ${what} [${i + 1}/${n}]`);
    const r = await graphLimit(point, { ep: o.ep, threads, refresh: o.refresh, onMeasure }).finally(progressDone);
    if (o.json) return printJson({ point, limitMs: r.limitMs, nodes: r.bounds, limits: r.limits });
    const title = `${o.kernel} ${o.pass}${o.causal ? ' causal' : ''}, B=${o.batch} H=${o.heads} L=${o.seqLen} d=${o.dim}`;
    show(graphLimitLines(title, r.bounds, r.limits).join('\n'));
  });

/** The bench point whose graph --kernel and the shape flags describe. */
function graphPoint(o: RooflineOptions, kernel: string): BenchPoint {
  checkTensorSize(o);
  const k = kernelConfig(o);
  return {
    kernel,
    pass: o.pass,
    causal: k.causal,
    causalImpl: k.causalImpl,
    chunkSize: k.chunkSize,
    scope: 'attention',
    seqLen: o.seqLen,
    batch: o.batch,
    heads: o.heads,
    dim: o.dim,
    features: k.features,
    featureType: k.featureType,
    ep: o.ep,
    dtype: 'float32',
    seed: k.seed,
    threads: o.threads ?? null,
    layers: null,
    dFf: null,
    vocab: null,
  };
}
