#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
// The installed `dmarc-bot` command: `npm ci` bundles this into dist/src/bin.js (build.ts).
// The memory settings in the shebang are explained in src/bin.mjs.
import nodeModule from 'node:module';
import { setFlagsFromString } from 'node:v8';

// Node 22.1 and later keep the compiled code of loaded modules on disk between runs (a one-shot
// `ask` loads a few dozen chunks of the bundle); older versions have no such cache. Enabled before
// the command's modules load, so they are the ones cached.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// `ask` answers one question and exits, running each hot loop (a busy month's rows) once: V8's
// default compiles such a loop on another thread while the slow code goes on, sometimes twice.
// Compiled at once, `ask ready` on a busy year took about 10% less CPU and no more time. The
// long-running commands keep V8's defaults.
if (process.argv[2] === 'ask') setFlagsFromString('--no-concurrent-osr');
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
