import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { usage } from '../errors.ts';
import { print } from '../report/terminal.ts';
import { writeAtomic } from '../results/files.ts';
import { CAPTURE_SPLITS, type CaptureSplit } from '../train/capture.ts';
import { nonNegativeInt, oneOf, positiveInt } from './options.ts';

interface CaptureCli {
  from: string;
  kernelLabel?: string;
  seed: number;
  batches: number;
  split: CaptureSplit;
  output: string;
}

/** The sidecar beside `qk.npz`: `qk.json`. */
export const sidecarPath = (output: string) => output.replace(/\.npz$/, '') + '.json';

export const captureCommand = new Command('capture')
  .description(
    "a trained model's attention inputs: every layer's and head's q, k, v (raw projections, before any scaling) with the kernel set to exact softmax, on held-out batches, as .npz for performer error --inputs",
  )
  .requiredOption('--from <dir>', 'the --out directory of a performer train run (its checkpoints)')
  .option('--kernel-label <label>', "the run label whose checkpoint is used (default: the run's only one)")
  .option('--seed <n>', 'the training seed whose checkpoint is used', nonNegativeInt('--seed'), 0)
  .option('--batches <n>', "held-out batches of the run's batch size", positiveInt('--batches'), 2)
  .addOption(
    new Option('--split <split>', 'held-out examples to run').choices(CAPTURE_SPLITS).default('test', 'test').argParser(oneOf('--split', CAPTURE_SPLITS)),
  )
  .requiredOption(
    '-o, --output <file>',
    ".npz file: arrays l<layer>.q, .k, .v and .out (the model's attention output) [B, H, L, d_head] float32, mask [B, L]; a JSON sidecar <file>.json beside it",
  )
  .action(async (o: CaptureCli) => {
    if (!o.output.endsWith('.npz')) throw usage('--output', `'${o.output}' does not end in .npz`, 'a file name ending in .npz');
    if (!existsSync(dirname(o.output) || '.')) throw usage('--output', `directory ${dirname(o.output)} does not exist`, 'a file in an existing directory');
    const { runCapture } = await import('../train/capture.ts');
    const { writeNpz } = await import('../io/npz.ts');
    const { collectEnvironment } = await import('../environment.ts');
    const capture = await runCapture({ from: o.from, label: o.kernelLabel ?? null, seed: o.seed, batches: o.batches, split: o.split });
    const env = collectEnvironment();
    writeAtomic(o.output, writeNpz(capture.arrays));
    const sidecar = sidecarPath(o.output);
    writeAtomic(
      sidecar,
      `${JSON.stringify({ ...capture.meta, commit: env.gitCommit, dirty: env.gitDirty, performerVersion: env.performerVersion, command: env.commandLine, timestamp: env.timestamp }, null, 2)}\n`,
    );
    const m = capture.meta;
    print(
      `${o.output}: ${m.examples} ${m.split} examples of ${m.task}, ${m.layers} layer(s) × ${m.heads} head(s), d_head ${m.dim}, L ${m.seqLen} (${m.label} seed ${m.seed}, step ${m.step}); sidecar ${sidecar}`,
    );
  });
