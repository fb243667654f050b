/**
 * Protein sequences from a FASTA file (plain or gzip), for `performer train --task fasta`.
 *
 * Tokens (`PROTEIN_VOCAB` = 29): padding 0, sequence start 1 (the shared CLS id), mask 2, sequence
 * end 3, then the 20 standard residues and the rare or ambiguous ones X, B, Z, U, O (ids 4..28), in
 * the order of google-research's protein_lm vocabulary (standard residues alphabetically, then the
 * non-standard ones). A sequence becomes [start, residues…, end].
 *
 * Reading: lines are streamed (a gzip file is recognised by its magic bytes, not its name); a
 * record's wrapped lines are joined; lower case is upper-cased; a single trailing `*` (a stop
 * codon some tools write) is dropped; records with no residues are skipped and counted. Any other
 * character refuses the file, naming the record, the position and the character: a silently
 * mapped `-` or digit would mean the file is not what the user thinks (an alignment, a nucleotide
 * file with numbers), and a protein set with such characters is rare enough to clean by hand.
 *
 * Split: exact duplicate sequences are dropped (the first is kept), then a seeded shuffle assigns
 * whole sequences to training, validation and test, so no protein (or a window of it) is in two
 * splits. Windows are cut at batch time (src/train/batches.ts): a random window in training, the
 * sequence's beginning in evaluation.
 */
import { createReadStream, existsSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { usage } from '../../errors.ts';
import { Rng } from '../../random.ts';
import { CLS, type Dataset, type Example } from './types.ts';

/** The 20 standard residues, then X (any), B (D/N), Z (E/Q), U (selenocysteine), O (pyrrolysine). */
export const RESIDUES = 'ACDEFGHIKLMNPQRSTVWYXBZUO';
export const STANDARD_RESIDUES = 20;
/** Mask id of the masked language model. */
export const MASK = 2;
/** End-of-sequence id. */
export const SEQ_END = 3;
/** Residue r (index in RESIDUES) has id r + RESIDUE_OFFSET. */
export const RESIDUE_OFFSET = 4;
export const PROTEIN_VOCAB = RESIDUE_OFFSET + RESIDUES.length;
/** Token names by id, for tables and tests. */
export const PROTEIN_TOKENS: readonly string[] = ['<pad>', '<start>', '<mask>', '<end>', ...RESIDUES];

/** The UniProt sample Debian's mmseqs2-examples package installs: the default --data of --task fasta. */
export const DEBIAN_FASTA = '/usr/share/doc/mmseqs2/example-data/DB.fasta.gz';
export const DEBIAN_FASTA_PACKAGE = 'mmseqs2-examples';

/** Held-out shares by sequence: 5% each (1,000 sequences of the Debian file's 20,000). */
export const FASTA_FRACTIONS = { validation: 0.05, test: 0.05 } as const;

export interface FastaRecord {
  /** The header's first word, without `>`. */
  readonly id: string;
  /** Upper-case residues. */
  readonly sequence: string;
}

export interface FastaFile {
  readonly records: FastaRecord[];
  /** Records whose sequence was empty (skipped). */
  readonly empty: number;
}

const residueId = new Map([...RESIDUES].map((c, i) => [c, i + RESIDUE_OFFSET]));

/** Whether `path` starts with gzip's magic bytes 1f 8b. */
function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * Every record of a FASTA file, streamed line by line. `debianPath` is the file whose absence
 * names the Debian package to install (a parameter so tests can make it missing).
 * @throws UsageError naming `--data` for a missing, unreadable, empty, corrupt or non-FASTA file, or a character outside {@link RESIDUES}
 */
export async function readFasta(path: string, debianPath = DEBIAN_FASTA): Promise<FastaFile> {
  if (!existsSync(path)) {
    if (path === debianPath)
      throw usage(
        '--data',
        `${path} is missing: it comes with Debian's ${DEBIAN_FASTA_PACKAGE} package`,
        `apt-get install ${DEBIAN_FASTA_PACKAGE}, or --data <file.fasta[.gz]>`,
      );
    throw usage('--data', `${path} does not exist`, 'a FASTA file, plain or .gz');
  }
  if (statSync(path).isDirectory()) throw usage('--data', `${path} is a directory`, 'a FASTA file, plain or .gz');
  const gz = isGzip(path);
  const source = createReadStream(path);
  const stream = gz ? source.pipe(createGunzip()) : source;
  const records: FastaRecord[] = [];
  let empty = 0;
  let id: string | null = null;
  let parts: string[] = [];
  let lineNo = 0;
  const finish = () => {
    if (id === null) return;
    let seq = parts.join('');
    if (seq.endsWith('*')) seq = seq.slice(0, -1);
    if (!seq.length) empty++;
    else {
      for (let i = 0; i < seq.length; i++) {
        if (!residueId.has(seq[i]!))
          throw usage('--data', `${path}: record ${id} has '${seq[i]}' at residue ${i + 1}`, `the letters ${RESIDUES} (any case), a trailing *`);
      }
      records.push({ id, sequence: seq });
    }
  };
  const streamError = new Promise<never>((_, reject) => {
    const fail = (e: Error) =>
      reject(gz ? usage('--data', `${path} is not a valid gzip file (${e.message})`) : usage('--data', `cannot read ${path} (${e.message})`));
    source.on('error', fail);
    if (gz) stream.on('error', fail);
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const read = (async () => {
    for await (const raw of lines) {
      lineNo++;
      const line = raw.trim();
      if (!line) continue;
      if (line.startsWith('>')) {
        finish();
        id = line.slice(1).split(/\s+/)[0] || `(line ${lineNo})`;
        parts = [];
      } else if (line.startsWith(';')) {
        continue; // old-style FASTA comment
      } else {
        if (id === null) throw usage('--data', `${path} is not FASTA: line ${lineNo} comes before any '>' header`, 'a FASTA file, plain or .gz');
        parts.push(line.replace(/\s+/g, '').toUpperCase());
      }
    }
    finish();
  })();
  await Promise.race([read, streamError]);
  if (!records.length) throw usage('--data', `${path} holds no FASTA record with residues${empty ? ` (${empty} empty)` : ''}`, 'a FASTA file, plain or .gz');
  return { records, empty };
}

/** [start, residue ids…, end] of one sequence. */
export function proteinTokens(sequence: string): Int32Array {
  const t = new Int32Array(sequence.length + 2);
  t[0] = CLS;
  for (let i = 0; i < sequence.length; i++) t[i + 1] = residueId.get(sequence[i]!)!;
  t[sequence.length + 1] = SEQ_END;
  return t;
}

/**
 * The FASTA file as a language-model data set: deduplicated, split by sequence with `seed`.
 * Examples carry whole sequences; batches cut windows.
 */
export async function loadFasta(path: string, seed: number): Promise<Dataset> {
  const { records, empty } = await readFasta(path);
  const seen = new Set<string>();
  const unique = records.filter((r) => (seen.has(r.sequence) ? false : (seen.add(r.sequence), true)));
  const order = unique.map((_, i) => i);
  const rng = new Rng(seed + 0xfa57a);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const n = unique.length;
  const held = (f: number) => (n >= 3 ? Math.max(1, Math.round(n * f)) : 0);
  const nv = held(FASTA_FRACTIONS.validation);
  const nt = held(FASTA_FRACTIONS.test);
  const ex = (i: number): Example => ({ tokens: proteinTokens(unique[i]!.sequence), label: 0 });
  const lengths = unique.map((r) => r.sequence.length).sort((a, b) => a - b);
  const residues = lengths.reduce((a, b) => a + b, 0);
  return {
    name: 'fasta',
    vocab: PROTEIN_VOCAB,
    classes: 1,
    classNames: ['sequence'],
    validation: order.slice(0, nv).map(ex),
    test: order.slice(nv, nv + nt).map(ex),
    train: order.slice(nv + nt).map(ex),
    crop: 'random',
    masking: { mask: MASK, firstMaskable: RESIDUE_OFFSET, randomLo: RESIDUE_OFFSET, randomHi: RESIDUE_OFFSET + STANDARD_RESIDUES },
    note: `${path}: ${records.length} records (${empty} empty skipped), ${records.length - n} duplicate sequences dropped, ${n} sequences, ${residues} residues, median length ${lengths[Math.floor(n / 2)]}; split by sequence with seed ${seed}`,
  };
}
