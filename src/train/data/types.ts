/**
 * What a classification data set looks like to `performer train`, and the byte-level token ids that
 * every text data set shares (the e-mails and the user's own `--data`), so one model fits them all.
 */

/** Padding id: batches are padded with it and attention masks it out. */
export const PAD = 0;

/** Classification id: the first token of every text sequence; the model pools its output at position 0. */
export const CLS = 1;

/** Byte b (0-255) has id b + BYTE_OFFSET: ids 0 and 1 are taken by {@link PAD} and {@link CLS}. */
export const BYTE_OFFSET = 2;

/** Vocabulary of the byte-level tokenisation: 256 bytes plus padding and CLS. */
export const BYTE_VOCAB = 256 + BYTE_OFFSET;

/** One labelled sequence. */
export interface Example {
  /** Token ids, unpadded: [CLS, bytes…] for text; length ≤ the loader's maxLen. */
  tokens: Int32Array;
  /** Class id in [0, classes). */
  label: number;
}

/** A labelled data set with a fixed train/validation/test split. */
export interface Dataset {
  /** Short name for tables and file names, e.g. `spam`. */
  name: string;
  /** Number of token ids (258 for byte-level text). */
  vocab: number;
  /** Number of classes. */
  classes: number;
  /** Class names by id (classNames[label]). */
  classNames: string[];
  train: Example[];
  validation: Example[];
  test: Example[];
  /** Provenance and preprocessing, one line: where the data came from and what was done to it. */
  note: string;
  /**
   * How a sequence longer than a row is cut: absent, its beginning (text: the opening says most);
   * `random`, a random window in training (seeded by seed and step) and the beginning in evaluation.
   */
  crop?: 'random';
  /** Masked language modelling (`--objective mlm`): the mask id, the first maskable id, and the ids [randomLo, randomHi) a random replacement draws from. */
  masking?: MaskingSpec;
}

export interface MaskingSpec {
  readonly mask: number;
  /** Ids ≥ this can be chosen for prediction (special tokens below it never are). */
  readonly firstMaskable: number;
  readonly randomLo: number;
  readonly randomHi: number;
}

/** Held-out shares of each class, each in [0, 1) with validation + test < 1; the rest is training data. */
export interface SplitFractions {
  validation: number;
  test: number;
}

/** What every text loader needs: the sequence budget and the split. */
export interface TextLoadOptions {
  /** Maximum tokens per example, CLS included (longer texts keep their beginning). */
  maxLen: number;
  /** Seed of the split's shuffles. */
  seed: number;
  /** Held-out shares; DEFAULT_FRACTIONS (text.ts) when absent. */
  fractions?: SplitFractions;
}
