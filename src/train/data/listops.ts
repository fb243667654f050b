/**
 * A seeded ListOps generator: the rules of Long Range Arena's `lra_benchmarks/data/listops.py`
 * (google-research/long-range-arena) and the token stream its `lra_benchmarks/listops/input_pipeline.py`
 * feeds the model, in pure TypeScript so training needs no downloaded data.
 *
 * Deliberate differences from LRA; only the integer-draw bias changes the distribution of accepted
 * sequences, and that negligibly:
 * - the random source is the project's xoshiro128** {@link Rng}, not Python's `random`, so our data are
 *   reproducible from a seed but are not LRA's files;
 * - the operator is drawn before the children (LRA draws it after); the draws are independent, so only
 *   the order of the stream changes;
 * - a tree is abandoned as soon as its prefix plus its pending `]` reach `maxLength`: the finished tree
 *   could only be longer, so this is the same rejection made earlier, and it bounds an attempt's cost;
 * - integer draws map one 32-bit word to [0, n) by multiplication (bias below n / 2^32);
 * - the output keeps the order drawn, where LRA iterates a Python set; splits drawn from one call do not
 *   overlap, as LRA's (sliced from one deduplicated set) do not.
 */
import { Rng } from '../../random.ts';

/**
 * Token strings by id: 0 padding; 1-4 the operators `[MIN`, `[MAX`, `[MED`, `[SM` (LRA's order);
 * 5 the closing `]`; 6-15 the digits 0-9 (id = 6 + digit); 16 a classification token.
 * LRA's pipeline drops the parentheses of its binary nesting, renames `]` to `X` and whitespace-tokenizes:
 * the same 15 symbols. Its encoder's ids depend on Python set order; ours are fixed. LRA prepends a learned
 * CLS vector after the embedding; `<cls>` (never emitted by the generator) is that vector as a vocabulary row.
 */
export const LISTOPS_TOKENS = ['<pad>', '[MIN', '[MAX', '[MED', '[SM', ']', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '<cls>'] as const;

/** Vocabulary size, 17: the 15 ListOps symbols, padding and the classification token. */
export const LISTOPS_VOCAB = LISTOPS_TOKENS.length;

/** The label is a digit, the value of the whole expression. */
export const LISTOPS_CLASSES = 10;

/** The id of `<cls>`, for a model that prepends it to each sequence. */
export const LISTOPS_CLS_ID = LISTOPS_TOKENS.indexOf('<cls>');

const MIN = 1;
const MAX = 2;
const MED = 3;
const SM = 4;
const CLOSE = 5;
const DIGIT0 = 6;
/** LRA's VALUE_P: a node below max depth is a leaf when its uniform draw r exceeds this. */
const VALUE_P = 0.25;
/** Not a digit: the tree outgrew `maxLength` and was abandoned. */
const TOO_LONG = -1;
/** Attempts allowed per requested sequence before giving up (and at least MIN_ATTEMPTS in all). */
const ATTEMPTS_PER_SEQUENCE = 10_000;
const MIN_ATTEMPTS = 1_000_000;
/** Bounds the up-front reachability check and the sampling buffer; LRA's own maximum is 2000. */
const MAX_LENGTH_CAP = 16_384;

/** What to generate. Lengths are token counts, and a sequence is kept when minLength < length < maxLength. */
export interface ListOpsOptions {
  seed: number;
  count: number;
  /** Exclusive lower bound on the length, as LRA's `length > min_length`. */
  minLength: number;
  /** Exclusive upper bound on the length, as LRA's `length < max_length`. */
  maxLength: number;
  /** The root is depth 1; nodes at this depth are always leaves (LRA: max_depth). */
  maxDepth: number;
  /** Operators take 2..maxArgs arguments, uniformly (LRA: max_args). */
  maxArgs: number;
}

/** One example: token ids (no padding, no `<cls>`), the expression's value and its space-separated text. */
export interface ListOpsExample {
  tokens: Int32Array;
  label: number;
  text: string;
}

/**
 * CPU-sized defaults. LRA keeps 500 < length < 2000 with depth 10 and 10 arguments; we keep its depth
 * and arguments, so the trees are drawn the same way, and shorten the window to 100 < length < 512:
 * the longest sequence (511) plus `<cls>` fills exactly 512 positions, the length TRAINING.md times
 * training steps at. 2000 sequences is LRA's validation and test split size.
 */
export const LISTOPS_DEFAULTS: Readonly<ListOpsOptions> = Object.freeze({
  seed: 1,
  count: 2000,
  minLength: 100,
  maxLength: 512,
  maxDepth: 10,
  maxArgs: 10,
});

/** Value of an operator over its argument digits: LRA's to_value. */
function apply(op: number, args: number[]): number {
  switch (op) {
    case MIN:
      return Math.min(...args);
    case MAX:
      return Math.max(...args);
    case MED:
      return floorMedian(args);
    case SM:
      return args.reduce((s, v) => s + v, 0) % 10;
    default:
      throw new Error(`ListOps: unknown operator id ${op}`);
  }
}

/** LRA's int(np.median(args)): an even count averages the two middle values, and int() floors it (digits are non-negative). */
function floorMedian(args: number[]): number {
  const sorted = [...args].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.floor((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** LRA's generate_tree, writing prefix tokens into one reused buffer and returning the value. */
class TreeSampler {
  readonly buf: Int32Array;
  length = 0;

  constructor(
    private readonly rng: Rng,
    private readonly o: ListOpsOptions,
  ) {
    this.buf = new Int32Array(o.maxLength);
  }

  /** A fresh tree: its value, or TOO_LONG when it was abandoned. */
  sample(): number {
    this.length = 0;
    return this.node(1, 0);
  }

  /** Uniform integer in [0, n). */
  private int(n: number): number {
    return Math.floor((this.rng.nextU32() * n) / 4294967296);
  }

  /** Appends a token; false when the tokens so far plus `pending` closers cannot fit below maxLength. */
  private emit(id: number, pending: number): boolean {
    if (this.length + 1 + pending >= this.o.maxLength) return false;
    this.buf[this.length++] = id;
    return true;
  }

  /** A subtree at `depth`, with `pending` closers owed by its ancestors. */
  private node(depth: number, pending: number): number {
    const r = depth < this.o.maxDepth ? this.rng.uniform() : 1;
    if (r > VALUE_P) {
      const digit = this.int(10);
      return this.emit(DIGIT0 + digit, pending) ? digit : TOO_LONG;
    }
    const n = 2 + this.int(this.o.maxArgs - 1);
    const op = MIN + this.int(4);
    if (!this.emit(op, pending + 1)) return TOO_LONG;
    const args: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = this.node(depth + 1, pending + 1);
      if (v === TOO_LONG) return TOO_LONG;
      args.push(v);
    }
    return this.emit(CLOSE, pending) ? apply(op, args) : TOO_LONG;
  }
}

/** The set {a + b}, as bitsets of lengths, truncated by `mask`. */
function sumset(a: bigint, b: bigint, mask: bigint): bigint {
  let out = 0n;
  for (let x = 0n, rest = b; rest !== 0n; x++, rest >>= 1n) if (rest & 1n) out |= a << x;
  return out & mask;
}

/**
 * Bit L is set when some tree has length L < limit. Exact, so a window no tree can land in (for example
 * maxArgs 2 allows only lengths ≡ 1 mod 3) fails up front instead of exhausting the attempt cap.
 */
function reachableLengths(maxDepth: number, maxArgs: number, limit: number): bigint {
  const mask = (1n << BigInt(limit)) - 1n;
  let sub = 1n << 1n; // depth maxDepth: a leaf
  for (let t = maxDepth - 1; t >= 1; t--) {
    let sum = sub;
    let ops = 0n;
    for (let k = 2; k <= maxArgs && sum !== 0n; k++) {
      sum = sumset(sum, sub, mask);
      ops |= sum;
    }
    const next = ((ops << 2n) & mask) | (1n << 1n);
    if (next === sub) break; // deeper budgets add nothing once the set stops growing
    sub = next;
  }
  return sub;
}

function requireInt(name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`ListOps: ${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
}

/** Rejects options no sampling could satisfy, naming the option at fault. */
function validate(o: ListOpsOptions): void {
  requireInt('seed', o.seed, 0);
  requireInt('count', o.count, 0);
  requireInt('minLength', o.minLength, 0);
  requireInt('maxLength', o.maxLength, 1, MAX_LENGTH_CAP);
  requireInt('maxDepth', o.maxDepth, 1);
  requireInt('maxArgs', o.maxArgs, 2);
  if (o.maxLength - o.minLength < 2) {
    throw new RangeError(`ListOps: no length L with minLength ${o.minLength} < L < maxLength ${o.maxLength}`);
  }
  const window = ((1n << BigInt(o.maxLength)) - 1n) & ~((1n << BigInt(o.minLength + 1)) - 1n);
  if ((reachableLengths(o.maxDepth, o.maxArgs, o.maxLength) & window) === 0n) {
    throw new RangeError(
      `ListOps: no tree with maxDepth ${o.maxDepth} and maxArgs ${o.maxArgs} has a length L with ` + `minLength ${o.minLength} < L < maxLength ${o.maxLength}`,
    );
  }
}

/**
 * Draws trees as LRA does and keeps those with minLength < length < maxLength, skipping any whose text
 * was already kept (LRA deduplicates through a set of trees; the text determines the tree). Sequences
 * come in the order drawn. Throws RangeError for impossible options and Error when `count` distinct
 * sequences are not found within max(10^6, 10^4 · count) attempts.
 */
export function generateListOps(o: ListOpsOptions): ListOpsExample[] {
  validate(o);
  const sampler = new TreeSampler(new Rng(o.seed), o);
  const seen = new Set<string>();
  const out: ListOpsExample[] = [];
  const maxAttempts = Math.max(MIN_ATTEMPTS, ATTEMPTS_PER_SEQUENCE * o.count);
  for (let attempt = 0; out.length < o.count; attempt++) {
    if (attempt >= maxAttempts) {
      throw new Error(
        `ListOps: found ${out.length} of ${o.count} distinct sequences in ${maxAttempts} attempts; ` +
          `the window minLength ${o.minLength} < L < maxLength ${o.maxLength} is too rare or holds too ` +
          `few distinct trees for maxDepth ${o.maxDepth}, maxArgs ${o.maxArgs}`,
      );
    }
    const label = sampler.sample();
    if (label === TOO_LONG || sampler.length <= o.minLength) continue;
    const tokens = sampler.buf.slice(0, sampler.length);
    const text = Array.from(tokens, (id) => LISTOPS_TOKENS[id]).join(' ');
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ tokens, label, text });
  }
  return out;
}
