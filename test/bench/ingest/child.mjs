// The measured part of bench:ingest, in its own process so that its peak RSS is its own: one IMAP
// pass of the build (what the service runs), configured by the environment like `ingest --imap`.
// Prints one JSON line: messages, reports, seconds, CPU seconds (all threads) and peak RSS.
import { performance } from 'node:perf_hooks';
import { fileURLToPath, URL } from 'node:url';

const dist = fileURLToPath(new URL('../../../dist/src/', import.meta.url));
const { loadConfig } = await import(`${dist}config.js`);
const { openStore } = await import(`${dist}store/index.js`);
const { runImapPass } = await import(`${dist}sources/imap.js`);

const config = loadConfig();
// BENCH_DISCARD_STORE: the same pass with store writes thrown away, to tell IMAP + reader cost from store cost
const discard = process.env.BENCH_DISCARD_STORE === '1';
const state = new Map();
const store = discard
  ? {
      ingest: async () => 'new',
      flush: async () => undefined,
      getState: async (name) => state.get(name),
      setState: async (name, value) => void state.set(name, value),
      close: async () => undefined,
    }
  : await openStore(config.DMARC_STORE);
const cpuBefore = process.cpuUsage();
const started = performance.now();
const summary = await runImapPass(config, store, {});
await store.flush();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await store.close();
process.stdout.write(
  `${JSON.stringify({
    messages: summary.messages,
    reports: summary.new + summary.duplicates,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
