/** Versions, read from package.json files without loading any package (so --version is instant). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** This checkout's root (two levels above a compiled module in dist/src/, one above src/). */
export const PROJECT_ROOT = new URL(import.meta.url.includes('/dist/src/') ? '../../' : '../', import.meta.url);

export function projectVersion(checkout: URL = PROJECT_ROOT): string {
  return (JSON.parse(readFileSync(new URL('package.json', checkout), 'utf8')) as { version: string }).version;
}

/** The installed onnxruntime-node's version, from its package.json (the native binding is not loaded). */
export function onnxruntimeVersion(checkout: URL = PROJECT_ROOT): string {
  try {
    const require = createRequire(new URL('package.json', checkout));
    return (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}
