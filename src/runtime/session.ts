/**
 * The only module that imports onnxruntime-node: providers, sessions and tensors. Every path
 * into the runtime goes through {@link Session.fromGraph} (or {@link runGraph} for one run).
 */
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { RuntimeError } from '../errors.ts';
import type { DType, Graph } from '../onnx/ir.ts';
import { serializeModel } from '../onnx/serialize.ts';

import type { ExecutionProvider } from './providers.ts';

export { EXECUTION_PROVIDERS, type ExecutionProvider } from './providers.ts';

/** Session options we expose to users. */
export interface SessionConfig {
  readonly ep: ExecutionProvider;
  /** Intra-op threads; undefined lets ONNX Runtime choose (one per physical core). */
  readonly threads?: number;
  readonly profile?: boolean;
  /**
   * false: the intra-op threads sleep between runs instead of spin-waiting for the next one. A
   * process that runs several sessions in turn needs this: each session owns a thread pool, and
   * the pools of the sessions that just ran keep spinning on the cores the running one needs
   * (two alternating sessions on this 2-core machine: 48 ms per run each, against 25 ms with
   * spinning off and 25–29 ms for one session alone). Default: ONNX Runtime's (spinning).
   */
  readonly spinning?: boolean;
}

/** Host-side tensor: float data as Float32Array/Float64Array, ints as BigInt64Array. */
export interface HostTensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  /** float16 travels as IEEE half bits in a Uint16Array. */
  readonly data: Float32Array | Float64Array | BigInt64Array | Uint16Array;
}

/** ONNX Runtime names its trace <prefix>_<timestamp>.json in the temp directory; one prefix per process. */
const PROFILE_PREFIX = `performer-profile-${process.pid}`;

export const CUDA_INSTALL_HINT =
  'the CUDA execution provider is not installed: reinstall onnxruntime-node with ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false` on a machine with CUDA 12 and cuDNN 9 (see README, "GPU")';

/** ONNX Runtime's version and the providers this binding bundles or can load. */
export function runtimeInfo(): { version: string; backends: { name: string; bundled: boolean }[] } {
  const backends = ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  return { version: ort.env.versions.common, backends };
}

/** Why a provider cannot be used here, for one clear line. */
export function unavailable(ep: ExecutionProvider): string {
  if (ep === 'cuda') return CUDA_INSTALL_HINT;
  return `the ${ep} execution provider cannot run on this machine (it needs a GPU adapter that ONNX Runtime can open; see README, "GPU")`;
}

/** True when the provider's library is present, without starting a session. */
export function providerAvailable(ep: ExecutionProvider): boolean {
  if (ep === 'cpu') return true;
  return ort.listSupportedBackends().some((b) => b.name === ep && b.bundled);
}

/** ONNX Runtime's options for a session of `config`. */
export function sessionOptions(config: SessionConfig): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: config.ep === 'cuda' ? [{ name: 'cuda', deviceId: 0 }] : [config.ep],
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    enableProfiling: config.profile ?? false,
    ...(config.profile ? { profileFilePrefix: join(tmpdir(), PROFILE_PREFIX) } : {}),
    ...(config.threads !== undefined ? { intraOpNumThreads: config.threads, interOpNumThreads: 1 } : {}),
    ...(config.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  };
}

/** A loaded model: feeds are prepared once and reused across timed runs (no per-run copies). */
export class Session {
  private constructor(
    private readonly inner: ort.InferenceSession,
    readonly config: SessionConfig,
  ) {}

  static async create(model: Uint8Array, config: SessionConfig): Promise<Session> {
    if (!providerAvailable(config.ep)) throw new RuntimeError(unavailable(config.ep));
    const options = sessionOptions(config);
    try {
      return new Session(await ort.InferenceSession.create(model, options), config);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (config.ep !== 'cpu') throw new RuntimeError(`${unavailable(config.ep)} (ONNX Runtime said: ${firstLine(msg)})`);
      throw new RuntimeError(`ONNX Runtime could not load the model: ${firstLine(msg)}`);
    }
  }

  /** Serialises an IR graph and loads it: the one door from a graph into ONNX Runtime. */
  static fromGraph(graph: Graph, config: SessionConfig): Promise<Session> {
    return Session.create(serializeModel(graph), config);
  }

  get inputNames(): readonly string[] {
    return this.inner.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.inner.outputNames;
  }

  /** Wraps host tensors once, so timed runs do not copy inputs. */
  prepare(feeds: Record<string, HostTensor>): PreparedFeeds {
    const out: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      if (!this.inputNames.includes(name)) throw new RuntimeError(`'feeds' contains invalid input name: ${name}`);
      out[name] = new ort.Tensor(t.dtype, t.data, [...t.dims]);
    }
    return { tensors: out };
  }

  /** Runs the model; returns host copies of the outputs. */
  async run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    const result = await this.runRaw(this.prepare(feeds));
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = { dtype: t.type as DType, dims: [...t.dims], data: t.data as HostTensor['data'] };
      t.dispose?.();
    }
    return out;
  }

  /** Runs without converting outputs: the timed path. Returns once the provider has finished. */
  async runRaw(prepared: PreparedFeeds): Promise<ort.InferenceSession.ReturnType> {
    try {
      return await this.inner.run(prepared.tensors);
    } catch (e) {
      throw new RuntimeError(`ONNX Runtime failed while running the model: ${firstLine(e instanceof Error ? e.message : String(e))}`);
    }
  }

  /** Ends profiling; returns the path of ONNX Runtime's JSON trace (named from our prefix). */
  async endProfiling(): Promise<string> {
    await this.inner.endProfiling();
    const traces = readdirSync(tmpdir()).filter((f) => f.startsWith(PROFILE_PREFIX) && f.endsWith('.json'));
    const newest = traces.map((f) => join(tmpdir(), f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    if (!newest) throw new RuntimeError('ONNX Runtime wrote no profile trace');
    return newest;
  }

  async release(): Promise<void> {
    await this.inner.release();
  }
}

export interface PreparedFeeds {
  readonly tensors: Record<string, ort.Tensor>;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/** Builds a session for `graph`, runs it once on `feeds` and releases it: host copies of the outputs. */
export async function runGraph(graph: Graph, feeds: Record<string, HostTensor>, config: SessionConfig): Promise<Record<string, HostTensor>> {
  const session = await Session.fromGraph(graph, config);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}
