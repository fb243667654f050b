/**
 * The entry point: one commander program, one command per file, and the only place that turns
 * errors into messages and exit codes (usage: 2, failures: 1).
 */
import { Command, CommanderError } from 'commander';
import { benchCommand } from './commands/bench.ts';
import { compareCommand } from './commands/compare.ts';
import { completionCommand } from './commands/completion.ts';
import { errorCommand } from './commands/error.ts';
import { exportCommand } from './commands/export.ts';
import { infoCommand } from './commands/info.ts';
import { kernelsCommand } from './commands/kernels.ts';
import { mergeCommand } from './commands/merge.ts';
import { plotCommand } from './commands/plot.ts';
import { reportCommand } from './commands/report.ts';
import { reproduceCommand } from './commands/reproduce.ts';
import { rooflineCommand } from './commands/roofline.ts';
import { theoryCommand } from './commands/theory.ts';
import { trainCommand } from './commands/train.ts';
import { captureCommand } from './commands/capture.ts';
import { onnxruntimeVersion, projectVersion } from './version.ts';
import { oneLine, usage, UsageError } from './errors.ts';
import { canonicalArgs } from './commands/vocabulary.ts';
import { configureHelp } from './commands/help.ts';
import { fitText } from './report/terminal.ts';
import type { ExecutionProvider } from './runtime/providers.ts';

export function buildProgram(): Command {
  const program = new Command('performer')
    .description('Benchmark and study Performer attention (FAVOR+) against exact softmax attention on ONNX Runtime')
    .version(`${projectVersion()} (ONNX Runtime ${onnxruntimeVersion()})`)
    .showSuggestionAfterError();
  for (const cmd of [
    benchCommand,
    errorCommand,
    trainCommand,
    captureCommand,
    theoryCommand,
    reproduceCommand,
    plotCommand,
    reportCommand,
    compareCommand,
    mergeCommand,
    rooflineCommand,
    infoCommand,
    kernelsCommand,
    exportCommand,
    completionCommand,
  ])
    program.addCommand(cmd);
  // Commander's own parse errors become usage errors (exit 2), printed once by us.
  const quiet = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {}, writeOut: (text) => process.stdout.write(fitText(text)) });
    cmd.commands.forEach(quiet);
  };
  quiet(program);
  configureHelp(program);
  // Every command with --ep refuses a provider that cannot start here the same way, before any
  // work: one usage line (the probe keeps ONNX Runtime's native warnings off the terminal).
  program.hook('preAction', async (_program, action) => {
    const ep = action.opts().ep as ExecutionProvider | undefined;
    if (ep === undefined || ep === 'cpu') return;
    const { providerProblem } = await import('./runtime/info.ts');
    const problem = await providerProblem(ep);
    if (problem) throw usage('--ep', problem, 'cpu, or a provider `performer info` lists as loadable');
  });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv.slice(0, 2), ...canonicalArgs(argv.slice(2))]);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      process.stderr.write(`performer: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`performer: ${oneLine(e.message)}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`performer: ${err.message}\n`);
    if (process.env.PERFORMER_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

// A reader that stops early (`performer bench --help | head`) closes the pipe: that is not an
// error of ours, so exit quietly instead of printing Node's unhandled EPIPE trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv);
