import { extname } from 'node:path';
import { Command } from 'commander';
import { usage } from '../errors.ts';
import { distributionPlotSpec, plotSpec } from '../report/plot.ts';
import { print } from '../report/terminal.ts';
import { checkOutputFile, writeAtomic } from '../results/files.ts';

export const plotCommand = new Command('plot')
  .description("render a results file in the paper's conventions (SVG or PNG; the Vega-Lite spec is written beside)")
  .argument('<data>', 'results.json / results.csv from bench or error, or theory utility output')
  .option('-o, --output <file>', 'out.svg or out.png (default: the data file with .svg)')
  .option('--distributions', 'bench results: a box per point over its timed samples, with each process median', false)
  .action(async (data: string, o: { output?: string; distributions: boolean }) => {
    const out = o.output ?? data.replace(/\.(json|csv)$/i, '') + '.svg';
    const format = extname(out).toLowerCase();
    if (format !== '.svg' && format !== '.png') throw usage('--output', `'${out}' must end in .svg or .png`);
    checkOutputFile(out);
    const spec = o.distributions ? distributionPlotSpec(data) : plotSpec(data);
    const { renderSvg, svgToPng } = await import('../report/render.ts');
    const svg = await renderSvg(spec);
    try {
      writeAtomic(out.replace(/\.(svg|png)$/i, '.vl.json'), `${JSON.stringify(spec, null, 2)}\n`);
      if (format === '.svg') writeAtomic(out, svg);
      else writeAtomic(out, svgToPng(svg));
    } catch (e) {
      throw usage('--output', `cannot write '${out}': ${(e as NodeJS.ErrnoException).code}`, 'a writable file path');
    }
    print(`wrote ${out}`);
  });
