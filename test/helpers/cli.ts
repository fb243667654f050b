/** Runs the performer CLI in a child process (NO_COLOR set), for end-to-end tests. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const bin = new URL('../../bin/performer.js', import.meta.url).pathname;

export function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts `performer args…`, waits until `journal` holds at least `lines` lines (header included),
 * sends `signal`, and returns the exit code and what the child wrote to stderr.
 */
export async function interruptAfter(args: string[], journal: string, lines: number, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !(existsSync(journal) && readFileSync(journal, 'utf8').trim().split('\n').length >= lines))
    await new Promise((r) => setTimeout(r, 20));
  child.kill(signal);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, stderr };
}
