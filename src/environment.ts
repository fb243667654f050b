/** The environment a result was produced in: recorded in every results file. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { runtimeInfo } from './runtime/session.ts';
import { onnxruntimeVersion, PROJECT_ROOT, projectVersion } from './version.ts';

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

const root = PROJECT_ROOT;

function git(args: readonly string[], cwd: URL = root): string | null {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

export { projectVersion } from './version.ts';

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

/**
 * The environment of another checkout measured on this machine (relative runs): its own version,
 * commit and ONNX Runtime version (from its node_modules), this machine's hardware.
 */
export function checkoutEnvironment(checkout: URL, argv: readonly string[] = process.argv): Environment {
  const here = collectEnvironment(argv);
  const dirty = git(['status', '--porcelain', '--untracked-files=no'], checkout);
  return {
    ...here,
    performerVersion: projectVersion(checkout),
    gitCommit: git(['rev-parse', 'HEAD'], checkout) || null,
    gitDirty: dirty === null ? null : dirty !== '',
    onnxruntimeVersion: onnxruntimeVersion(checkout),
  };
}
