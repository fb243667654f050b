/**
 * Option parsers shared by every command. Each returns a typed value or throws a UsageError that
 * names the flag and what is allowed, so all commands reject bad input the same way.
 */
import { constants } from 'node:buffer';
import { Option, type Command } from 'commander';
import { DEFAULT_BATCH, DEFAULT_CHUNK_SIZE, DEFAULT_DIM, DEFAULT_FEATURES, DEFAULT_HEADS, DEFAULT_SEED } from '../defaults.ts';
import { usage } from '../errors.ts';
import { FEATURE_TYPES, type FeatureType } from '../kernels/projection.ts';
import { CAUSAL_IMPLS, type CausalImpl } from '../kernels/types.ts';
import type { DType } from '../onnx/ir.ts';

export { kernelConfig } from '../kernels/types.ts';

/**
 * An option whose default is given as the user would type it (`'256..8192'`, `'80%'`): the help
 * shows that text, and the value is what the parser makes of it.
 */
export function withDefault<T>(flags: string, description: string, parse: (raw: string) => T, raw: string, shown = raw): Option {
  return new Option(flags, description).argParser(parse).default(parse(raw), shown);
}

/**
 * Ctrl-C (SIGINT) and SIGTERM both stop a long run the same way: the signal aborts the run,
 * which keeps what finished; the exit code is 128 + the signal's number (130, 143).
 */
export function onStopSignal() {
  const ac = new AbortController();
  let got: NodeJS.Signals | null = null;
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const h = () => {
      got ??= sig;
      ac.abort();
    };
    process.once(sig, h);
    return [sig, h] as const;
  });
  return {
    signal: ac.signal,
    received: () => got ?? 'SIGINT',
    exitCode: () => (got === 'SIGTERM' ? 143 : 130),
    dispose: () => handlers.forEach(([sig, h]) => process.off(sig, h)),
  };
}

export const positiveInt =
  (flag: string) =>
  (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n <= 0) throw usage(flag, `'${raw}' is not a positive integer`);
    return n;
  };

export const nonNegativeInt =
  (flag: string) =>
  (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) throw usage(flag, `'${raw}' is not a non-negative integer`);
    return n;
  };

export const positiveNumber =
  (flag: string) =>
  (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw usage(flag, `'${raw}' is not a positive number`);
    return n;
  };

const DURATION_UNITS: Record<string, number> = { ms: 1e-3, s: 1, m: 60, min: 60, h: 3600 };

/**
 * A clock budget in seconds: `200ms`, `2s`, `1.5m`, `1h`, or a bare number of seconds.
 */
export const duration =
  (flag: string) =>
  (raw: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(ms|s|min|m|h)?\s*$/i.exec(raw);
    const s = m ? Number(m[1]) * DURATION_UNITS[(m[2] ?? 's').toLowerCase()]! : NaN;
    if (!Number.isFinite(s) || s <= 0) throw usage(flag, `'${raw}' is not a positive duration`, 'e.g. 200ms, 2s, 5m, 1h; a bare number is seconds');
    return s;
  };

export function oneOf<T extends string>(flag: string, allowed: readonly T[]) {
  return (raw: string): T => {
    if (!(allowed as readonly string[]).includes(raw)) throw usage(flag, `'${raw}' is not supported`, allowed.join(', '));
    return raw as T;
  };
}

/**
 * The entries of a comma list, trimmed. An empty entry (`a,,b`, `a,`) is refused rather than
 * dropped: it is usually a value the user meant to type and did not.
 */
function entries(flag: string, raw: string, allowed: string): string[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.every((s) => s === '')) throw usage(flag, 'the list is empty', allowed);
  if (items.includes('')) throw usage(flag, `'${raw}' has an empty entry`, allowed);
  return items;
}

/** A comma list of allowed names, no duplicates. */
export function listOf<T extends string>(flag: string, allowed: readonly T[]) {
  return (raw: string): T[] => {
    const items = entries(flag, raw, allowed.join(', '));
    const bad = items.find((s) => !(allowed as readonly string[]).includes(s));
    if (bad !== undefined) throw usage(flag, `'${bad}' is not supported`, allowed.join(', '));
    return [...new Set(items)] as T[];
  };
}

/** A comma list of positive numbers, in the order given, without duplicates. */
export const numberList =
  (flag: string) =>
  (raw: string): number[] => {
    const items = entries(flag, raw, 'e.g. 0.35,0.7,1').map(positiveNumber(flag));
    return [...new Set(items)];
  };

/**
 * A list of positive integers: `a,b,c`, a power-of-two range `256..8192` (256, 512, …, 8192),
 * or both mixed. Sorted, without duplicates.
 */
export const sizeList =
  (flag: string) =>
  (raw: string): number[] => {
    const out = new Set<number>();
    for (const part of entries(flag, raw, 'e.g. 256,1024 or 256..8192')) {
      const range = /^(\d+)\.\.(\d+)$/.exec(part);
      if (!range) {
        out.add(positiveInt(flag)(part));
        continue;
      }
      const [lo, hi] = [Number(range[1]), Number(range[2])];
      const pow2 = (n: number) => n > 0 && Number.isSafeInteger(n) && (n & (n - 1)) === 0;
      if (!pow2(lo) || !pow2(hi) || lo > hi) throw usage(flag, `'${part}' is not a power-of-two range lo..hi with lo ≤ hi`, 'e.g. 256..8192');
      for (let n = lo; n <= hi; n *= 2) out.add(n);
    }
    return [...out].sort((a, b) => a - b);
  };

export const DTYPES = ['float32', 'float64', 'float16'] as const satisfies readonly DType[];

/** Adds the options every graph-building command shares (features, projection, causal strategy). */
export function addKernelOptions(cmd: Command): Command {
  return addFeatureOptions(addCausalOptions(cmd), DEFAULT_FEATURES).option(
    '--seed <s>',
    'seed of the projection (and of the inputs)',
    nonNegativeInt('--seed'),
    DEFAULT_SEED,
  );
}

/** --causal, --causal-impl, --chunk-size: how attention is masked and how the linear kernels do it. */
export function addCausalOptions(cmd: Command, causalHelp = 'causal (unidirectional) attention'): Command {
  return cmd
    .option('--causal', causalHelp, false)
    .addOption(
      new Option('--causal-impl <impl>', 'causal strategy of the linear kernels')
        .choices(CAUSAL_IMPLS)
        .default('chunked', 'chunked')
        .argParser(oneOf('--causal-impl', CAUSAL_IMPLS)),
    )
    .option('--chunk-size <C>', 'tokens per block of the chunked causal strategy', positiveInt('--chunk-size'), DEFAULT_CHUNK_SIZE);
}

/** --features m (the command's default) and --feature-type. */
export function addFeatureOptions(cmd: Command, features: number): Command {
  return cmd
    .option('--features <m>', 'random features m', positiveInt('--features'), features)
    .addOption(
      new Option('--feature-type <type>', 'projection matrix')
        .choices(FEATURE_TYPES)
        .default('orthogonal', 'orthogonal')
        .argParser(oneOf('--feature-type', FEATURE_TYPES)),
    );
}

export interface KernelOptionValues {
  causal: boolean;
  causalImpl: CausalImpl;
  chunkSize: number;
  features: number;
  featureType: FeatureType;
  seed: number;
}

/** --batch, --heads, --dim (the sequence length option differs per command). */
export function addShapeOptions(cmd: Command): Command {
  return cmd
    .option('--batch <B>', 'batch size', positiveInt('--batch'), DEFAULT_BATCH)
    .option('--heads <H>', 'attention heads', positiveInt('--heads'), DEFAULT_HEADS)
    .option('--dim <d>', 'head dimension', positiveInt('--dim'), DEFAULT_DIM);
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** A byte size: `16GiB`, `512MB`, `1e9`, or a percentage of `total` (`80%`). */
export const byteSize =
  (flag: string, total: number) =>
  (raw: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*(%|[kmgt]?i?b)?\s*$/i.exec(raw);
    const n = m ? Number(m[1]) : NaN;
    const unit = m?.[2]?.toLowerCase();
    // A share of RAM above 100% is a budget no run can have: the estimate would never skip a point.
    if (unit === '%' && n > 100) throw usage(flag, `'${raw}' is more than all of the memory`, 'a percentage up to 100%, or a size such as 16GiB');
    const bytes = unit === '%' ? (n / 100) * total : n * (unit ? (UNITS[unit] ?? NaN) : 1);
    if (!Number.isFinite(bytes) || bytes <= 0) throw usage(flag, `'${raw}' is not a positive size`, 'e.g. 16GiB, 512MiB, 80%');
    return Math.floor(bytes);
  };

/** The largest tensor the Node binding can pass: one buffer. */
const MAX_TENSOR_BYTES = constants.MAX_LENGTH;

const DTYPE_BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, int64: 8, bool: 1 };

/**
 * Refuses a shape whose q, k or v tensor (B·H·L·d elements) is larger than one Node buffer can
 * hold (4 GiB): the binding hands tensors to ONNX Runtime as typed arrays, so such a graph could
 * be written but never run. Names --seq-len, the flag that usually makes it so.
 */
export function checkTensorSize(shape: { batch: number; heads: number; seqLen: number; dim: number }, dtype: DType = 'float32'): void {
  const perToken = shape.batch * shape.heads * shape.dim * DTYPE_BYTES[dtype];
  const maxLen = Math.floor(MAX_TENSOR_BYTES / perToken);
  if (shape.seqLen > maxLen) {
    throw usage(
      '--seq-len',
      `${shape.seqLen} tokens make each input ${shape.batch}×${shape.heads}×${shape.seqLen}×${shape.dim} ${dtype}, more than the 4 GiB a tensor can hold`,
      `≤ ${maxLen} at this --batch, --heads, --dim and --dtype`,
    );
  }
}
