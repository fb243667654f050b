import { Command, Option } from 'commander';
import { print, printJson } from '../report/terminal.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtime/providers.ts';
import { oneOf, positiveInt } from './options.ts';

export const rooflineCommand = new Command('roofline')
  .description("this machine's float32 matmul rate and memory bandwidth through ONNX Runtime (cached)")
  .addOption(new Option('--ep <provider>', 'execution provider').choices(EXECUTION_PROVIDERS).default('cpu', 'cpu').argParser(oneOf('--ep', EXECUTION_PROVIDERS)))
  .option('--threads <n>', 'intra-op threads', positiveInt('--threads'))
  .option('--refresh', 'measure again instead of using the cache', false)
  .option('--json', 'machine-readable output', false)
  .action(async (o: { ep: ExecutionProvider; threads?: number; refresh: boolean; json: boolean }) => {
    const { getRoofline } = await import('../bench/roofline.ts');
    const r = await getRoofline(o.ep, o.threads ?? null, o.refresh);
    if (o.json) return printJson(r);
    print(`matmul: ${r.matmulGflops.toFixed(1)} GFLOP/s (float32, ${r.matmulSize}×${r.matmulSize}, best of 7)`);
    print(`elementwise bandwidth: ${r.bandwidthGBps.toFixed(1)} GB/s (float32 Add, 3 × 4 bytes per element)`);
    print(`provider ${r.ep}${r.threads ? `, ${r.threads} threads` : ''}; measured ${r.measuredAt}`);
  });
