/** The version of every results file's layout (results.json, journals); bumped on any incompatible change. */
export const SCHEMA_VERSION = 1;
