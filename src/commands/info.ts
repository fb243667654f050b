import { Command } from 'commander';
import { formatBytes, paint, printJson, show } from '../report/terminal.ts';

export const infoCommand = new Command('info')
  .description('ONNX Runtime version, providers, CPU, cores, memory and Node version')
  .option('--json', 'machine-readable output', false)
  .action(async (opts: { json: boolean }) => {
    const { collectEnvironment } = await import('../environment.ts');
    const { probeProviders } = await import('../runtime/info.ts');
    const report = { environment: collectEnvironment(), providers: await probeProviders() };
    if (opts.json) return printJson(report);
    const e = report.environment;
    const rows: [string, string | number][] = [
      ['performer', `${e.performerVersion}${e.gitCommit ? ` (${e.gitCommit.slice(0, 10)})` : ''}`],
      ['ONNX Runtime', e.onnxruntimeVersion],
      ['bundled backends', e.backends.map((b) => `${b.name}${b.bundled ? '' : ' (not installed)'}`).join(', ')],
      ...report.providers.map((p): [string, string] => [`provider ${p.name}`, p.loadable ? 'loadable' : `not loadable: ${p.error}`]),
      ['CPU', e.cpuModel],
      ['cores', e.cores],
      ['memory', formatBytes(e.memoryBytes)],
      ['Node', e.nodeVersion],
      ['OS', e.os],
    ];
    for (const [k, v] of rows) show(`${paint.bold(k.padEnd(17))} ${v}`);
  });
