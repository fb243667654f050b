import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  generateListOps,
  LISTOPS_CLASSES,
  LISTOPS_CLS_ID,
  LISTOPS_DEFAULTS,
  LISTOPS_TOKENS,
  LISTOPS_VOCAB,
  type ListOpsOptions,
} from '../src/train/data/listops.ts';

/** Counts of the operator nodes the evaluator met, so tests can show a rule was exercised. */
interface EvalStats {
  evenMedians: number;
  flooredMedians: number;
  sumsWrapped: number;
}

/** Written independently of the generator: the usual definitions, applied with an explicit stack. */
function reduceOp(op: string, args: number[], stats: EvalStats): number {
  const sorted = [...args].sort((a, b) => a - b);
  const n = sorted.length;
  switch (op) {
    case '[MIN':
      return sorted[0]!;
    case '[MAX':
      return sorted[n - 1]!;
    case '[SM': {
      const sum = args.reduce((s, v) => s + v, 0);
      if (sum >= 10) stats.sumsWrapped++;
      return sum % 10;
    }
    case '[MED': {
      if (n % 2 === 1) return sorted[(n - 1) / 2]!;
      const twice = sorted[n / 2 - 1]! + sorted[n / 2]!;
      stats.evenMedians++;
      if (twice % 2 === 1) stats.flooredMedians++;
      return (twice - (twice % 2)) / 2;
    }
    default:
      throw new Error(`unknown operator ${op}`);
  }
}

function evaluate(tokens: readonly string[], stats: EvalStats = { evenMedians: 0, flooredMedians: 0, sumsWrapped: 0 }): number {
  const stack: (string | number)[] = [];
  for (const t of tokens) {
    if (t === ']') {
      const args: number[] = [];
      let top = stack.pop();
      while (typeof top === 'number') {
        args.unshift(top);
        top = stack.pop();
      }
      assert.ok(typeof top === 'string' && args.length >= 2, `malformed expression: ${tokens.join(' ')}`);
      stack.push(reduceOp(top, args, stats));
    } else if (t.startsWith('[')) stack.push(t);
    else {
      assert.match(t, /^[0-9]$/);
      stack.push(Number(t));
    }
  }
  assert.equal(stack.length, 1);
  assert.equal(typeof stack[0], 'number');
  return stack[0] as number;
}

const ev = (s: string) => evaluate(s.split(' '));
const opts = (o: Partial<ListOpsOptions>): ListOpsOptions => ({ ...LISTOPS_DEFAULTS, ...o });
const data = generateListOps(opts({ seed: 11, count: 2000 }));

describe('listops evaluator (hand-checked)', () => {
  it('MED is the floored median; SM is the sum mod 10', () => {
    assert.equal(ev('[MED 1 2 3 4 ]'), 2);
    assert.equal(ev('[MED 4 1 3 ]'), 3);
    assert.equal(ev('[MED 0 9 ]'), 4);
    assert.equal(ev('[MED 3 4 ]'), 3);
    assert.equal(ev('[MED 2 8 5 5 ]'), 5);
    assert.equal(ev('[MED 9 9 0 0 ]'), 4);
    assert.equal(ev('[SM 9 8 7 ]'), 4);
    assert.equal(ev('[SM 5 5 ]'), 0);
    assert.equal(ev('[MIN 3 [MAX 1 7 ] 5 ]'), 3);
    assert.equal(ev('[MAX 2 9 [MIN 4 3 ] 0 ]'), 9);
    assert.equal(ev('[SM [MED 1 2 ] [SM 9 9 ] 3 ]'), 2);
  });
});

describe('listops generator', () => {
  it('vocabulary: padding 0, operators, ], digits 6-15, <cls> last', () => {
    assert.equal(LISTOPS_TOKENS[0], '<pad>');
    assert.deepEqual(LISTOPS_TOKENS.slice(1, 6), ['[MIN', '[MAX', '[MED', '[SM', ']']);
    for (let d = 0; d <= 9; d++) assert.equal(LISTOPS_TOKENS[6 + d], String(d));
    assert.equal(LISTOPS_CLS_ID, 16);
    assert.equal(LISTOPS_VOCAB, 17);
    assert.equal(LISTOPS_CLASSES, 10);
  });

  it('labels equal an independent evaluator, exercising floored even medians and wrapped sums', () => {
    const stats: EvalStats = { evenMedians: 0, flooredMedians: 0, sumsWrapped: 0 };
    for (const x of data) {
      const strings = Array.from(x.tokens, (id) => LISTOPS_TOKENS[id]!);
      assert.deepEqual(strings, x.text.split(' '));
      assert.ok(!strings.includes('<pad>') && !strings.includes('<cls>'));
      assert.equal(evaluate(strings, stats), x.label, x.text);
    }
    assert.ok(stats.flooredMedians > 100, `floored medians: ${stats.flooredMedians}`);
    assert.ok(stats.sumsWrapped > 100, `wrapped sums: ${stats.sumsWrapped}`);
  });

  it('length-4 window: every operator over two digits, checked by formula', () => {
    const small = generateListOps(opts({ seed: 5, count: 300, minLength: 3, maxLength: 5 }));
    const ops = new Set<string>();
    for (const x of small) {
      const [op, a, b, close] = x.text.split(' ');
      const [p, q] = [Number(a), Number(b)];
      ops.add(op!);
      assert.equal(close, ']');
      const expect = { '[MIN': Math.min(p, q), '[MAX': Math.max(p, q), '[MED': Math.floor((p + q) / 2), '[SM': (p + q) % 10 }[op!];
      assert.equal(x.label, expect, x.text);
    }
    assert.equal(ops.size, 4);
  });

  it('lengths lie strictly inside the window and spread across it', () => {
    const { minLength, maxLength } = LISTOPS_DEFAULTS;
    const lengths = data.map((x) => x.tokens.length);
    for (const L of lengths) assert.ok(L > minLength && L < maxLength, `length ${L}`);
    // Measured: roughly flat over 101..511 (each quarter of the window holds 20-30%).
    const quarter = (maxLength - minLength) / 4;
    const bins = [0, 0, 0, 0];
    for (const L of lengths) bins[Math.min(3, Math.floor((L - minLength) / quarter))]!++;
    for (const c of bins) assert.ok(c > 0.15 * data.length, `quarters: ${bins.join(' ')}`);
    assert.ok(Math.min(...lengths) < 120 && Math.max(...lengths) > 490);
  });

  it('sequences are distinct', () => {
    assert.equal(new Set(data.map((x) => x.text)).size, data.length);
  });

  it('same seed gives the same data; another seed different data', () => {
    const a = generateListOps(opts({ seed: 3, count: 50 }));
    const b = generateListOps(opts({ seed: 3, count: 50 }));
    const c = generateListOps(opts({ seed: 4, count: 50 }));
    assert.deepEqual(a, b);
    const cTexts = new Set(c.map((x) => x.text));
    assert.ok(a.filter((x) => cTexts.has(x.text)).length < 5);
  });

  it('labels cover the classes; the majority class stays near LRA’s ~17%', () => {
    const counts = new Array<number>(LISTOPS_CLASSES).fill(0);
    for (const x of data) counts[x.label]!++;
    assert.ok(
      counts.every((c) => c > 0.04 * data.length),
      `label counts: ${counts.join(' ')}`,
    );
    assert.ok(Math.max(...counts) < 0.25 * data.length, `label counts: ${counts.join(' ')}`);
  });

  it('LRA’s own window (500 < length < 2000) works', () => {
    for (const x of generateListOps(opts({ seed: 2, count: 30, minLength: 500, maxLength: 2000 }))) {
      assert.ok(x.tokens.length > 500 && x.tokens.length < 2000);
      assert.equal(evaluate(x.text.split(' ')), x.label);
    }
  });

  it('impossible options throw, naming the option', () => {
    assert.throws(() => generateListOps(opts({ minLength: 10, maxLength: 11 })), /minLength 10 < L < maxLength 11/);
    // Lengths 2 and 3 do not exist: a leaf is 1, an operator at least 4.
    assert.throws(() => generateListOps(opts({ minLength: 1, maxLength: 4 })), /maxDepth 10 and maxArgs 10/);
    // Binary trees have lengths ≡ 1 (mod 3).
    assert.throws(() => generateListOps(opts({ minLength: 100, maxLength: 103, maxArgs: 2 })), /maxArgs 2/);
    assert.throws(() => generateListOps(opts({ maxDepth: 1, minLength: 1 })), /maxDepth 1/);
    assert.throws(() => generateListOps(opts({ maxArgs: 1 })), /maxArgs must be an integer/);
    assert.throws(() => generateListOps(opts({ count: 1.5 })), /count must be an integer/);
  });

  it('a window with too few distinct trees stops at the attempt cap', () => {
    // Length 4 means one operator over two digits: 4 · 10 · 10 = 400 distinct trees.
    assert.throws(() => generateListOps(opts({ count: 401, minLength: 3, maxLength: 5 })), /found 400 of 401 distinct sequences/);
  });
});
