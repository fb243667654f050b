import type { ResultKind } from './kinds.ts';

/** The version of every results file's layout (results.json, journals); bumped on any incompatible change. */
export const SCHEMA_VERSION = 1;

/**
 * A results document as every command writes it: the layout version and kind first, then the
 * environment, options, records and kind-specific parts in the caller's order.
 */
export function makeDocument<K extends ResultKind, F extends { environment: unknown; options: unknown; records: unknown[] }>(
  kind: K,
  fields: F,
): { schemaVersion: number; kind: K } & F {
  return { schemaVersion: SCHEMA_VERSION, kind, ...fields };
}
