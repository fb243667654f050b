import { Command } from 'commander';
import { kernelSummaries } from '../kernels/index.ts';
import { FEATURE_TYPE_NOTES } from '../kernels/projection.ts';
import { print, printJson, renderTable, show } from '../report/terminal.ts';

export const kernelsCommand = new Command('kernels')
  .description('list the attention kernels with their passes and modes')
  .option('--verbose', 'also print each exact formula, ε and input scaling', false)
  .option('--json', 'machine-readable output', false)
  .action((opts: { verbose: boolean; json: boolean }) => {
    const list = kernelSummaries();
    if (opts.json) return printJson(list);
    print(
      renderTable(
        ['kernel', 'description', 'passes', 'modes'],
        list.map((k) => [k.name, k.description, k.passes.join(', '), k.modes.join(', ')]),
      ),
    );
    if (!opts.verbose) return;
    for (const k of list) show(`\n${k.name}: ${k.formula}`);
    print('\nprojections (--feature-type):');
    for (const [type, note] of Object.entries(FEATURE_TYPE_NOTES)) show(`  ${type}: ${note}`);
  });
