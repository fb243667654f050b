/**
 * Given attention inputs for `performer error --inputs`: q, k and v read from an `.npz` or a
 * directory of `.npy` files (src/io/), checked, grouped by layer. Inputs are raw projections
 * (x·W_q, x·W_k); the d^(-1/4) scaling is applied later, by the tool, as for drawn inputs.
 *
 * Names: `q`, `k`, `v` (one group) or `<prefix>.q`, `<prefix>.k`, `<prefix>.v` (one group per
 * prefix, e.g. `l0`, `l1`), with an optional `mask` or `<prefix>.mask` [B, L] (1 token, 0 padding)
 * and `<prefix>.out`, the attention output a capture recorded. Shapes [B, H, L, d], [H, L, d] or
 * [L, d]. Without v, V ~ N(0, 1) is drawn from seed 0 (noted). A `performer train --out`
 * directory is captured in-process instead (src/train/capture.ts, {@link CAPTURE_DEFAULTS}).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { usage } from '../errors.ts';
import { NpyError, type NpyArray, readNpy } from '../io/npy.ts';
import { readNpz } from '../io/npz.ts';
import { Rng } from '../random.ts';

/** What `error --inputs <train --out dir>` captures: the run's only label, seed 0, two test batches. */
export const CAPTURE_DEFAULTS = { label: null, seed: 0, batches: 2, split: 'test' } as const;

const ALLOWED =
  'an .npz or a directory of .npy files with arrays q, k[, v, mask] or l<n>.q, l<n>.k[, l<n>.v] of shape [B, H, L, d], float32 (float16/float64 converted)';

/** One layer's (or one file's) inputs, C order [B, H, L, d]. */
export interface InputGroup {
  /** The array prefix (`l0`), or '' for bare q, k, v. */
  readonly name: string;
  readonly batch: number;
  readonly heads: number;
  readonly seqLen: number;
  readonly dim: number;
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  /** [B, L], 1 token, 0 padding; null: every position is a token. */
  readonly mask: Float32Array | null;
  /** The attention output recorded with the inputs (a capture's `<prefix>.out`), if any. */
  readonly out: Float32Array | null;
}

export interface GivenInputs {
  readonly path: string;
  readonly groups: readonly InputGroup[];
  /** Conversions and defaults worth telling the user (float64 converted, V drawn, …). */
  readonly notes: readonly string[];
  /** The capture's sidecar (`<file>.json` beside an .npz), if there is one. */
  readonly sidecar: Record<string, unknown> | null;
}

function readArrays(path: string): Map<string, NpyArray> {
  if (!existsSync(path)) throw usage('--inputs', `${path} does not exist`, ALLOWED);
  try {
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path)
        .filter((f) => f.endsWith('.npy'))
        .sort();
      if (!files.length) throw usage('--inputs', `directory ${path} holds no .npy file`, ALLOWED);
      return new Map(
        files.map((f) => {
          try {
            return [f.slice(0, -4), readNpy(readFileSync(join(path, f)))];
          } catch (e) {
            if (e instanceof NpyError) throw new NpyError(`${f}: ${e.message}`);
            throw e;
          }
        }),
      );
    }
    const bytes = readFileSync(path);
    if (path.endsWith('.npy')) throw usage('--inputs', `${path} is one .npy array; q and k need two`, ALLOWED);
    return readNpz(bytes);
  } catch (e) {
    // An NpyError that says what is allowed (dtype, byte order, version) needs no second list.
    if (e instanceof NpyError) throw usage('--inputs', `${path}: ${e.message}`, /\(allowed: /.test(e.message) ? undefined : ALLOWED);
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw usage('--inputs', `cannot read ${path} (${code})`, ALLOWED);
    throw e;
  }
}

/** [B, H, L, d] from a rank 2–4 shape. */
function asBhld(name: string, shape: readonly number[]): [number, number, number, number] {
  if (shape.length < 2 || shape.length > 4)
    throw usage('--inputs', `array ${name} has shape [${shape.join(', ')}], rank ${shape.length}`, 'shape [B, H, L, d], [H, L, d] or [L, d]');
  const s = [1, 1, ...shape].slice(-4) as [number, number, number, number];
  if (s.some((x) => x === 0)) throw usage('--inputs', `array ${name} has shape [${shape.join(', ')}], which holds nothing`, 'non-empty arrays');
  return s;
}

/** The C-order index of flat position `i` in `shape`. */
function indexOf(i: number, shape: readonly number[]): number[] {
  const idx: number[] = [];
  for (let a = shape.length - 1; a >= 0; a--) {
    idx.unshift(i % shape[a]!);
    i = Math.floor(i / shape[a]!);
  }
  return idx;
}

function checkFinite(name: string, a: NpyArray): void {
  const i = a.data.findIndex((x) => !Number.isFinite(x));
  if (i >= 0) throw usage('--inputs', `array ${name} holds ${a.data[i]} at index [${indexOf(i, a.shape).join(', ')}]`, 'finite values only');
}

/**
 * Reads, checks and groups the inputs at `path`.
 * @throws UsageError (exit 2) naming --inputs or --dim: a missing or unreadable file, a dtype other
 *   than float16/32/64, no q/k arrays (the arrays found named), shapes that disagree, a d other
 *   than `dim`, a NaN or ∞ (the array and first index named)
 */
export function loadInputs(path: string, dim?: number): GivenInputs {
  const side = path.replace(/\.npz$/, '') + '.json';
  let sidecar: Record<string, unknown> | null = null;
  const notes: string[] = [];
  if (path.endsWith('.npz') && existsSync(side)) {
    try {
      sidecar = JSON.parse(readFileSync(side, 'utf8')) as Record<string, unknown>;
    } catch {
      notes.push(`${side} is not valid JSON: ignored`);
    }
  }
  const given = groupInputs(readArrays(path), path, sidecar, dim);
  return { ...given, notes: [...given.notes, ...notes] };
}

/** Whether `path` is a `performer train --out` directory (error --inputs then captures from it). */
export const isTrainRun = (path: string): boolean => existsSync(join(path, 'checkpoints')) && statSync(path).isDirectory();

/**
 * Groups and checks arrays by name (see the file's comment): from files, or from a capture run
 * in-process. @throws UsageError as {@link loadInputs}
 */
export function groupInputs(arrays: ReadonlyMap<string, NpyArray>, path: string, sidecar: Record<string, unknown> | null, dim?: number): GivenInputs {
  const notes = new Set<string>();
  const prefixes = [...arrays.keys()]
    .filter((n) => /(^|\.)q$/.test(n))
    .map((n) => n.slice(0, -1).replace(/\.$/, ''))
    .filter((p) => arrays.has(p ? `${p}.k` : 'k'));
  if (!prefixes.length) throw usage('--inputs', `${path} has no q and k arrays (found: ${[...arrays.keys()].join(', ') || 'none'})`, ALLOWED);
  // l2 before l10.
  prefixes.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const groups = prefixes.map((p): InputGroup => {
    const at = (t: string) => (p ? `${p}.${t}` : t);
    const q = arrays.get(at('q'))!;
    const k = arrays.get(at('k'))!;
    const shape = asBhld(at('q'), q.shape);
    const same = (name: string, a: NpyArray) => {
      const s = asBhld(name, a.shape);
      if (s.join() !== shape.join())
        throw usage('--inputs', `array ${name} has shape [${a.shape.join(', ')}], ${at('q')} [${q.shape.join(', ')}]`, 'q, k and v of one shape [B, H, L, d]');
    };
    same(at('k'), k);
    const [B, H, L, d] = shape;
    if (dim !== undefined && d !== dim)
      throw usage('--dim', `${dim} differs from the head dimension d = ${d} of ${at('q')} in ${path}`, `${d}, or leave --dim out with --inputs`);
    let v = arrays.get(at('v'));
    if (v) same(at('v'), v);
    else {
      const rng = new Rng(1_000_003);
      v = { shape: q.shape, data: Float32Array.from(q.data, () => rng.gaussian()), notes: [] };
      notes.add(`no ${at('v')}: V ~ N(0, 1) drawn (seed fixed)`);
    }
    const mask = arrays.get(at('mask')) ?? arrays.get('mask');
    if (mask && (mask.data.length !== B * L || mask.shape.at(-1) !== L))
      throw usage('--inputs', `mask has shape [${mask.shape.join(', ')}], q [${q.shape.join(', ')}]`, `mask [B, L] = [${B}, ${L}]`);
    if (mask && mask.data.some((x) => x !== 0 && x !== 1)) throw usage('--inputs', 'mask holds values other than 0 and 1', 'mask [B, L]: 1 token, 0 padding');
    const out = arrays.get(at('out'));
    for (const [n, a] of [
      [at('q'), q],
      [at('k'), k],
      [at('v'), v],
    ] as const) {
      checkFinite(n, a);
      for (const note of a.notes) notes.add(`${n}: ${note}`);
    }
    return {
      name: p,
      batch: B,
      heads: H,
      seqLen: L,
      dim: d,
      q: q.data,
      k: k.data,
      v: v.data,
      mask: mask?.data ?? null,
      out: out && out.data.length === q.data.length ? out.data : null,
    };
  });
  const dims = new Set(groups.map((g) => g.dim));
  if (dims.size > 1) throw usage('--inputs', `groups of ${path} differ in head dimension (${[...dims].join(', ')})`, 'one head dimension d for every layer');
  return { path, groups, notes: [...notes], sidecar };
}

/** The token rows (mask 1) of (b, h) of one array of `g`, in order, as float64 rows times `scale`. */
export function tokenRows(g: InputGroup, a: Float32Array, b: number, h: number, scale = 1): number[][] {
  const base = (b * g.heads + h) * g.seqLen * g.dim;
  const rows: number[][] = [];
  for (let i = 0; i < g.seqLen; i++) if (isToken(g, b, i)) rows.push(Array.from(a.subarray(base + i * g.dim, base + (i + 1) * g.dim), (x) => x * scale));
  return rows;
}

/** Whether position i of batch row b is a token. */
export const isToken = (g: InputGroup, b: number, i: number): boolean => !g.mask || g.mask[b * g.seqLen + i] === 1;
