/** The error pipeline: options → sweep (or leak probe) → results document and files. */
import { collectEnvironment } from '../environment.ts';
import { SCHEMA_VERSION } from '../results/read.ts';
import { type ErrorDocument, type ErrorOptions, runErrorSweep, type SweepHooks } from './sweep.ts';

/** Runs the sweep into a results document (the environment read as it starts). */
export async function runErrorRequest(opts: ErrorOptions, hooks: SweepHooks = {}): Promise<ErrorDocument> {
  const environment = collectEnvironment();
  const records = await runErrorSweep(opts, hooks);
  return { schemaVersion: SCHEMA_VERSION, kind: 'error', environment, options: opts, records };
}
