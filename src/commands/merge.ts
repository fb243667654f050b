import { Command } from 'commander';
import { errorKey, type ErrorLike } from '../bench/compare.ts';
import { deriveRecords } from '../bench/derive.ts';
import type { Roofline } from '../bench/roofline.ts';
import { crossovers, exponents } from '../bench/summary.ts';
import { type BenchRecord, pointKey } from '../bench/types.ts';
import { usage } from '../errors.ts';
import { toJson } from '../report/formats.ts';
import { writeAtomic } from '../report/results.ts';
import { print, warn } from '../report/terminal.ts';
import { readResults, type ResultsFile } from './compare.ts';

const withoutShard = (o: Record<string, unknown>) => JSON.stringify({ ...o, shard: undefined });

/** Joins shards of one sweep; overlapping points or different options are refused. */
export function mergeResults(files: readonly ResultsFile[], names: readonly string[]): ResultsFile & Record<string, unknown> {
  const first = files[0]!;
  files.forEach((f, i) => {
    if (f.kind !== first.kind) throw usage(names[i]!, `is a ${f.kind} file; ${names[0]} is ${first.kind}`);
    if (withoutShard(f.options) !== withoutShard(first.options)) throw usage(names[i]!, `was run with other options than ${names[0]}: not shards of one sweep`);
  });
  const seen = new Map<string, string>();
  const records: unknown[] = [];
  files.forEach((f, i) => {
    for (const r of f.records) {
      const key = first.kind === 'bench' ? pointKey(r as BenchRecord) : errorKey(r as ErrorLike);
      const other = seen.get(key);
      if (other) throw usage(names[i]!, `overlaps ${other} at ${key}`);
      seen.set(key, names[i]!);
      records.push(r);
    }
  });
  const cpus = new Set(files.map((f) => String(f.environment.cpuModel)));
  if (cpus.size > 1) warn(`the shards ran on different CPUs (${[...cpus].join(', ')}): compare timings across them with care`);
  const options = { ...first.options, shard: undefined };
  const base = { schemaVersion: first.schemaVersion, kind: first.kind, environment: first.environment, environments: files.map((f) => f.environment), options };
  if (first.kind !== 'bench') return { ...base, records };
  const roofline = (first as unknown as { roofline: Roofline | null }).roofline;
  const derived = deriveRecords(records as BenchRecord[], roofline?.matmulGflops ?? null);
  return { ...base, roofline, summary: { crossovers: crossovers(derived), exponents: exponents(derived) }, records: derived };
}

export const mergeCommand = new Command('merge')
  .description('join the shards of one sweep (bench or error results) into one results file')
  .argument('<files...>', 'results.json files, one per shard')
  .requiredOption('-o, --output <file>', 'where to write the merged results.json')
  .action((paths: string[], o: { output: string }) => {
    const merged = mergeResults(paths.map((p, i) => readResults(p, `<files> #${i + 1} (${p})`)), paths);
    try {
      writeAtomic(o.output, toJson(merged));
    } catch (e) {
      throw usage('--output', `cannot write '${o.output}': ${(e as NodeJS.ErrnoException).code}`, 'a writable file path');
    }
    print(`merged ${paths.length} files, ${merged.records.length} records → ${o.output}`);
  });
