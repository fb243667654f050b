/** Runs the performer CLI in a child process (NO_COLOR set), for end-to-end tests. */
import { spawnSync } from 'node:child_process';

const bin = new URL('../../bin/performer.js', import.meta.url).pathname;

export function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
