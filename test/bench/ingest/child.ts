// The measured part of bench:ingest, in its own process so that its peak RSS is its own: one IMAP
// pass configured by the environment like `ingest --imap`. ingest.bench.ts bundles this file with
// the command's build options (build.ts), so the pass runs the same bundled code as the service.
// Prints one JSON line: messages, reports, seconds, CPU seconds (all threads) and peak RSS.
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../../src/config.ts';
import { runImapPass } from '../../../src/sources/imap.ts';
import { openStore } from '../../../src/store/index.ts';
import type { ReportStore } from '../../../src/store/types.ts';

const config = loadConfig();
// BENCH_DISCARD_STORE: the same pass with store writes thrown away, to tell IMAP + reader cost from store cost
const discard = process.env.BENCH_DISCARD_STORE === '1';
const state = new Map<string, unknown>();
const store = discard
  ? ({
      ingest: async () => 'new',
      flush: async () => undefined,
      getState: async (name: string) => state.get(name),
      setState: async (name: string, value: unknown) => void state.set(name, value),
      close: async () => undefined,
    } as unknown as ReportStore)
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
