import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { usage } from '../errors.ts';
import { print } from '../report/terminal.ts';
import { checkOutputFile, writeAtomic } from '../results/files.ts';

/** A results file, or the results.json / data.json inside a results directory. */
function resultsPath(p: string): string {
  if (!existsSync(p)) throw usage('<results>', `'${p}' does not exist`, 'results.json files or directories holding one');
  if (!statSync(p).isDirectory()) return p;
  const found = ['results.json', 'data.json'].map((f) => join(p, f)).find(existsSync);
  if (!found) throw usage('<results>', `'${p}' holds no results.json or data.json`);
  return found;
}

export const reportCommand = new Command('report')
  .description('one self-contained HTML page (inline SVG figures, tables, environment, noise warnings, verdicts against a baseline)')
  .argument('<results...>', 'results.json files, or directories holding results.json or data.json')
  .requiredOption('-o, --output <file>', 'where to write the .html page')
  .option('--baseline-file <file>', 'a baseline results.json: the compare verdicts of each bench file against it')
  .action(async (paths: string[], o: { output: string; baselineFile?: string }) => {
    checkOutputFile(o.output);
    const files = paths.map(resultsPath);
    const { readResults } = await import('../results/read.ts');
    const kinds = files.map((f, i) => readResults(f, `<results> #${i + 1}`).kind);
    const baseKind = o.baselineFile ? readResults(o.baselineFile, '--baseline-file').kind : null;
    // A baseline of another kind would give no verdicts at all, in silence.
    const other = baseKind ? kinds.findIndex((k) => k !== baseKind) : -1;
    if (other >= 0)
      throw usage(
        '--baseline-file',
        `'${o.baselineFile}' holds ${baseKind} results, but '${files[other]}' holds ${kinds[other]} results`,
        `a ${kinds[other]} results.json to compare against`,
      );
    const { runCompare } = await import('../ci/compare.ts');
    // Verdicts against the baseline for the files of its kind (bench against bench, error against error).
    const { graphStatus } = await import('../report/status.ts');
    const { readFileSync } = await import('node:fs');
    const graphs: { status: string; detail: string }[] = [];
    for (const [i, f] of files.entries()) graphs.push(await graphStatus(kinds[i]!, JSON.parse(readFileSync(f, 'utf8'))));
    const sections = files.map((path, i) => ({
      path,
      graphs: graphs[i],
      verdicts:
        o.baselineFile && kinds[i] === baseKind
          ? runCompare(o.baselineFile, path, { threshold: 0.1, alpha: 0.05, metric: 'median', allowEnvChange: true })
          : undefined,
    }));
    const { reportHtml } = await import('../report/html.ts');
    const html = await reportHtml(sections);
    try {
      writeAtomic(o.output, html);
    } catch (e) {
      throw usage('--output', `cannot write '${o.output}': ${(e as NodeJS.ErrnoException).code}`, 'a writable file path');
    }
    print(`wrote ${o.output} (${files.length} results file${files.length > 1 ? 's' : ''})`);
  });
