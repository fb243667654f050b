/**
 * The project's error classes. Only the CLI entry point turns them into messages and exit codes:
 * a {@link UsageError} exits 2 with one line, every other failure exits 1.
 */

/** A mistake in the user's input: names the flag and what is allowed. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A malformed graph, caught while building it; the message names the node. */
export class GraphError extends Error {
  override readonly name = 'GraphError';
}

/** ONNX Runtime (or a provider) could not do what was asked. Exit code 1. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
}

/** Builds a usage error of the standard shape: `--flag: problem (allowed: ...)`. */
export function usage(flag: string, problem: string, allowed?: string): UsageError {
  return new UsageError(oneLine(`${flag}: ${problem}${allowed ? ` (allowed: ${allowed})` : ''}`));
}

/**
 * A message on one line: line breaks (a JSON parser's excerpt of the file, a library's message)
 * are written as `\n`, so a usage error stays the one line the user sees.
 */
export function oneLine(message: string): string {
  return message.replace(/\r?\n/g, '\\n');
}
