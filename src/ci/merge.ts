/** Joining the shards of one sweep: overlapping points or different options are refused. */
import type { Roofline } from '../bench/roofline.ts';
import { finishBench } from '../bench/run.ts';
import type { BenchDocument, BenchRecord } from '../bench/types.ts';
import type { ErrorDocument, ErrorRecord } from '../error/sweep.ts';
import { usage } from '../errors.ts';
import { warn } from '../report/terminal.ts';
import { errorKey, pointKey } from '../results/keys.ts';
import type { ResultsFile } from '../results/read.ts';

const withoutShard = (o: Record<string, unknown>) => JSON.stringify({ ...o, shard: undefined });

export function mergeResults(files: readonly ResultsFile[], names: readonly string[]): BenchDocument | ErrorDocument {
  const first = files[0]!;
  files.forEach((f, i) => {
    if (f.kind !== first.kind) throw usage(names[i]!, `is a ${f.kind} file; ${names[0]} is ${first.kind}`);
    if (withoutShard(f.options) !== withoutShard(first.options)) throw usage(names[i]!, `was run with other options than ${names[0]}: not shards of one sweep`);
  });
  const seen = new Map<string, string>();
  const records: unknown[] = [];
  files.forEach((f, i) => {
    for (const r of f.records) {
      const key = first.kind === 'bench' ? pointKey(r as BenchRecord) : errorKey(r as ErrorRecord);
      const other = seen.get(key);
      if (other) throw usage(names[i]!, `overlaps ${other} at ${key}`);
      seen.set(key, names[i]!);
      records.push(r);
    }
  });
  const cpus = new Set(files.map((f) => String(f.environment.cpuModel)));
  if (cpus.size > 1) warn(`the shards ran on different CPUs (${[...cpus].join(', ')}): compare timings across them with care`);
  const options = { ...first.options, shard: undefined };
  const environments = files.map((f) => f.environment);
  if (first.kind === 'error') return { schemaVersion: first.schemaVersion, kind: 'error', environment: first.environment, environments, options, records: records as ErrorRecord[] };
  const roofline = (first as unknown as { roofline: Roofline | null }).roofline;
  return finishBench(records as BenchRecord[], { environment: first.environment, environments, options, roofline });
}
