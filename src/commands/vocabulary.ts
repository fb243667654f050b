/**
 * One flag vocabulary across commands (docs/flags.md is its page): every long option name with
 * the one thing it means, the commands that take it, and the old spellings that still work.
 *
 * - VOCABULARY: name → meaning. test/vocabulary.test.ts walks every command's options and fails
 *   on a name missing here or declared by a command not listed, so a name cannot quietly take a
 *   second meaning in another command: give the new meaning a new name instead.
 * - ALIASES: old spellings, rewritten before commander parses (hidden from help). A value may be
 *   rewritten too (`--time-ms 200` is `--time-budget 200ms`). `reproduce --status` applies the
 *   same rewriting to recorded command lines, so results measured with old spellings stay current.
 */

/** An old spelling of a flag in one command. */
export interface Alias {
  readonly command: string;
  readonly old: string;
  readonly now: string;
  /** The value in the new flag's terms (default: unchanged). */
  readonly value?: (raw: string) => string;
  /** A switch: takes no value. */
  readonly flag?: true;
}

export const ALIASES: readonly Alias[] = [
  { command: 'bench', old: '--seq-lens', now: '--seq-len' },
  { command: 'bench', old: '--time-ms', now: '--time-budget', value: (raw) => `${raw}ms` },
  { command: 'error', old: '--feature-types', now: '--feature-type' },
  { command: 'train', old: '--rounds', now: '--repeat' },
  { command: 'train', old: '--warmup', now: '--lr-warmup' },
  { command: 'train', old: '--dim', now: '--d-model' },
  { command: 'report', old: '--baseline', now: '--baseline-file' },
  { command: 'bench', old: '--no-roofline', now: '--no-limit', flag: true },
  { command: 'bench', old: '--refresh-roofline', now: '--refresh-limit', flag: true },
];

/** Every command of the program, by the name the first argument gives. */
export const COMMANDS = [
  'bench',
  'error',
  'train',
  'capture',
  'theory',
  'reproduce',
  'plot',
  'report',
  'compare',
  'merge',
  'roofline',
  'info',
  'kernels',
  'export',
  'completion',
] as const;

/**
 * The arguments with old spellings rewritten to today's names, for the command named by the
 * first word that is not an option. `--flag=value` forms are rewritten too.
 */
export function canonicalArgs(args: readonly string[]): string[] {
  const command = args.find((a) => !a.startsWith('-'));
  const aliases = ALIASES.filter((a) => a.command === command);
  if (!aliases.length) return [...args];
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const [flag, inline] =
      word.startsWith('--') && word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
    const alias = aliases.find((a) => a.old === flag);
    if (!alias) {
      out.push(word);
      continue;
    }
    out.push(alias.now);
    if (alias.flag) continue;
    const raw = inline ?? args[i + 1];
    if (inline === undefined) i++;
    if (raw !== undefined) out.push(alias.value ? alias.value(raw) : raw);
  }
  return out;
}

/** What a flag means, and where. */
export interface FlagMeaning {
  readonly meaning: string;
  readonly commands: readonly string[];
}

const GRAPH = ['bench', 'error', 'train', 'export', 'roofline'];

/** Every long option of every command (theory's subcommands count as theory). */
export const VOCABULARY: Readonly<Record<string, FlagMeaning>> = {
  '--against': { meaning: 'the other checkout of performer that bench --against times in alternating processes', commands: ['bench'] },
  '--allow-env-change': { meaning: 'compare even when the machine or runtime differs', commands: ['compare'] },
  '--alpha': { meaning: 'family-wise significance level (Holm over the points)', commands: ['compare'] },
  '--angle': { meaning: 'angle between x and y, in radians', commands: ['theory'] },
  '--angle-steps': { meaning: 'grid points along the angle φ', commands: ['theory'] },
  '--baseline': { meaning: 'a kernel every other kernel is compared with on paired seeds', commands: ['error'] },
  '--baseline-file': { meaning: 'a baseline results.json each bench file is compared with', commands: ['report'] },
  '--batch': { meaning: 'batch size (a list where the command sweeps it)', commands: ['bench', 'train', 'export', 'roofline'] },
  '--batches': { meaning: "held-out batches of the run's batch size to capture", commands: ['capture'] },
  '--causal': { meaning: 'causal (unidirectional) attention', commands: GRAPH },
  '--causal-impl': { meaning: 'causal strategy of the linear kernels: prefix or chunked', commands: GRAPH },
  '--chunk-size': { meaning: 'tokens per block of the chunked causal strategy', commands: GRAPH },
  '--clip': { meaning: 'clip the global gradient norm (0: off)', commands: ['train'] },
  '--d-ff': { meaning: 'feed-forward width of an encoder block', commands: ['bench', 'train'] },
  '--d-model': { meaning: 'model width d_model of an encoder', commands: ['bench', 'train'] },
  '--data': { meaning: 'a data file or folder of your own', commands: ['train'] },
  '--decay': { meaning: 'learning-rate decay after warm-up', commands: ['train'] },
  '--dim': { meaning: 'head dimension d: elements per head (theory: the dimension of x and y)', commands: ['bench', 'error', 'export', 'roofline', 'theory'] },
  '--distributions': { meaning: 'plot a box per point over its timed samples', commands: ['plot'] },
  '--dtype': { meaning: 'element type of the graph', commands: ['bench', 'export'] },
  '--ep': { meaning: 'ONNX Runtime execution provider', commands: ['bench', 'error', 'train', 'roofline'] },
  '--estimator': { meaning: 'error: the float32 graph, the float64 exact estimator, or both', commands: ['error'] },
  '--eval-batches': { meaning: 'validation batches per evaluation', commands: ['train'] },
  '--eval-every': { meaning: 'validate every n steps', commands: ['train'] },
  '--feature-type': { meaning: 'projection matrix of the random features (a list where the command sweeps it)', commands: [...GRAPH, 'theory'] },
  '--features': { meaning: 'random features m (a list where the command sweeps it)', commands: [...GRAPH, 'theory'] },
  '--format': { meaning: 'output format on stdout', commands: ['bench', 'error', 'train', 'theory'] },
  '--from': { meaning: 'the --out directory of a train run to read checkpoints from', commands: ['capture'] },
  '--heads': { meaning: 'attention heads H', commands: ['bench', 'train', 'export', 'roofline'] },
  '--init-from': { meaning: "a train run's --out whose final checkpoints start every run", commands: ['train'] },
  '--init-kernel': { meaning: 'which kernel of the --init-from run to start from', commands: ['train'] },
  '--input-scale': { meaning: 'σ of the Gaussian queries and keys', commands: ['error'] },
  '--inputs': { meaning: 'given q, k, v (an .npz, a folder of .npy, or a train --out directory) instead of Gaussian draws', commands: ['error'] },
  '--interleave': { meaning: 'time the kernels of each size in alternating rounds in one process', commands: ['bench'] },
  '--json': { meaning: 'machine-readable output (commands without --format)', commands: ['compare', 'info', 'kernels', 'reproduce', 'roofline', 'theory'] },
  '--kernel': { meaning: 'exactly one kernel', commands: ['export', 'roofline'] },
  '--kernel-label': { meaning: 'which run (kernel label) of a train --out directory to read', commands: ['capture'] },
  '--kernels': { meaning: 'a list of kernels (train: run labels such as favor-pos+noredraw)', commands: ['bench', 'error', 'train'] },
  '--layers': { meaning: 'encoder blocks', commands: ['bench', 'train'] },
  '--leak': { meaning: 'the causal leak probe instead of the error sweep', commands: ['error'] },
  '--list': { meaning: 'list the experiments', commands: ['reproduce'] },
  '--lr': { meaning: 'peak learning rate', commands: ['train'] },
  '--lr-warmup': { meaning: 'learning-rate warm-up steps', commands: ['train'] },
  '--memory-budget': { meaning: 'skip points whose memory estimate exceeds it', commands: ['bench'] },
  '--metric': { meaning: 'per-process figure compare tests: median, mean or min', commands: ['compare'] },
  '--min-runs': { meaning: 'minimum timed runs per process', commands: ['bench'] },
  '--no-limit': { meaning: 'no limit model and no roofline measurement', commands: ['bench'] },
  '--norm-steps': { meaning: 'grid points along the norm l', commands: ['theory'] },
  '--objective': { meaning: 'what a train run learns: classify, lm or mlm', commands: ['train'] },
  '--out': { meaning: 'a directory the command writes its files into', commands: ['bench', 'error', 'train', 'reproduce'] },
  '--output': { meaning: 'the one file the command writes', commands: ['export', 'merge', 'plot', 'report', 'theory', 'capture'] },
  '--pass': { meaning: 'forward, backward (the whole gradient pass), or both', commands: ['bench', 'export', 'roofline'] },
  '--pooling': { meaning: 'classifier input: mean over tokens or the CLS token', commands: ['train'] },
  '--preset': { meaning: 'a named option set; explicit flags win', commands: ['bench', 'train'] },
  '--profile': { meaning: "per-node time from ONNX Runtime's profiler", commands: ['bench'] },
  '--quick': { meaning: 'a reduced grid', commands: ['reproduce'] },
  '--quiet': { meaning: 'no progress lines on stderr', commands: ['bench'] },
  '--redraw-every': { meaning: 'draw new random features every n steps', commands: ['train'] },
  '--refresh': { meaning: 'measure the cached rates again', commands: ['roofline'] },
  '--refresh-limit': { meaning: "measure the limit model's rates again", commands: ['bench'] },
  '--render-only': { meaning: 'redraw tables and figures from the data already there', commands: ['reproduce'] },
  '--repeat': {
    meaning: 'independent repetitions: bench, fresh processes per point in interleaved rounds; train --step-time, the same in the bench command it prints',
    commands: ['bench', 'train'],
  },
  '--resume': { meaning: 'continue an interrupted run from its journal', commands: ['bench', 'train', 'reproduce'] },
  '--scope': { meaning: 'attention alone, a whole encoder, or one training step of it', commands: ['bench'] },
  '--seed': { meaning: 'one seed value (capture: the training seed whose checkpoint is read)', commands: ['bench', 'export', 'roofline', 'capture'] },
  '--seeds': { meaning: 'how many paired seeds', commands: ['error', 'train'] },
  '--seq-len': {
    meaning: 'sequence length L in tokens (a list or lo..hi range where the command sweeps it)',
    commands: ['bench', 'error', 'train', 'export', 'roofline'],
  },
  '--shard': { meaning: 'run only shard i of n of the grid', commands: ['bench', 'error'] },
  '--split': { meaning: 'which held-out examples to run: test or validation', commands: ['capture'] },
  '--status': { meaning: 'whether committed results match the graphs of today', commands: ['reproduce'] },
  '--step-time': { meaning: 'moved to bench --scope train: prints the equivalent bench command', commands: ['train'] },
  '--steps': { meaning: 'optimiser steps per run', commands: ['train'] },
  '--target': { meaning: 'what the error sweep compares: output, matrix or kernel', commands: ['error'] },
  '--target-acc': { meaning: 'validation accuracy whose time and steps are reported', commands: ['train'] },
  '--task': { meaning: 'the training data', commands: ['train'] },
  '--threads': { meaning: 'ONNX Runtime intra-op threads', commands: ['bench', 'error', 'train', 'roofline'] },
  '--threshold': { meaning: 'the smallest slowdown that fails a comparison', commands: ['bench', 'compare'] },
  '--time-budget': {
    meaning: 'a clock budget with units (200ms, 2s, 5m; a bare number is seconds): bench, timed runs per process; train, each run',
    commands: ['bench', 'train'],
  },
  '--verbose': { meaning: 'also print each exact formula', commands: ['kernels'] },
  '--vocab': { meaning: 'vocabulary size of an encoder', commands: ['bench'] },
  '--warmup': { meaning: 'untimed warm-up runs before timing', commands: ['bench'] },
  '--weight-decay': { meaning: 'AdamW decoupled weight decay', commands: ['train'] },
  '--x-norm': { meaning: '‖x‖', commands: ['theory'] },
  '--y-norm': { meaning: '‖y‖', commands: ['theory'] },
  '--help': { meaning: 'help', commands: [...COMMANDS] },
};
