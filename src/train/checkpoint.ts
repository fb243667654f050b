/**
 * Checkpoints of training runs (one JSON file per run label and seed, written atomically after each
 * evaluation and on a stop signal), and `--init-from`: another run's final checkpoints as the
 * starting weights of this one.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { usage } from '../errors.ts';
import type { Param } from '../model/encoder.ts';
import { JOURNAL, writeAtomic } from '../results/files.ts';
import { decodeF64, encodeF64, type AdamW } from './optimizer.ts';
import type { CurvePoint, TrainRequest } from './types.ts';

/** Where a run stands: what a checkpoint holds besides parameters and optimiser state. */
export interface RunState {
  step: number;
  seconds: number;
  redrawSeconds: number;
  redraws: number;
  stepTimes: number[];
  curve: CurvePoint[];
  pending: { loss: number; correct: number; count: number };
  diverged: boolean;
}

export type Checkpoint = { state: RunState; params: Record<string, string>; optimizer: ReturnType<AdamW['state']> };

export const checkpointPath = (out: string, label: string, seed: number) => join(out, 'checkpoints', `${label}-seed${seed}.json`);

export function saveCheckpoint(out: string, label: string, seed: number, params: readonly Param[], optimizer: AdamW, state: RunState): void {
  mkdirSync(join(out, 'checkpoints'), { recursive: true });
  const encoded = Object.fromEntries(params.map((p) => [p.name, encodeF64(p.data)]));
  writeAtomic(checkpointPath(out, label, seed), JSON.stringify({ state, params: encoded, optimizer: optimizer.state() }));
}

export function loadCheckpoint(out: string, label: string, seed: number): Checkpoint | null {
  const path = checkpointPath(out, label, seed);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Checkpoint) : null;
}

/** The architecture and data a transfer must share with its source, as request fields. */
const SHARED = ['task', 'objective', 'seqLen', 'dim', 'heads', 'layers', 'dFf'] as const;
const FLAG: Record<(typeof SHARED)[number], string> = {
  task: '--task',
  objective: '--objective',
  seqLen: '--seq-len',
  dim: '--d-model',
  heads: '--heads',
  layers: '--layers',
  dFf: '--d-ff',
};

/** A source run of `--init-from`: its directory, the run label whose checkpoints are used, and its options. */
export interface InitSource {
  readonly dir: string;
  readonly label: string;
  readonly options: Partial<TrainRequest>;
}

/**
 * Checks `dir` holds a train run compatible with `req` and picks its run label: `initKernel`, or
 * the source's only one. The source's options come from its results.json, or from its journal's
 * header while it has none (a run stopped early).
 */
export function openInitSource(dir: string, initKernel: string | null, req: TrainRequest): InitSource {
  if (!existsSync(dir)) throw usage('--init-from', `${dir} does not exist`, 'the --out directory of a finished performer train run');
  let options: Partial<TrainRequest> | undefined;
  const results = join(dir, 'results.json');
  const journal = join(dir, JOURNAL);
  try {
    if (existsSync(results)) {
      const doc = JSON.parse(readFileSync(results, 'utf8')) as { kind?: string; options?: Partial<TrainRequest> };
      if (doc.kind !== 'train')
        throw usage('--init-from', `${dir} holds a ${doc.kind ?? 'unknown'} result, not a train run`, 'the --out directory of a performer train run');
      options = doc.options;
    } else if (existsSync(journal)) {
      options = (JSON.parse(readFileSync(journal, 'utf8').split('\n')[0]!) as { options?: Partial<TrainRequest> }).options;
    }
  } catch (e) {
    if (e instanceof SyntaxError) throw usage('--init-from', `${dir}: ${results} or ${journal} is not valid JSON`);
    throw e;
  }
  if (!options || !Array.isArray(options.kernels))
    throw usage('--init-from', `${dir} holds no performer train run (no results.json or journal)`, 'the --out directory of a performer train run');
  const ckpt = join(dir, 'checkpoints');
  if (!existsSync(ckpt) || !readdirSync(ckpt).some((f) => f.endsWith('.json')))
    throw usage('--init-from', `${dir} holds no checkpoint`, 'a train run made with --out (performer reproduce removes them)');
  for (const f of SHARED) {
    if (options[f] !== req[f]) throw usage(FLAG[f], `${req[f]} differs from the --init-from run's ${options[f]}`, `${options[f]}, as in ${dir}`);
  }
  const labels = options.kernels;
  const label = initKernel ?? (labels.length === 1 ? labels[0]! : null);
  if (label === null) throw usage('--init-kernel', `${dir} trained ${labels.join(', ')}: say which one to start from`, labels.join(', '));
  if (!labels.includes(label)) throw usage('--init-kernel', `${dir} did not train '${label}'`, labels.join(', '));
  // Every seed's checkpoint up front: a missing one must not surface after hours of training the others.
  for (let seed = 0; seed < req.seeds; seed++) {
    if (!existsSync(checkpointPath(dir, label, seed)))
      throw usage('--init-from', `${dir} has no checkpoint of ${label} seed ${seed}`, `--seeds ≤ the source's ${options.seeds ?? '?'}`);
  }
  return { dir, label, options };
}

/**
 * The source's final parameters for `seed`, checked against this run's parameter shapes.
 * @throws UsageError when the seed's checkpoint is missing or a parameter differs in shape
 */
export function initParams(src: InitSource, seed: number, params: readonly Param[]): void {
  const c = loadCheckpoint(src.dir, src.label, seed);
  if (!c) throw usage('--init-from', `${src.dir} has no checkpoint of ${src.label} seed ${seed}`, `--seeds ≤ the source's ${src.options.seeds ?? '?'}`);
  for (const p of params) {
    const saved = c.params[p.name];
    const data = saved === undefined ? undefined : decodeF64(saved);
    if (!data || data.length !== p.data.length)
      throw usage(
        '--init-from',
        `parameter ${p.name} of ${src.label} seed ${seed} has ${data?.length ?? 'no'} values, this model ${p.data.length}`,
        'the same --dim, --heads, --layers, --d-ff, --seq-len and task',
      );
    p.data.set(data);
  }
}
