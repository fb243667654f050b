/** The error pipeline: options → sweep (or leak probe) → results document and files. */
import { collectEnvironment } from '../environment.ts';
import { SCHEMA_VERSION } from '../results/version.ts';
import { type ErrorDocument, type ErrorOptions, runErrorSweep, type SweepHooks } from './sweep.ts';

/** An error sweep over one or more input scales σ (each a sweep of its own, with the same seeds). */
export type ErrorRequest = Omit<ErrorOptions, 'inputScale'> & { readonly inputScales: readonly number[] };

/** Runs the sweep at each input scale into one results document (the environment read as it starts). */
export async function runErrorRequest(req: ErrorRequest, hooks: SweepHooks = {}): Promise<ErrorDocument> {
  const environment = collectEnvironment();
  const records = [];
  for (const inputScale of req.inputScales) records.push(...(await runErrorSweep({ ...req, inputScale }, hooks)));
  return { schemaVersion: SCHEMA_VERSION, kind: 'error', environment, options: req, records };
}
