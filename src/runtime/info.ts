/** Which execution providers really load on this machine ("bundled" is not "loadable"). */
import { spawn } from 'node:child_process';
import { GraphBuilder } from '../onnx/builder.ts';
import { serializeModel } from '../onnx/serialize.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider, providerAvailable, sessionOptions, unavailable } from './session.ts';

export interface ProviderStatus {
  name: ExecutionProvider;
  loadable: boolean;
  error?: string;
}

/**
 * Loads a one-node model on `ep` in a child process and returns ONNX Runtime's error, or null.
 * A child, because a provider that fails to find its device writes native warnings and a C++
 * location (`at operator() (…BackendVk.cpp:368)`) straight to file descriptor 2, where no log
 * level of ours reaches: in a child they land in a pipe we read and drop.
 */
function probeInChild(ep: ExecutionProvider): Promise<string | null> {
  const b = new GraphBuilder('probe');
  const model = Buffer.from(serializeModel(b.build([b.named(b.exp(b.input('x', [1])), 'y')]))).toString('base64');
  const script = `
    const ort = await import(process.argv[1]);
    try {
      const s = await ort.InferenceSession.create(Buffer.from(process.argv[2], 'base64'), JSON.parse(process.argv[3]));
      await s.release();
      process.stdout.write(JSON.stringify({ ok: true }));
    } catch (e) {
      process.stdout.write(JSON.stringify({ ok: false, error: String(e?.message ?? e) }));
    }`;
  const args = ['--input-type=module', '-e', script, import.meta.resolve('onnxruntime-node'), model, JSON.stringify(sessionOptions({ ep }))];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.resume(); // the native lines: read and dropped
    child.on('error', (e) => resolve(e.message));
    child.on('close', (code, signal) => {
      try {
        const r = JSON.parse(out) as { ok: boolean; error?: string };
        resolve(r.ok ? null : (r.error ?? 'unknown error'));
      } catch {
        resolve(`the probe process ended with ${signal ?? `exit code ${code}`}`);
      }
    });
  });
}

/** ONNX Runtime's reason in a few words: the sentence after its source location and failed check. */
export function shortReason(message: string): string {
  const line = message.split('\n').find((l) => l.trim()) ?? message;
  const after = /\bwas false\.\s*(.+)$/.exec(line)?.[1] ?? line.replace(/^\S+\.(?:cc|cpp|h):\d+\s+/, '');
  return after.length > 160 ? `${after.slice(0, 157)}…` : after;
}

const problems = new Map<ExecutionProvider, Promise<string | null>>();

/**
 * Whether `ep` really starts a session here: null, or the reason it cannot, in one line. Asked
 * once per process (the answer cannot change while it runs).
 */
export function providerProblem(ep: ExecutionProvider): Promise<string | null> {
  if (ep === 'cpu') return Promise.resolve(null);
  if (!providerAvailable(ep)) return Promise.resolve(unavailable(ep));
  let p = problems.get(ep);
  if (!p) {
    p = probeInChild(ep).then((error) => (error === null ? null : `${unavailable(ep)}; ONNX Runtime said: ${shortReason(error)}`));
    problems.set(ep, p);
  }
  return p;
}

/** Tries a one-node session on each provider we support. */
export async function probeProviders(): Promise<ProviderStatus[]> {
  const providers: ProviderStatus[] = [];
  for (const name of EXECUTION_PROVIDERS) {
    const error = await providerProblem(name);
    providers.push(error === null ? { name, loadable: true } : { name, loadable: false, error });
  }
  return providers;
}
