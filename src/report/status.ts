/**
 * `performer reproduce --status`: does today's code build the graphs that produced each committed
 * result? Per experiment: the data's commit and date, and one of
 * - current: every recorded graph fingerprint matches today's build and the options are the definition's;
 * - stale (graphs changed: …): some kernel and pass build another graph today;
 * - stale (options changed): the recorded command is not the definition's;
 * - no fingerprint: data written before records carried graphHash (it cannot say);
 * - not timed: accuracy or closed-form data, whose options alone are compared;
 * - missing: no data.json.
 * Builds graphs only (no session, no timing).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Experiment } from '../../experiments/index.ts';
import { pointFingerprint } from '../bench/graph.ts';
import type { BenchRecord } from '../bench/types.ts';
import { canonicalArgs } from '../commands/vocabulary.ts';
import { getKernel } from '../kernels/index.ts';
import { BYTE_VOCAB } from '../train/data/types.ts';
import { parseRunLabel } from '../train/labels.ts';
import { classifierFingerprint, type Objective, trainKernelConfig } from '../train/model.ts';
import type { TrainRequest } from '../train/types.ts';

export type Freshness = 'current' | 'stale' | 'no fingerprint' | 'not timed' | 'missing';

export interface ExperimentStatus {
  readonly id: string;
  readonly commit: string | null;
  readonly date: string | null;
  readonly status: Freshness;
  /** Why: the kernels and passes whose graphs changed, or the option difference. */
  readonly detail: string;
}

/** Output and resume options reproduce adds; the rest of the recorded command must be the definition's. */
const ADDED = new Set(['--out', '--format', '-o']);

/**
 * The recorded command's arguments without what reproduce adds. The pre-run's directory
 * (`<out>/<id>/<name>`, after --init-from or --inputs) reads as the definition's `{pre}`.
 */
export function definitionArgs(commandLine: string, pre: { id: string; name: string } | null): string[] {
  const words = canonicalArgs(commandLine.split(' ').slice(1));
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '--resume') continue;
    if (ADDED.has(words[i]!)) {
      i++;
      continue;
    }
    const w = words[i]!;
    const isPre = pre !== null && basename(w) === pre.name && basename(dirname(w)) === pre.id;
    out.push(isPre ? '{pre}' : w);
  }
  return out;
}

/** Today's fingerprint of a bench record's graph (null for points never built: unsupported kernels). */
function benchHash(r: BenchRecord): string | null {
  try {
    return pointFingerprint(r);
  } catch {
    return null;
  }
}

/** The vocabulary a train run's model had: language models predict their vocabulary; classifiers read bytes or ListOps tokens. */
async function trainVocab(options: Partial<TrainRequest>, dataset: { classes: number; vocab?: number }): Promise<number> {
  if (dataset.vocab) return dataset.vocab;
  if (options.objective && options.objective !== 'classify') return dataset.classes;
  if (options.task === 'listops') return (await import('../train/data/listops.ts')).LISTOPS_VOCAB;
  return BYTE_VOCAB;
}

/** Today's fingerprint of a training graph (label, L, the run's model), as KernelRun computes it. */
function trainHash(o: Partial<TrainRequest> & { seqLen: number }, label: string, vocab: number, classes: number): string {
  const shape = { batch: o.batch!, seqLen: o.seqLen, heads: o.heads!, dModel: o.dim!, layers: o.layers!, dFf: o.dFf!, vocab };
  const req = {
    kernel: getKernel(parseRunLabel(label).kernel),
    shape,
    classes,
    pooling: o.pooling ?? 'mean',
    objective: (o.objective ?? 'classify') as Objective,
  };
  return classifierFingerprint(req, (seed) => trainKernelConfig(o as TrainRequest, seed));
}

export interface Doc {
  environment?: { commandLine?: string; gitCommit?: string; timestamp?: string };
  options?: Partial<TrainRequest> & { seqLens?: number[] };
  dataset?: { classes: number; vocab?: number };
  records?: Record<string, unknown>[];
}

/** The status of one experiment's committed data in `<out>/<id>/data.json`. */
export async function experimentStatus(exp: Experiment, out: string): Promise<ExperimentStatus> {
  const path = join(out, exp.id, 'data.json');
  if (!existsSync(path)) return { id: exp.id, commit: null, date: null, status: 'missing', detail: `no ${path}` };
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Doc;
  const env = doc.environment ?? {};
  const base = { id: exp.id, commit: env.gitCommit?.slice(0, 7) ?? null, date: env.timestamp?.slice(0, 10) ?? null };
  const recorded = definitionArgs(env.commandLine ?? '', exp.pre ? { id: exp.id, name: exp.pre.name } : null);
  const full = canonicalArgs(exp.full);
  if (recorded.join(' ') !== full.join(' ')) {
    const want = new Set(full);
    const diff = [...recorded.filter((w) => !want.has(w)).map((w) => `+${w}`), ...full.filter((w) => !recorded.includes(w)).map((w) => `−${w}`)];
    return { ...base, status: 'stale', detail: `options changed: ${diff.slice(0, 6).join(' ') || 'order'}` };
  }
  return { ...base, ...(await graphStatus(exp.kind, doc)) };
}

/**
 * Whether today's code builds the graphs a results document (bench, train or train-steps) recorded:
 * current, stale (naming what changed), no fingerprint (older data) or not timed (other kinds).
 */
export async function graphStatus(kind: string, doc: Doc): Promise<{ status: Freshness; detail: string }> {
  const records = doc.records ?? [];
  if (kind !== 'bench' && kind !== 'train' && kind !== 'train-steps') return { status: 'not timed', detail: 'accuracy or closed-form data: no timed graph' };
  if (!records.some((r) => typeof r.graphHash === 'string')) return { status: 'no fingerprint', detail: 'written before records carried graphHash' };
  const changed = new Set<string>();
  const cache = new Map<string, string | null>();
  for (const r of records) {
    if (typeof r.graphHash !== 'string') continue;
    let today: string | null;
    let what: string;
    if (kind === 'bench') {
      const b = r as unknown as BenchRecord;
      what = `${b.kernel} ${b.pass}`;
      today = benchHash(b);
    } else {
      const o = doc.options!;
      const L = (r.seqLen as number) ?? o.seqLen!;
      const label = r.kernel as string;
      what = kind === 'train' ? label : `${label} L=${L}`;
      const key = `${label}/${L}`;
      if (!cache.has(key)) {
        const steps = kind === 'train-steps';
        const vocab = steps ? BYTE_VOCAB : await trainVocab(o, doc.dataset!);
        cache.set(key, trainHash({ ...o, seqLen: L }, label, vocab, steps ? 2 : o.objective && o.objective !== 'classify' ? vocab : doc.dataset!.classes));
      }
      today = cache.get(key)!;
    }
    if (today !== r.graphHash) changed.add(what);
  }
  if (changed.size) return { status: 'stale', detail: `graphs changed: ${[...changed].join(', ')}` };
  return { status: 'current', detail: `${records.filter((r) => typeof r.graphHash === 'string').length} graphs match` };
}
