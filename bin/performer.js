#!/usr/bin/env node
// Runs the compiled JavaScript in dist/, building it first when it is missing or older than the
// sources (bin/build.js): no TypeScript loader at run time.
import { ensureBuilt } from './build.js';

ensureBuilt();
await import('../dist/src/cli.js');
