/** A results document as files: results.json (with samples) and results.csv, each written atomically. */
import { join } from 'node:path';
import type { BenchDocument } from '../bench/types.ts';
import type { ErrorDocument } from '../error/sweep.ts';
import { writeAtomic } from '../results/files.ts';
import { formatResults } from './output.ts';

export function writeResultsFiles(dir: string, doc: BenchDocument | ErrorDocument): void {
  writeAtomic(join(dir, 'results.json'), doc.kind === 'bench' ? formatResults(doc, 'json') : formatResults(doc, 'json'));
  writeAtomic(join(dir, 'results.csv'), doc.kind === 'bench' ? formatResults(doc, 'csv') : formatResults(doc, 'csv'));
}
