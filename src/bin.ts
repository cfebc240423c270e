#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
// The installed `dmarc-bot` command: `npm ci` compiles this to dist/src/bin.js (tsconfig.build.json).
// The memory settings in the shebang are explained in src/bin.mjs.
import { main } from './cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
