/** The last step of a bench run or a merge: derived figures and the summary, as one results document. */
import type { Environment } from '../environment.ts';
import { makeDocument } from '../results/version.ts';
import { deriveRecords } from './derive.ts';
import { crossovers, exponents } from './summary.ts';
import type { BenchDocument, BenchRecord, MachineLimits, Roofline } from './types.ts';

/** Derived figures and summary over measured records: the document bench and merge both write. */
export function finishBench(
  records: readonly BenchRecord[],
  meta: {
    environment: Environment | Record<string, unknown>;
    options: Record<string, unknown>;
    roofline: Roofline | null;
    /** The rates the records' limitMs were priced at. */
    limits?: MachineLimits | null;
    environments?: readonly unknown[];
  },
): BenchDocument {
  const derived = deriveRecords(records, meta.roofline?.matmulGflops ?? null);
  return makeDocument('bench', {
    environment: meta.environment,
    ...(meta.environments ? { environments: meta.environments } : {}),
    options: meta.options,
    roofline: meta.roofline,
    ...(meta.limits !== undefined ? { limits: meta.limits } : {}),
    summary: { crossovers: crossovers(derived), exponents: exponents(derived) },
    records: derived,
  });
}
