/** The error pipeline: options → sweep (or leak probe) → results document and files. */
import { collectEnvironment } from '../environment.ts';
import { makeDocument } from '../results/version.ts';
import { type ErrorDocument, type ErrorOptions, type EstimatorPath, runErrorSweep, type SweepHooks } from './sweep.ts';

/**
 * An error sweep over one or more input scales σ and estimator paths (graph, exact), each a sweep
 * of its own with the same seeds, so every pair of them compares seed by seed.
 */
export type ErrorRequest = Omit<ErrorOptions, 'inputScale' | 'estimator'> & {
  readonly inputScales: readonly number[];
  readonly estimators?: readonly EstimatorPath[];
};

/** Runs the sweep at each input scale and estimator path into one results document (the environment read as it starts). */
export async function runErrorRequest(req: ErrorRequest, hooks: SweepHooks = {}): Promise<ErrorDocument> {
  const environment = collectEnvironment();
  const records = [];
  const { estimators = ['graph'], inputScales, ...rest } = req;
  for (const inputScale of inputScales) for (const estimator of estimators) records.push(...(await runErrorSweep({ ...rest, inputScale, estimator }, hooks)));
  return makeDocument('error', { environment, options: req, records });
}
