// Loaded into a CLI child with NODE_OPTIONS=--import: every module the program imports is written,
// one resolved URL a line, to the file in MODULE_PROBE_LOG, so a test can tell what start-up loads.
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread && process.env.MODULE_PROBE_LOG)
  register('./module-probe-hooks.mjs', import.meta.url, { data: { log: process.env.MODULE_PROBE_LOG } });
