/**
 * Runs each point in a fresh child process, so its peak memory is its own and a crash or an
 * out-of-memory kill loses that point only.
 */
import { fork } from 'node:child_process';
import { type BenchPoint, type Measurement, type MeasureOptions, notMeasured } from './types.ts';

/** Measures a group of points (one, or the kernels of one size with --interleave) in one child. */
export type Executor = (points: readonly BenchPoint[], measure: MeasureOptions, signal?: AbortSignal) => Promise<Measurement[]>;

/**
 * The worker beside this module: compiled JavaScript when running from dist/ (started in ~0.2 s),
 * or the TypeScript source through tsx's loader when running from src/ (tests, development).
 */
const compiled = import.meta.url.endsWith('.js');
const defaultWorker = new URL(compiled ? './worker.js' : './worker.ts', import.meta.url);

/** How a worker module is started: JavaScript as it is, TypeScript through tsx (a development dependency). */
function execArgvFor(worker: URL): string[] {
  return worker.pathname.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
}

const died = (why: string, status: Measurement['status'] = 'error') => notMeasured(status, why);

/** An executor forking `worker` (a module that answers one job over IPC). */
export function childExecutor(worker: URL = defaultWorker): Executor {
  return async (points, measure, signal) => {
    return new Promise((resolve) => {
      let result: Measurement[] | undefined;
      const child = fork(worker, [], {
        execArgv: execArgvFor(worker),
        env: { ...process.env, PERFORMER_BENCH_JOB: JSON.stringify({ points, measure }) },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      child.on('message', (m) => (result = m as Measurement[]));
      // Ctrl-C or SIGTERM of the run: the measurement in flight is abandoned, its process ended.
      const stop = () => child.kill('SIGKILL');
      signal?.addEventListener('abort', stop, { once: true });
      child.on('exit', () => signal?.removeEventListener('abort', stop));
      const all = (m: Measurement) => points.map(() => m);
      child.on('error', (e) => resolve(all(died(`could not start the measurement process: ${e.message}`))));
      child.on('exit', (code, signal) => {
        if (result) return resolve(result);
        const last = stderr.trim().split('\n').filter(Boolean).at(-1) ?? '';
        // The kernel's OOM killer ends a process with SIGKILL; we record that as oom.
        if (signal === 'SIGKILL') return resolve(all(died('the measurement process was killed (SIGKILL: out of memory?)', 'oom')));
        resolve(all(died(`the measurement process died (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`)));
      });
    });
  };
}
