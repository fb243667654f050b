import { Command } from 'commander';
import { usage } from '../errors.ts';
import { toJson } from '../report/formats.ts';
import { print } from '../report/terminal.ts';
import { checkOutputFile, writeAtomic } from '../results/files.ts';

export const mergeCommand = new Command('merge')
  .description('join the shards of one sweep (bench or error results) into one results file')
  .argument('<files...>', 'results.json files, one per shard')
  .requiredOption('-o, --output <file>', 'where to write the merged results.json')
  .action(async (paths: string[], o: { output: string }) => {
    checkOutputFile(o.output);
    const { mergeResults } = await import('../ci/merge.ts');
    const { readResults } = await import('../results/read.ts');
    const merged = mergeResults(
      paths.map((p, i) => readResults(p, `<files> #${i + 1} (${p})`)),
      paths,
    );
    try {
      writeAtomic(o.output, toJson(merged));
    } catch (e) {
      throw usage('--output', `cannot write '${o.output}': ${(e as NodeJS.ErrnoException).code}`, 'a writable file path');
    }
    print(`merged ${paths.length} files, ${merged.records.length} records → ${o.output}`);
  });
