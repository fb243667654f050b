/**
 * The tasks `performer train --task` knows, each a loader returning a {@link Dataset}:
 * - spam: real e-mails (spam.ts);
 * - text-csv: the user's labelled text, `--data PATH` (text-csv.ts);
 * - fasta: protein sequences from a FASTA file, `--data PATH` (default: Debian's UniProt sample), for
 *   the language-model objectives (fasta.ts);
 * - listops: Long Range Arena's ListOps, generated from a seed (listops.ts), CLS prepended;
 * - toy: a separable synthetic task for smoke tests (the `quick` preset): each class draws its
 *   tokens from its own eight byte values, so mean pooling separates the classes.
 * The split is fixed by the data seed (0), not by the training seed: every training seed and
 * kernel is evaluated on the same test set.
 */
import { usage } from '../../errors.ts';
import { Rng } from '../../random.ts';
import { generateListOps, LISTOPS_CLASSES, LISTOPS_CLS_ID, LISTOPS_DEFAULTS, LISTOPS_VOCAB } from './listops.ts';
import { splitExamples } from './text.ts';
import { BYTE_OFFSET, BYTE_VOCAB, CLS, type Dataset, type Example } from './types.ts';

export const TASKS = ['spam', 'text-csv', 'fasta', 'listops', 'toy'] as const;
export type Task = (typeof TASKS)[number];

/** The data seed: splits and generated data do not change with --seeds. */
export const DATA_SEED = 0;

export interface TaskOptions {
  readonly task: Task;
  /** Tokens per sequence, CLS included: longer texts are truncated. */
  readonly seqLen: number;
  readonly data?: string;
}

export async function loadTask(o: TaskOptions): Promise<Dataset> {
  const options = { maxLen: o.seqLen, seed: DATA_SEED };
  switch (o.task) {
    case 'spam': {
      const { loadSpam } = await import('./spam.ts');
      return loadSpam(options);
    }
    case 'text-csv': {
      if (!o.data)
        throw usage('--data', 'task text-csv needs the path of your labelled text', 'a CSV with text,label or review,sentiment columns, or a folder per class');
      const { loadTextData } = await import('./text-csv.ts');
      return loadTextData(o.data, options);
    }
    case 'fasta': {
      const { loadFasta, DEBIAN_FASTA } = await import('./fasta.ts');
      return loadFasta(o.data ?? DEBIAN_FASTA, DATA_SEED);
    }
    case 'listops':
      return listops(o.seqLen);
    case 'toy':
      return toy(o.seqLen);
  }
}

/**
 * ListOps with LRA's tree rules and a CPU-sized length window that fits --seq-len (lengths
 * below seqLen, so CLS fits): 2,000 training, 500 validation and 500 test sequences from one
 * deduplicated draw, so no sequence is in two splits.
 */
function listops(seqLen: number): Dataset {
  const maxLength = Math.min(LISTOPS_DEFAULTS.maxLength, seqLen);
  const minLength = Math.min(LISTOPS_DEFAULTS.minLength, Math.floor(maxLength / 4));
  if (maxLength - minLength < 8) throw usage('--seq-len', `ListOps needs longer sequences than ${seqLen}`, '≥ 64');
  const all = generateListOps({ ...LISTOPS_DEFAULTS, seed: DATA_SEED, count: 3000, minLength, maxLength }).map(
    (e): Example => ({ tokens: Int32Array.from([LISTOPS_CLS_ID, ...e.tokens]), label: e.label }),
  );
  return {
    name: 'listops',
    vocab: LISTOPS_VOCAB,
    classes: LISTOPS_CLASSES,
    classNames: Array.from({ length: LISTOPS_CLASSES }, (_, i) => String(i)),
    train: all.slice(0, 2000),
    validation: all.slice(2000, 2500),
    test: all.slice(2500),
    note: `ListOps (Long Range Arena rules), lengths ${minLength + 1}..${maxLength - 1} tokens + CLS, generated from seed ${DATA_SEED}`,
  };
}

/** Two classes of 512 sequences each, lengths L/2..L, tokens from disjoint sets of eight bytes. */
function toy(seqLen: number): Dataset {
  const rng = new Rng(DATA_SEED + 7);
  const examples: Example[] = Array.from({ length: 1024 }, (_, i) => {
    const label = i % 2;
    const len = Math.max(2, Math.floor(seqLen / 2 + rng.uniform() * (seqLen / 2)));
    const tokens = Int32Array.from({ length: len }, (_, j) => (j === 0 ? CLS : BYTE_OFFSET + 97 + label * 8 + Math.floor(rng.uniform() * 8)));
    return { tokens, label };
  });
  const split = splitExamples(examples, DATA_SEED, { validation: 0.125, test: 0.125 });
  return { name: 'toy', vocab: BYTE_VOCAB, classes: 2, classNames: ['a-h', 'i-p'], ...split, note: 'synthetic: class 0 draws bytes a-h, class 1 bytes i-p' };
}
