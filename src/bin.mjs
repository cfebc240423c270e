#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
// Development entry: runs the TypeScript sources through tsx, so a change shows without a build.
// The installed `dmarc-bot` (package.json "bin", `npm start`, deploy/dmarc-bot.service) runs the
// build of src/bin.ts in dist/ instead, which starts about twice as fast.
// The shebang keeps the long-running bot small on a home server: a 4 MB young generation and two
// malloc arenas cut peak memory by about 50 MB for a few per cent of ingest speed (see README,
// Benchmarks). src/bin.ts, `npm start` and deploy/dmarc-bot.service use the same settings.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
