/** The environment a result was produced in: recorded in every results file. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { runtimeInfo } from './runtime/session.ts';

export interface Environment {
  readonly performerVersion: string;
  readonly gitCommit: string | null;
  /** Whether tracked files differed from gitCommit when the run started (null: not a checkout). */
  readonly gitDirty: boolean | null;
  readonly onnxruntimeVersion: string;
  readonly backends: { name: string; bundled: boolean }[];
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly nodeVersion: string;
  readonly os: string;
  readonly commandLine: string;
  /** When the run started. */
  readonly timestamp: string;
}

const root = new URL('..', import.meta.url);

function git(args: readonly string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

export function projectVersion(): string {
  return (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string }).version;
}

export function collectEnvironment(argv: readonly string[] = process.argv): Environment {
  const rt = runtimeInfo();
  const dirty = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    performerVersion: projectVersion(),
    gitCommit: git(['rev-parse', 'HEAD']) || null,
    gitDirty: dirty === null ? null : dirty !== '',
    onnxruntimeVersion: rt.version,
    backends: rt.backends,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    nodeVersion: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    commandLine: ['performer', ...argv.slice(2)].join(' '),
    timestamp: new Date().toISOString(),
  };
}
