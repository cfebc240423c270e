#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
// The installed `dmarc-bot` command: `npm ci` bundles this into dist/src/bin.js (build.ts).
// The memory settings in the shebang are explained in src/bin.mjs.
import nodeModule from 'node:module';

// Node 22.1 and later keep the compiled code of loaded modules on disk between runs (a one-shot
// `ask` loads a few dozen chunks of the bundle); older versions have no such cache. Enabled before
// the command's modules load, so they are the ones cached.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
