/** Joining the shards of one sweep: overlapping points or different options are refused. */
import type { Roofline } from '../limit/roofline.ts';
import { finishBench } from '../bench/finish.ts';
import type { BenchDocument, BenchRecord, MachineLimits } from '../bench/types.ts';
import type { ErrorDocument, ErrorRecord } from '../error/sweep.ts';
import { usage } from '../errors.ts';
import { environmentDiff } from './verdicts.ts';
import { warn } from '../paint.ts';
import { optionDifferences } from '../results/files.ts';
import { KIND_DATA } from '../results/kinds.ts';
import type { ResultsFile } from '../results/read.ts';

/**
 * Options that differ between shards without changing what is computed: the shard itself, and
 * machine-dependent settings (the memory budget defaults to 80% of each machine's RAM; threads to
 * each machine's cores). They are kept per shard in `shardOptions`; every other option must match.
 */
const PER_SHARD = ['shard', 'memoryBudgetBytes', 'threads'] as const;
const defining = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !(PER_SHARD as readonly string[]).includes(k)));
const perShard = (o: Record<string, unknown>) => Object.fromEntries(PER_SHARD.map((k) => [k, o[k] ?? null]));

export function mergeResults(files: readonly ResultsFile[], names: readonly string[]): BenchDocument | ErrorDocument {
  const first = files[0]!;
  files.forEach((f, i) => {
    if (f.kind !== first.kind) throw usage(names[i]!, `is a ${f.kind} file; ${names[0]} is ${first.kind}`);
    const diffs = optionDifferences(defining(first.options), defining(f.options));
    if (diffs.length) throw usage(names[i]!, `was run with other options than ${names[0]} (${diffs.join('; ')}): not shards of one sweep`);
  });
  const seen = new Map<string, string>();
  const records: unknown[] = [];
  files.forEach((f, i) => {
    for (const r of f.records) {
      const key = KIND_DATA[first.kind].key!(r);
      const other = seen.get(key);
      if (other) throw usage(names[i]!, `overlaps ${other} at ${key}`);
      seen.set(key, names[i]!);
      records.push(r);
    }
  });
  files.forEach((f, i) => {
    const diffs = environmentDiff(first.environment, f.environment, first.options, f.options);
    if (i > 0 && diffs.length) warn(`${names[i]} ran in another environment than ${names[0]} (${diffs.join('; ')}): compare timings across them with care`);
  });
  const options = { ...first.options, shard: undefined, shardOptions: files.map((f) => perShard(f.options)) };
  const environments = files.map((f) => f.environment);
  if (first.kind === 'error')
    return { schemaVersion: first.schemaVersion, kind: 'error', environment: first.environment, environments, options, records: records as ErrorRecord[] };
  const { roofline, limits } = first as unknown as { roofline: Roofline | null; limits?: MachineLimits | null };
  return finishBench(records as BenchRecord[], {
    environment: first.environment,
    environments,
    options,
    roofline,
    ...(limits !== undefined ? { limits } : {}),
  });
}
