/**
 * Protein training (`performer train --task fasta`): the FASTA reader, splits, windows, BERT masking,
 * the masked-LM loss against a float64 host computation, --init-from and the error messages.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DEFAULT_KERNEL_CONFIG } from '../src/defaults.ts';
import { getKernel } from '../src/kernels/index.ts';
import { runGraph } from '../src/runtime/session.ts';
import { cropExamples, evaluationBatches, makeMlmBatch, MLM } from '../src/train/batches.ts';
import { loadFasta, MASK, PROTEIN_VOCAB, proteinTokens, readFasta, RESIDUE_OFFSET, RESIDUES, SEQ_END, STANDARD_RESIDUES } from '../src/train/data/fasta.ts';
import { buildClassifierGraph } from '../src/train/model.ts';
import { runTraining } from '../src/train/run.ts';
import type { TrainRequest } from '../src/train/types.ts';
import { pairedDifferences } from '../src/report/train-stats.ts';
import { cli, interruptAfter } from './helpers/cli.ts';

const FIXTURE = new URL('./fixtures/proteins.fasta', import.meta.url).pathname;
const tmp = () => mkdtempSync(join(tmpdir(), 'performer-fasta-'));
const write = (dir: string, name: string, text: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const MESSY = '; a comment line\n>sp|P1|ONE first protein\nMKV\nlla\n\n>empty record\n>tr|P2|TWO\nacdefghikl\nmnpqrstvwy*\n>P3 with X B Z U O\nXBZUO\n';

describe('FASTA reader', () => {
  it('joins wrapped lines, upper-cases, drops a trailing * and skips (and counts) empty records; gzip by magic bytes', async () => {
    const dir = tmp();
    try {
      const plain = await readFasta(write(dir, 'a.fasta', MESSY));
      assert.deepEqual(plain.records, [
        { id: 'sp|P1|ONE', sequence: 'MKVLLA' },
        { id: 'tr|P2|TWO', sequence: 'ACDEFGHIKLMNPQRSTVWY' },
        { id: 'P3', sequence: 'XBZUO' },
      ]);
      assert.equal(plain.empty, 1);
      // The same bytes gzipped, under a name without .gz: recognised by content.
      const gz = await readFasta(write(dir, 'b.dat', gzipSync(MESSY)));
      assert.deepEqual(gz, plain);
      // CRLF line ends read the same.
      assert.deepEqual(await readFasta(write(dir, 'c.fasta', MESSY.replace(/\n/g, '\r\n'))), plain);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tokens: [start, residues…, end] with ids 4..28 in RESIDUES order', () => {
    assert.equal(PROTEIN_VOCAB, 29);
    assert.deepEqual([...proteinTokens('ACY')], [1, RESIDUE_OFFSET, RESIDUE_OFFSET + 1, RESIDUE_OFFSET + RESIDUES.indexOf('Y'), SEQ_END]);
    assert.equal(RESIDUES.slice(0, STANDARD_RESIDUES), 'ACDEFGHIKLMNPQRSTVWY');
  });

  it('refuses, with one line naming --data: a missing file (and the Debian package for the default), empty, non-FASTA, bad characters, corrupt gzip', async () => {
    const dir = tmp();
    try {
      const cases: [string, RegExp, string?][] = [
        [join(dir, 'none.fasta'), /does not exist/],
        [join(dir, 'debian.fasta.gz'), /apt-get install mmseqs2-examples/, join(dir, 'debian.fasta.gz')],
        [write(dir, 'empty.fasta', ''), /holds no FASTA record/],
        [write(dir, 'only-headers.fasta', '>a\n>b\n'), /holds no FASTA record with residues \(2 empty\)/],
        [write(dir, 'text.fasta', 'hello\n>a\nMK\n'), /is not FASTA: line 1 comes before any '>' header/],
        [write(dir, 'bad.fasta', '>ok\nMK\n>P9 bad\nMKV-LA\n'), /record P9 has '-' at residue 4/],
        [write(dir, 'bad.gz', Buffer.concat([gzipSync('>a\nMKV\n').subarray(0, 12), Buffer.from('garbage')])), /not a valid gzip file/],
      ];
      for (const [path, re, debian] of cases) {
        await assert.rejects(
          readFasta(path, debian),
          (e: Error) => e.name === 'UsageError' && e.message.startsWith('--data: ') && re.test(e.message) && !e.message.includes('\n'),
          path,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('protein data set', () => {
  it('deduplicates, then splits by sequence with the data seed: disjoint, deterministic, 5% / 5%', async () => {
    const dir = tmp();
    try {
      const text = readFileSync(FIXTURE, 'utf8');
      // The fixture twice over: every sequence is a duplicate once.
      const once = await loadFasta(FIXTURE, 0);
      const n = once.train.length + once.validation.length + once.test.length;
      assert.ok(n >= 40, `${n} unique sequences in the fixture`);
      const d = await loadFasta(write(dir, 'twice.fasta', text + text.replace(/>/g, '>copy-')), 0);
      const key = (e: { tokens: Int32Array }) => [...e.tokens].join(',');
      const [tr, va, te] = [d.train.map(key), d.validation.map(key), d.test.map(key)];
      assert.equal(tr.length + va.length + te.length, n);
      assert.equal(new Set([...tr, ...va, ...te]).size, n);
      assert.equal(va.length, Math.round(n * 0.05));
      assert.equal(te.length, Math.round(n * 0.05));
      assert.match(d.note, new RegExp(`${96 - n} duplicate sequences dropped`));
      // The split is a function of the unique sequences and the seed.
      assert.deepEqual(once.test.map(key), te);
      assert.notDeepEqual((await loadFasta(FIXTURE, 1)).test.map(key), te);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('training windows: random, of the asked length, inside the sequence, the same for the same key', () => {
    const e = { tokens: Int32Array.from({ length: 100 }, (_, i) => i), label: 0 };
    const short = { tokens: Int32Array.from([1, 2, 3]), label: 0 };
    const a = cropExamples([e, short, e], 10, 5);
    assert.deepEqual(cropExamples([e, short, e], 10, 5), a);
    for (const w of [a[0]!, a[2]!]) {
      assert.equal(w.tokens.length, 10);
      for (let i = 1; i < 10; i++) assert.equal(w.tokens[i], w.tokens[0]! + i);
    }
    assert.equal(a[1], short);
    const starts = new Set(Array.from({ length: 50 }, (_, k) => cropExamples([e], 10, k)[0]!.tokens[0]));
    assert.ok(starts.size > 20, `only ${starts.size} distinct window starts in 50 draws`);
  });
});

describe('BERT masking', () => {
  it('chooses 15% of residues; of those 80% mask, 10% random standard residue, 10% kept: within 3 standard errors over >10k positions', async () => {
    const d = await loadFasta(FIXTURE, 0);
    let residues = 0;
    let chosen = 0;
    let masked = 0;
    let same = 0;
    let other = 0;
    let specials = 0;
    for (let k = 0; k < 12; k++) {
      const examples = d.train.slice(0, 40);
      const b = makeMlmBatch(examples, 256, PROTEIN_VOCAB, d.masking!, 1000 + k);
      const ids = b.tokens.data as BigInt64Array;
      const targets = b.train.targets!.data as BigInt64Array;
      const tmask = b.train.tmask!.data as Float32Array;
      for (let p = 0; p < ids.length; p++) {
        const orig = Number(tmask[p] ? targets[p] : ids[p]);
        if (orig >= RESIDUE_OFFSET) residues++;
        if (!tmask[p]) continue;
        if (orig < RESIDUE_OFFSET) specials++;
        chosen++;
        const now = Number(ids[p]);
        if (now === MASK) masked++;
        else if (now === orig) same++;
        else {
          other++;
          assert.ok(now >= RESIDUE_OFFSET && now < RESIDUE_OFFSET + STANDARD_RESIDUES, `replacement ${now} is not a standard residue`);
        }
      }
      assert.deepEqual(
        b.targets.length,
        tmask.reduce((a, x) => a + x, 0),
      );
    }
    assert.equal(specials, 0);
    assert.ok(residues > 10_000, `${residues} residues`);
    const within3se = (k: number, n: number, p: number, what: string) => {
      const se = Math.sqrt((p * (1 - p)) / n);
      assert.ok(Math.abs(k / n - p) <= 3 * se, `${what}: ${(k / n).toFixed(4)} vs ${p} (3 SE = ${(3 * se).toFixed(4)}, n = ${n})`);
    };
    within3se(chosen, residues, MLM.rate, 'chosen');
    within3se(masked, chosen, MLM.mask, 'masked');
    // A random replacement equals the original with probability 1/20 when the original is a standard
    // residue (nearly all are): kept ≈ 0.1 + 0.1/20, replaced ≈ 0.1 · 19/20.
    within3se(same, chosen, 1 - MLM.mask - MLM.random + MLM.random / STANDARD_RESIDUES, 'kept');
    within3se(other, chosen, MLM.random * (1 - 1 / STANDARD_RESIDUES), 'replaced');
  });

  it('a batch where chance chooses nothing still predicts one masked residue (no 0/0 loss)', () => {
    const short = [{ tokens: proteinTokens('MKV'), label: 0 }];
    const masking = { mask: MASK, firstMaskable: RESIDUE_OFFSET, randomLo: RESIDUE_OFFSET, randomHi: RESIDUE_OFFSET + STANDARD_RESIDUES };
    let forced = 0;
    for (let key = 0; key < 200; key++) {
      const b = makeMlmBatch(short, 8, PROTEIN_VOCAB, masking, key);
      const tmask = b.train.tmask!.data as Float32Array;
      const chosen = tmask.reduce((a, x) => a + x, 0);
      assert.ok(chosen >= 1, `key ${key}: nothing to predict`);
      if (chosen === 1 && Number((b.tokens.data as BigInt64Array)[tmask.indexOf(1)]) === MASK) forced++;
      // Never a special token.
      tmask.forEach((x, p) => x && assert.ok(Number(b.train.targets!.data[p]) >= RESIDUE_OFFSET));
    }
    // 0.85³ ≈ 61% of these 3-residue batches choose nothing by chance: the rule must have acted.
    assert.ok(forced > 50, `${forced} forced masks`);
  });

  it('evaluation masks depend on the batch index only: every kernel and evaluation sees the same', async () => {
    const d = await loadFasta(FIXTURE, 0);
    const make = (ex: Parameters<typeof makeMlmBatch>[0], real?: number, key = 0) => makeMlmBatch(ex, 64, PROTEIN_VOCAB, d.masking!, key, real);
    const a = evaluationBatches(d.train, 8, make);
    const b = evaluationBatches(d.train, 8, make);
    assert.deepEqual(
      a.map((x) => [...(x.train.tmask!.data as Float32Array)]),
      b.map((x) => [...(x.train.tmask!.data as Float32Array)]),
    );
  });
});

describe('masked LM graph', () => {
  it('its loss equals a float64 host cross-entropy over the masked positions of its own logits (float32 graph: 1e-5 relative)', async () => {
    const d = await loadFasta(FIXTURE, 0);
    const shape = { batch: 3, seqLen: 32, heads: 2, dModel: 8, layers: 1, dFf: 12, vocab: PROTEIN_VOCAB };
    const { graph, params } = buildClassifierGraph({
      kernel: getKernel('favor-pos'),
      shape,
      config: { ...DEFAULT_KERNEL_CONFIG, features: 8 },
      classes: PROTEIN_VOCAB,
      pooling: 'mean',
      objective: 'mlm',
      mode: 'train',
    });
    const b = makeMlmBatch(d.train.slice(0, 3), 32, PROTEIN_VOCAB, d.masking!, 7);
    const feeds = {
      tokens: b.tokens,
      mask: b.mask,
      ...b.train,
      ...Object.fromEntries(params.map((p) => [p.name, { dtype: 'float32' as const, dims: p.shape, data: Float32Array.from(p.data) }])),
    };
    const out = await runGraph(graph, feeds, { ep: 'cpu', threads: 1 });
    const logits = out.logits!.data as Float32Array;
    const targets = b.train.targets!.data as BigInt64Array;
    const tmask = b.train.tmask!.data as Float32Array;
    let sum = 0;
    let n = 0;
    for (let p = 0; p < tmask.length; p++) {
      if (!tmask[p]) continue;
      const row = Array.from(logits.subarray(p * PROTEIN_VOCAB, (p + 1) * PROTEIN_VOCAB), Number);
      const max = Math.max(...row);
      sum += max + Math.log(row.reduce((a, z) => a + Math.exp(z - max), 0)) - row[Number(targets[p])]!;
      n++;
    }
    assert.ok(n > 5, `${n} masked positions`);
    const loss = (out.loss!.data as Float32Array)[0]!;
    // float32 logsumexp over 29 logits of size ~1: rounding ~1e-7 per term, summed over n terms and
    // divided by n; 1e-5 relative leaves room and a mask or target mistake moves the loss by ≥ 1e-2.
    assert.ok(Math.abs(loss - sum / n) <= 1e-5 * (sum / n), `graph ${loss} vs host ${sum / n}`);
    assert.ok(Math.abs(b.score(logits).loss / b.score(logits).count - sum / n) < 1e-12);
  });
});

const tiny = (over: Partial<TrainRequest>): TrainRequest => ({
  task: 'fasta',
  objective: 'mlm',
  data: FIXTURE,
  kernels: ['softmax'],
  seeds: 2,
  steps: 12,
  timeBudgetS: null,
  seqLen: 48,
  dim: 8,
  heads: 2,
  layers: 1,
  dFf: 12,
  features: 8,
  featureType: 'orthogonal',
  batch: 4,
  lr: 3e-3,
  warmup: 2,
  decay: 'linear',
  weightDecay: 0.01,
  clip: 1,
  redrawEvery: null,
  pooling: 'mean',
  causal: false,
  causalImpl: 'chunked',
  chunkSize: 64,
  evalEvery: 6,
  evalBatches: null,
  targetAcc: null,
  threads: 1,
  ep: 'cpu',
  ...over,
});

describe('--init-from', () => {
  it("softmax → softmax: the step-0 evaluation equals the source run's final evaluation exactly; +scratch starts from fresh weights", async () => {
    const dir = tmp();
    try {
      mkdirSync(join(dir, 'src'));
      mkdirSync(join(dir, 'dst'));
      const src = await runTraining(tiny({}), join(dir, 'src'), false);
      const dst = await runTraining(
        tiny({ initFrom: join(dir, 'src'), kernels: ['softmax', 'favor-pos', 'softmax+scratch'], steps: 6 }),
        join(dir, 'dst'),
        false,
      );
      for (const seed of [0, 1]) {
        const s = src.records.find((r) => r.seed === seed)!;
        const at0 = (label: string) => dst.records.find((r) => r.kernel === label && r.seed === seed)!;
        const last = s.curve.at(-1)!;
        assert.equal(at0('softmax').curve[0]!.step, 0);
        assert.equal(at0('softmax').curve[0]!.valLoss, last.valLoss);
        assert.equal(at0('softmax').startValAcc, last.valAcc);
        // The swap changes the attention, so the loss moves; fresh weights are far worse than trained ones.
        assert.notEqual(at0('favor-pos').curve[0]!.valLoss, last.valLoss);
        assert.ok(at0('softmax+scratch').curve[0]!.valLoss > last.valLoss, 'scratch should start from untrained weights');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resume', () => {
  it('a masked-LM transfer killed by SIGTERM resumes to the same results as an uninterrupted run (windows, masks and batches keyed by seed and step)', async () => {
    const dir = tmp();
    try {
      const model = [
        '--task',
        'fasta',
        '--data',
        FIXTURE,
        '--objective',
        'mlm',
        '--seq-len',
        '48',
        '--dim',
        '8',
        '--layers',
        '1',
        '--d-ff',
        '8',
        '--features',
        '8',
        '--batch',
        '4',
        '--seeds',
        '1',
        '--threads',
        '1',
      ];
      assert.equal(cli(['train', ...model, '--kernels', 'softmax', '--steps', '10', '--eval-every', '5', '--out', join(dir, 'src')]).code, 0);
      const args = [
        'train',
        ...model,
        '--kernels',
        'softmax,favor-pos',
        '--init-from',
        join(dir, 'src'),
        '--steps',
        '300',
        '--eval-every',
        '10',
        '--redraw-every',
        '50',
      ];
      const whole = cli([...args, '--out', join(dir, 'whole'), '--format', 'json']);
      assert.equal(whole.code, 0, whole.stderr);
      const stopped = await interruptAfter([...args, '--out', join(dir, 'cut')], join(dir, 'cut', 'results.jsonl'), 8, 'SIGTERM');
      assert.equal(stopped.code, 143, stopped.stderr);
      const resumed = cli([...args, '--out', join(dir, 'cut'), '--resume', '--format', 'json']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /resumed at step/);
      const read = (d: string) =>
        (
          JSON.parse(readFileSync(join(dir, d, 'results.json'), 'utf8')) as {
            records: { kernel: string; testAcc: number; testLoss: number; curve: { step: number; valLoss: number }[] }[];
          }
        ).records;
      const [a, b] = [read('whole'), read('cut')];
      for (const [i, r] of a.entries()) {
        assert.equal(b[i]!.kernel, r.kernel);
        assert.equal(b[i]!.testLoss, r.testLoss, `${r.kernel}: the resumed run's test loss differs`);
        assert.deepEqual(
          b[i]!.curve.map((c) => [c.step, c.valLoss]),
          r.curve.map((c) => [c.step, c.valLoss]),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('paired statistics', () => {
  it('paired differences: mean, t interval and p by hand (n = 3)', () => {
    const rec = (kernel: string, seed: number, testAcc: number) => ({ kernel, seed, testAcc }) as never;
    const [d] = pairedDifferences(
      [rec('softmax', 0, 0.1), rec('softmax', 1, 0.2), rec('softmax', 2, 0.3), rec('x', 0, 0.12), rec('x', 1, 0.21), rec('x', 2, 0.33)],
      'softmax',
      (r: { testAcc: number }) => r.testAcc,
    );
    // d = 0.02, 0.01, 0.03: mean 0.02, sd 0.01, se 0.01/√3, t(0.975, 2) = 4.302653, t = 3.4641 → p = 0.07418.
    assert.ok(Math.abs(d!.mean - 0.02) < 1e-12);
    assert.ok(Math.abs(d!.hi - (0.02 + (4.302653 * 0.01) / Math.sqrt(3))) < 1e-6);
    assert.ok(Math.abs(d!.p! - 0.07418) < 1e-4, String(d!.p));
  });
});

describe('train --task fasta: errors', () => {
  it('each bad input exits 2 with one line naming the flag, and no trace', () => {
    const dir = tmp();
    try {
      const empty = write(dir, 'empty.fasta', '');
      const text = write(dir, 'x.txt', 'not a fasta file\n');
      const bad = write(dir, 'bad.fasta', '>P9\nMK1V\n');
      const base = [
        'train',
        '--task',
        'fasta',
        '--data',
        FIXTURE,
        '--seq-len',
        '32',
        '--dim',
        '8',
        '--layers',
        '1',
        '--d-ff',
        '8',
        '--features',
        '8',
        '--batch',
        '2',
        '--steps',
        '2',
        '--seeds',
        '1',
      ];
      const noCkpt = join(dir, 'no-ckpt');
      assert.equal(cli([...base, '--objective', 'mlm', '--kernels', 'softmax', '--out', noCkpt]).code, 0);
      rmSync(join(noCkpt, 'checkpoints'), { recursive: true });
      const withCkpt = join(dir, 'with-ckpt');
      assert.equal(cli([...base, '--objective', 'lm', '--kernels', 'softmax', '--out', withCkpt]).code, 0);
      const benchRun = join(dir, 'bench-run');
      mkdirSync(benchRun);
      writeFileSync(join(benchRun, 'results.jsonl'), `${JSON.stringify({ journal: 'performer', schemaVersion: 1, options: { passes: ['forward'] } })}\n`);
      const cases: [string[], RegExp][] = [
        [[...base, '--objective', 'mlm', '--out', benchRun], /^--out: .*holds a bench run, not a train run/],
        [['train', '--task', 'fasta', '--data', empty, '--objective', 'mlm'], /^--data: .*holds no FASTA record/],
        [['train', '--task', 'fasta', '--data', text, '--objective', 'mlm'], /^--data: .*is not FASTA/],
        [['train', '--task', 'fasta', '--data', bad, '--objective', 'mlm'], /^--data: .*record P9 has '1' at residue 3/],
        [[...base, '--objective', 'mlm', '--causal'], /^--causal: the masked language model/],
        [['train', '--task', 'spam', '--objective', 'mlm'], /^--objective: mlm needs a mask token/],
        [[...base], /^--objective: FASTA sequences carry no labels/],
        [[...base, '--objective', 'mlm', '--init-from', join(dir, 'nowhere')], /^--init-from: .*does not exist/],
        [[...base, '--objective', 'mlm', '--init-from', noCkpt], /^--init-from: .*holds no checkpoint/],
        [[...base, '--objective', 'mlm', '--init-from', withCkpt], /^--objective: mlm differs from the --init-from run's lm/],
        [[...base, '--objective', 'lm', '--dim', '16', '--init-from', withCkpt], /^--d-model: 16 differs from the --init-from run's 8/],
        [[...base, '--objective', 'lm', '--init-from', withCkpt, '--init-kernel', 'favor-pos'], /^--init-kernel: .*did not train 'favor-pos'/],
        [[...base, '--objective', 'lm', '--init-from', withCkpt, '--seeds', '2'], /^--init-from: .*has no checkpoint of softmax seed 1/],
        [[...base, '--objective', 'mlm', '--step-time'], /^--step-time: times the classifier's training step; --objective mlm is not timed/],
        [[...base, '--objective', 'mlm', '--kernels', 'favor-pos+scratch'], /^--kernels: favor-pos\+scratch: \+scratch only means something with --init-from/],
        [[...base, '--objective', 'mlm', '--kernels', 'favor-pos+fast'], /^--kernels: 'favor-pos\+fast': unknown variant/],
        [[...base, '--objective', 'mlm', '--kernels', 'softmax,,favor-pos'], /^--kernels: .*empty entry/],
      ];
      for (const [args, re] of cases) {
        const r = cli(args);
        const lines = r.stderr.trim().split('\n');
        assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`);
        assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(lines[0]!.replace(/^performer: /, ''), re, args.join(' '));
        assert.ok(!r.stderr.includes('    at '));
      }
      assert.ok(!existsSync(join(dir, 'nowhere')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
