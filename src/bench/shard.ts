/** Deterministic sharding: item k of the canonical grid order goes to shard (k mod n) + 1. */
import { usage } from '../errors.ts';

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export function parseShard(raw: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(raw.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw usage('--shard', `'${raw}' is not i/n with 1 ≤ i ≤ n`, 'e.g. 2/4');
  return { index, count };
}

export function takeShard<T>(items: readonly T[], shard: Shard | null): T[] {
  return shard ? items.filter((_, k) => k % shard.count === shard.index - 1) : [...items];
}
