import { Command } from 'commander';
import { collectEnvironment, type Environment } from '../environment.ts';
import { formatBytes, paint, print, printJson } from '../report/terminal.ts';
import { EXECUTION_PROVIDERS, Session, type ExecutionProvider } from '../runtime/session.ts';
import { GraphBuilder } from '../onnx/builder.ts';
import { serializeModel } from '../onnx/serialize.ts';

export interface InfoReport {
  environment: Environment;
  providers: { name: ExecutionProvider; loadable: boolean; error?: string }[];
}

/** Tries a one-node session on each provider we support: "bundled" is not "loadable". */
export async function runInfo(): Promise<InfoReport> {
  const b = new GraphBuilder('probe');
  const x = b.input('x', [1]);
  const model = serializeModel(b.build([b.named(b.exp(x), 'y')]));
  const providers: InfoReport['providers'] = [];
  for (const name of EXECUTION_PROVIDERS) {
    try {
      const s = await Session.create(model, { ep: name });
      await s.release();
      providers.push({ name, loadable: true });
    } catch (e) {
      providers.push({ name, loadable: false, error: (e as Error).message });
    }
  }
  return { environment: collectEnvironment(), providers };
}

export const infoCommand = new Command('info')
  .description('ONNX Runtime version, providers, CPU, cores, memory and Node version')
  .option('--json', 'machine-readable output', false)
  .action(async (opts: { json: boolean }) => {
    const report = await runInfo();
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
    for (const [k, v] of rows) print(`${paint.bold(k.padEnd(17))} ${v}`);
  });
