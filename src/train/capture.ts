/**
 * `performer capture`: a trained model's attention inputs. The encoder of a `performer train --out`
 * run, with its checkpoint's weights and the kernel set to exact softmax, runs held-out batches of
 * the run's own task; every layer's post-projection queries, keys and values (before any kernel
 * scaling: raw x·W_q, x·W_k, x·W_v split into heads) and the attention output the model computed
 * from them become float32 arrays [B, H, L, d_head], with the key-padding mask [B, L].
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { usage } from '../errors.ts';
import { softmaxKernel } from '../kernels/softmax.ts';
import type { KernelSpec } from '../kernels/types.ts';
import { encoderBody, encoderParams, type ModelShape } from '../model/encoder.ts';
import { GraphBuilder } from '../onnx/builder.ts';
import type { Value } from '../onnx/ir.ts';
import { JOURNAL } from '../results/files.ts';
import { type HostTensor, Session } from '../runtime/session.ts';
import { evaluationBatches } from './batches.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { loadTask } from './data/tasks.ts';
import { decodeF64 } from './optimizer.ts';
import { trainKernelConfig } from './model.ts';
import { batchMaker } from './run.ts';
import type { TrainRequest } from './types.ts';

export const CAPTURE_SPLITS = ['test', 'validation'] as const;
export type CaptureSplit = (typeof CAPTURE_SPLITS)[number];

export interface CaptureRequest {
  /** A `performer train --out` directory with checkpoints. */
  readonly from: string;
  /** The run label whose checkpoint is used (null: the run's only one). */
  readonly label: string | null;
  readonly seed: number;
  /** Held-out batches of the run's batch size (fewer if the split is smaller). */
  readonly batches: number;
  readonly split: CaptureSplit;
}

/** What a capture holds: arrays by name (`l<layer>.q|k|v|out`, `mask`) and the sidecar's facts. */
export interface Capture {
  readonly arrays: Map<string, { shape: number[]; data: Float32Array }>;
  readonly meta: {
    readonly kind: 'qkv-capture';
    readonly convention: string;
    readonly from: string;
    readonly label: string;
    readonly seed: number;
    readonly step: number;
    readonly task: string;
    readonly objective: string;
    readonly split: CaptureSplit;
    readonly examples: number;
    readonly layers: number;
    readonly heads: number;
    readonly dim: number;
    readonly dModel: number;
    readonly seqLen: number;
    readonly causal: boolean;
    readonly arrays: Record<string, number[]>;
  };
}

/** The train run's options, from results.json or (a run stopped early) its journal's header. */
export function readTrainOptions(dir: string): TrainRequest {
  if (!existsSync(dir)) throw usage('--from', `${dir} does not exist`, 'the --out directory of a performer train run');
  const results = join(dir, 'results.json');
  const journal = join(dir, JOURNAL);
  let options: Partial<TrainRequest> | undefined;
  try {
    if (existsSync(results)) {
      const doc = JSON.parse(readFileSync(results, 'utf8')) as { kind?: string; options?: Partial<TrainRequest> };
      if (doc.kind !== 'train')
        throw usage('--from', `${dir} holds a ${doc.kind ?? 'unknown'} result, not a train run`, 'the --out directory of a performer train run');
      options = doc.options;
    } else if (existsSync(journal)) {
      options = (JSON.parse(readFileSync(journal, 'utf8').split('\n')[0]!) as { options?: Partial<TrainRequest> }).options;
    }
  } catch (e) {
    if (e instanceof SyntaxError) throw usage('--from', `${dir}: results.json or its journal is not valid JSON`);
    throw e;
  }
  if (!options || !Array.isArray(options.kernels))
    throw usage('--from', `${dir} holds no performer train run (no results.json or journal)`, 'the --out directory of a performer train run');
  return options as TrainRequest;
}

/** Softmax attention that also hands its q, k, v and output to `seen`, layer by layer. */
function recordingSoftmax(seen: { q: Value; k: Value; v: Value; out: Value }[]): KernelSpec {
  return {
    ...softmaxKernel,
    build(b, ctx) {
      const out = softmaxKernel.build(b, ctx);
      seen.push({ q: ctx.q, k: ctx.k, v: ctx.v, out });
      return out;
    },
  };
}

/**
 * Runs the capture.
 * @throws UsageError naming --from, --kernel-label or --seed when the run lacks what is asked
 */
export async function runCapture(req: CaptureRequest): Promise<Capture> {
  const opts = readTrainOptions(req.from);
  const labels = opts.kernels;
  const label = req.label ?? (labels.length === 1 ? labels[0]! : null);
  if (label === null) throw usage('--kernel-label', `${req.from} trained ${labels.join(', ')}: say which one to capture`, labels.join(', '));
  if (!labels.includes(label)) throw usage('--kernel-label', `${req.from} did not train '${label}'`, labels.join(', '));
  const ckpt = loadCheckpoint(req.from, label, req.seed);
  if (!ckpt)
    throw usage(
      '--seed',
      `${req.from} has no checkpoint of ${label} seed ${req.seed}`,
      `a seed below ${opts.seeds} the run trained, with its checkpoints kept`,
    );
  const lm = opts.objective === 'lm';
  const data = await loadTask({ task: opts.task, seqLen: opts.seqLen + (lm ? 1 : 0), ...(opts.data ? { data: opts.data } : {}) });
  const examples = req.split === 'test' ? data.test : data.validation;
  const batches = evaluationBatches(examples, opts.batch, batchMaker(opts, data), req.batches);
  const shape: ModelShape = {
    batch: opts.batch,
    seqLen: opts.seqLen,
    heads: opts.heads,
    dModel: opts.dim,
    layers: opts.layers,
    dFf: opts.dFf,
    vocab: data.vocab,
  };
  const params = encoderParams(shape, 0).filter((p) => p.name !== 'w_out');
  const b = new GraphBuilder('capture', 'float32');
  const tokens = b.input('tokens', [shape.batch, shape.seqLen], 'int64');
  const mask = b.input('mask', [shape.batch, shape.seqLen]);
  const values = new Map(params.map((p) => [p.name, b.input(p.name, p.shape)]));
  const seen: { q: Value; k: Value; v: Value; out: Value }[] = [];
  // The checkpoint's config only matters for causal attention; softmax draws no projection.
  encoderBody(b, { kernel: recordingSoftmax(seen), shape, config: trainKernelConfig(opts, 0), param: (n) => values.get(n)!, tokens, mask });
  const names = seen.flatMap((_, l) => ['q', 'k', 'v', 'out'].map((t) => `l${l}.${t}`));
  const graph = b.build(seen.flatMap((s, l) => (['q', 'k', 'v', 'out'] as const).map((t) => b.named(s[t], `l${l}.${t}`))));
  const feeds: Record<string, HostTensor> = {};
  for (const p of params) {
    const saved = ckpt.params[p.name];
    const w = saved === undefined ? undefined : decodeF64(saved);
    if (!w || w.length !== p.data.length)
      throw usage(
        '--from',
        `checkpoint ${label} seed ${req.seed} has ${w?.length ?? 'no'} values for ${p.name}, the model ${p.data.length}`,
        'a checkpoint of this performer version',
      );
    feeds[p.name] = { dtype: 'float32', dims: p.shape, data: Float32Array.from(w) };
  }
  const session = await Session.fromGraph(graph, { ep: 'cpu', threads: 1 });
  const H = opts.heads;
  const L = opts.seqLen;
  const dh = opts.dim / H;
  const parts = new Map<string, Float32Array[]>(names.concat('mask').map((n) => [n, []]));
  let total = 0;
  try {
    for (const batch of batches) {
      const out = await session.run({ ...feeds, tokens: batch.tokens, mask: batch.mask });
      // Only the batch's real examples (an evaluation's last batch repeats one to fill up).
      for (const n of names) parts.get(n)!.push((out[n]!.data as Float32Array).slice(0, batch.real * H * L * dh));
      parts.get('mask')!.push((batch.mask.data as Float32Array).slice(0, batch.real * L));
      total += batch.real;
    }
  } finally {
    await session.release();
  }
  const concat = (xs: Float32Array[]) => {
    const o = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
    xs.reduce((at, x) => (o.set(x, at), at + x.length), 0);
    return o;
  };
  const arrays = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const n of names) arrays.set(n, { shape: [total, H, L, dh], data: concat(parts.get(n)!) });
  arrays.set('mask', { shape: [total, L], data: concat(parts.get('mask')!) });
  return {
    arrays,
    meta: {
      kind: 'qkv-capture',
      convention:
        "raw projections x·W (no d^(-1/4) or 1/√d scaling), heads split: [B, H, L, d_head]; lN.out is the model's exact-softmax attention output; mask [B, L]: 1 token, 0 padding",
      from: req.from,
      label,
      seed: req.seed,
      step: ckpt.state.step,
      task: opts.task,
      objective: opts.objective,
      split: req.split,
      examples: total,
      layers: opts.layers,
      heads: H,
      dim: dh,
      dModel: opts.dim,
      seqLen: L,
      causal: opts.causal,
      arrays: Object.fromEntries([...arrays].map(([n, a]) => [n, a.shape])),
    },
  };
}
