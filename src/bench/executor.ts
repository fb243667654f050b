/**
 * Runs each point in a fresh child process, so its peak memory is its own and a crash or an
 * out-of-memory kill loses that point only.
 */
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type BenchPoint, type Measurement, type MeasureOptions, notMeasured } from './types.ts';

/** Measures a group of points (one, or the kernels of one size with --interleave) in one child. */
export type Executor = (points: readonly BenchPoint[], measure: MeasureOptions, signal?: AbortSignal) => Promise<Measurement[]>;

const defaultWorker = new URL('./worker.ts', import.meta.url);
const tsxLoader = import.meta.resolve('tsx');
const bundles = new Map<string, Promise<string | null>>();

/**
 * Bundles the worker into one plain-JS module (under its own checkout's node_modules/.cache, so
 * its packages, ONNX Runtime included, resolve from that checkout), once per process: a child
 * then starts in ~0.2 s instead of ~1 s of TypeScript loading. Null when bundling fails: the child
 * then loads the TypeScript through tsx.
 */
function bundled(worker: URL): Promise<string | null> {
  const key = worker.href;
  if (!bundles.has(key)) {
    const outfile = fileURLToPath(new URL(`../../node_modules/.cache/performer/worker-${process.pid}.mjs`, worker));
    const build = import('esbuild')
      .then((esbuild) => esbuild.build({ entryPoints: [fileURLToPath(worker)], outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' }))
      .then(() => {
        process.once('exit', () => rmSync(outfile, { force: true }));
        return outfile;
      })
      .catch(() => null);
    bundles.set(key, build);
  }
  return bundles.get(key)!;
}

const died = (why: string, status: Measurement['status'] = 'error') => notMeasured(status, why);

/** An executor forking `worker` (a module that answers one job over IPC). */
export function childExecutor(worker: URL = defaultWorker): Executor {
  return async (points, measure, signal) => {
    const js = await bundled(worker);
    return new Promise((resolve) => {
      let result: Measurement[] | undefined;
      const child = fork(js ?? worker, [], {
        execArgv: js ? [] : ['--import', tsxLoader],
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
