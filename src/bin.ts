#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
// The installed `dmarc-bot` command: `npm ci` bundles this into dist/src/bin.js (build.ts).
// The memory settings in the shebang are explained in src/bin.mjs.
import nodeModule from 'node:module';
import { setFlagsFromString } from 'node:v8';

// Node 22.1 and later keep the compiled code of loaded modules on disk between runs (a one-shot
// `ask` loads a few dozen chunks of the bundle); older versions have no such cache. Enabled before
// the command's modules load, so they are the ones cached.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// `ask` answers one question and exits: its few hot loops (a busy month's rows) run once each. V8
// compiles such a loop with TurboFan on another thread by default while the slower code goes on
// running it, and compiles some of them twice; compiled at once instead, `ask ready` on a busy
// year's store took about 10% less CPU and no more time (Node 20; `ask ip`, `date` and `sources`
// about the same). Without TurboFan at all it took 15% less CPU but more time where a core is free,
// and `ask ip` more of both. The long-running commands keep V8's defaults. (V8 reads the flag
// whenever it optimizes; Node leaves flags settable after start.)
if (process.argv[2] === 'ask') setFlagsFromString('--no-concurrent-osr');
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
