/**
 * The documentation stays true to the repository: every relative link resolves (to a file, and
 * for `#anchor` links to a heading of that file, by GitHub's slug rules), the statistical test the
 * docs name for `performer compare` is the one the code runs, and README.md stays a manual.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compareBench, processFigures } from '../src/ci/verdicts.ts';
import { DEFAULT_TRIM, pairedYuenLogRatio, TEST_NAME, yuenLogRatio } from '../src/stats/significance.ts';
import { welchLogRatio } from './helpers/significance.ts';
import type { BenchRecord } from '../src/bench/types.ts';
import { ALIASES, VOCABULARY } from '../src/commands/vocabulary.ts';
import { Rng } from '../src/random.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const docs = readdirSync(join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => join('docs', f));
/** The pages a reader follows links between. */
const pages = ['README.md', 'ARCHITECTURE.md', 'experiments/README.md', ...docs];
const read = (page: string) => readFileSync(join(root, page), 'utf8');

/** Markdown outside fenced code blocks (links and headings in code are not links or headings). */
function prose(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

/**
 * GitHub's heading anchors: the heading's text (link targets and inline code marks dropped),
 * lower case, every character that is not a letter, digit, mark, space, hyphen or underscore
 * removed, spaces turned into hyphens; a repeated slug gets -1, -2, … in order.
 */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(markdown).split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative link targets of a page: `[text](target)` and images, without external schemes. */
function links(markdown: string): string[] {
  const targets = [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

describe('documentation links', () => {
  it('GitHub slugs: punctuation and symbols dropped, spaces to hyphens, repeats numbered', () => {
    const a = anchors('# Beyond FAVOR+: FAVOR++, FAVOR# and SORF\n## §3 Numerical stabilisers\n## `--seq-len` and L\n## x\n## x\n```\n# not a heading\n```');
    assert.deepEqual([...a], ['beyond-favor-favor-favor-and-sorf', '3-numerical-stabilisers', '--seq-len-and-l', 'x', 'x-1']);
  });

  for (const page of pages) {
    it(`${page}: every relative link resolves to a file, and every #anchor to a heading`, () => {
      const broken: string[] = [];
      for (const target of links(read(page))) {
        const [path, anchor] = target.split('#', 2) as [string, string | undefined];
        const file = path ? relative(root, resolve(root, dirname(page), decodeURIComponent(path))) : page;
        if (!existsSync(join(root, file))) {
          broken.push(`${target} (no file ${file})`);
          continue;
        }
        if (anchor !== undefined && file.endsWith('.md') && !anchors(read(file)).has(anchor)) broken.push(`${target} (no heading #${anchor} in ${file})`);
      }
      assert.deepEqual(broken, []);
    });
  }
});

describe('documentation names what exists', () => {
  for (const page of pages) {
    it(`${page}: every source path it names exists`, () => {
      const named = [...new Set(read(page).match(/\b(?:src|test|scripts|experiments)\/[\w./-]+\.(?:ts|js|py)\b/g) ?? [])];
      assert.deepEqual(
        named.filter((p) => !existsSync(join(root, p))),
        [],
      );
    });
  }

  it('docs/flags.md lists every flag of the vocabulary and every old spelling', () => {
    const text = read('docs/flags.md');
    const missing = [...Object.keys(VOCABULARY).filter((f) => f !== '--help'), ...ALIASES.map((a) => a.old)].filter(
      (f) => !new RegExp(`[\` ]${f}\\b`).test(text),
    );
    assert.deepEqual(missing, []);
  });
});

/**
 * Paragraphs (blank-line separated) of every page that speak of `performer compare` or `bench
 * --against` (the command, not the verb: train's paired t-test on accuracies is another test).
 */
function compareParagraphs(): { page: string; text: string }[] {
  return ['README.md', ...docs].flatMap((page) =>
    prose(read(page))
      .split(/\n\s*\n/)
      .filter((text) => /`compare`|performer compare|compare:|--against/.test(text))
      .map((text) => ({ page, text })),
  );
}

/** Bench records of one point with the given per-process medians (10 samples each, ±1%). */
function recordsWith(template: BenchRecord, medians: readonly number[], rng: Rng): BenchRecord {
  const perProcess = medians.map((m) => Array.from({ length: 10 }, () => m * (1 + 0.01 * (2 * rng.uniform() - 1))));
  const samplesMs = perProcess.flat();
  return {
    ...template,
    status: 'ok',
    samplesMs,
    processSamples: perProcess.map((xs) => xs.length),
    processMediansMs: medians.slice(),
    processes: medians.length,
    medianMs: medians.slice().sort((a, b) => a - b)[Math.floor(medians.length / 2)]!,
  };
}

describe('the statistical test the docs name is the one compare runs', () => {
  const template = (JSON.parse(read('results/poster-runtime/data.json')) as { records: BenchRecord[] }).records.find((r) => r.status === 'ok')!;
  const rng = new Rng(32);
  // Ten processes a side, one of them 60% slow (a busy neighbour): trimming changes the answer.
  const base = Array.from({ length: 10 }, (_, i) => 10 * Math.exp(0.05 * rng.gaussian()) * (i === 3 ? 1.6 : 1));
  const cur = Array.from({ length: 10 }, () => 11.5 * Math.exp(0.05 * rng.gaussian()));
  const b = recordsWith(template, base, rng);
  const c = recordsWith(template, cur, rng);
  const o = { threshold: 0.1, alpha: 0.05, metric: 'median' as const };

  it("compare's unpaired verdict is Yuen's trimmed test on log process figures, not Welch's", () => {
    const row = compareBench([b], [c], o)[0]!;
    const yuen = yuenLogRatio(processFigures(b, 'median'), processFigures(c, 'median'), o.alpha)!;
    const welch = welchLogRatio(processFigures(b, 'median'), processFigures(c, 'median'), o.alpha)!;
    assert.equal(row.ratio, yuen.ratio);
    assert.equal(row.lo, yuen.lo);
    assert.equal(row.hi, yuen.hi);
    assert.equal(row.p, yuen.pSlower);
    // The data tell the two tests apart, so a switch to Welch's test would fail above.
    assert.ok(Math.abs(Math.log(welch.ratio / yuen.ratio)) > 1e-3, `${welch.ratio} vs ${yuen.ratio}`);
  });

  it("relative mode's paired verdict is the one-sample trimmed test on per-round log ratios", () => {
    const row = compareBench([b], [c], { ...o, paired: true })[0]!;
    const paired = pairedYuenLogRatio(processFigures(b, 'median'), processFigures(c, 'median'), o.alpha)!;
    assert.equal(row.ratio, paired.ratio);
    assert.equal(row.p, paired.pSlower);
  });

  it(`README.md and docs/ci.md name ${TEST_NAME} and its ${DEFAULT_TRIM * 100}% trimming`, () => {
    for (const page of ['README.md', 'docs/ci.md']) {
      const text = read(page).replace(/\s+/g, ' ');
      assert.ok(text.includes(TEST_NAME), `${page} does not name ${TEST_NAME}`);
      assert.ok(text.includes(`${DEFAULT_TRIM * 100}% trimm`), `${page} does not state the ${DEFAULT_TRIM * 100}% trimming`);
    }
  });

  it("no page calls the test Welch's, and no paragraph about compare or --against says paired t-test", () => {
    for (const page of ['README.md', ...docs]) assert.ok(!/welch/i.test(read(page)), `${page} mentions Welch`);
    assert.ok(
      compareParagraphs().some(({ page }) => page === 'docs/ci.md'),
      'no paragraph of docs/ci.md speaks of compare',
    );
    const wrong = compareParagraphs().filter(({ text }) => /paired t[- ]test/i.test(text.replace(/\s+/g, ' ')));
    assert.deepEqual(
      wrong.map(({ page, text }) => `${page}: ${text.slice(0, 80)}`),
      [],
    );
  });
});

describe('README.md is a manual', () => {
  it('at most 350 lines', () => {
    const lines = read('README.md').split('\n').length - 1;
    assert.ok(lines <= 350, `README.md has ${lines} lines`);
  });

  it('states npm test, the command .ci/run relies on', () => {
    assert.match(read('.ci/run'), /npm test/);
    assert.match(read('README.md'), /npm test/);
  });
});
