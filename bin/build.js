// Compiles the TypeScript sources into dist/ with the project's own TypeScript (tsc), once, and
// again only when a source is newer than the last build. `npm run build` forces it; the
// performer command calls ensureBuilt() before it starts, so a fresh clone builds on first use
// (npm's install scripts are off in .npmrc, see README "Install").
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const path = (p) => fileURLToPath(new URL(p, root));
const stamp = path('dist/.built');
const lock = path('dist/.build-lock');

/** The newest modification time (ms) of the files the build reads. */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  if (!existsSync(path('src'))) return 0; // an installed package: dist/ is all there is
  walk(path('src'));
  walk(path('experiments'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) newest = Math.max(newest, statSync(path(f)).mtimeMs);
  return newest;
}

const builtAt = () => (existsSync(stamp) ? Number(readFileSync(stamp, 'utf8')) || 0 : 0);

function compile(sources) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    process.stderr.write(
      'performer: dist/ is missing or older than the sources, and TypeScript is not installed: run `npm ci` (with dev dependencies), then `npm run build`\n',
    );
    process.exit(2);
  }
  const r = spawnSync(process.execPath, [tsc, '-p', path('tsconfig.build.json')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    process.stderr.write('performer: the build failed (see above)\n');
    rmSync(lock, { recursive: true, force: true }); // process.exit skips ensureBuilt's finally
    process.exit(1);
  }
  writeFileSync(stamp, String(sources));
}

/** Builds when dist/ is missing or stale; one build at a time (others wait for it). */
export function ensureBuilt(force = false) {
  const sources = newestSource();
  if (!force && builtAt() >= sources) return;
  mkdirSync(path('dist'), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true }); // a build that died
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      if (!force && builtAt() >= sources) return; // another process built it meanwhile
    }
  }
  try {
    if (force || builtAt() < sources) {
      if (process.stderr.isTTY) process.stderr.write('performer: compiling the TypeScript sources into dist/ (once, about 10 s)\n');
      compile(sources);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) ensureBuilt(process.argv.includes('--force'));
