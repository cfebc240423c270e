// `npm run bench:ingest [-- --quick]`: IMAP ingest speed and memory against a real Dovecot.
// For each size N: generate N report mails, deliver them to a fresh mailbox, then run one ingest
// pass in a child process (so its peak RSS is its own) and print messages/s and peak RSS.
// Targets: >= 100 messages/s over loopback; peak RSS < 250 MB and within 20 % across sizes.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportMailBacklog } from '../../src/generate/index.ts';

const self = fileURLToPath(import.meta.url);

interface ChildResult {
  messages: number;
  reports: number;
  seconds: number;
  maxRssMb: number;
}

/** The measured part, in its own process: one IMAP pass into a fresh SQLite store. */
async function child(): Promise<void> {
  const { loadConfig } = await import('../../src/config.ts');
  const { openStore } = await import('../../src/store/index.ts');
  const { runImapPass } = await import('../../src/sources/imap.ts');
  const config = loadConfig();
  // BENCH_DISCARD_STORE: the same pass with store writes thrown away, to tell IMAP + reader cost from store cost
  const discard = process.env.BENCH_DISCARD_STORE === '1';
  const state = new Map<string, unknown>();
  const store = discard
    ? {
        ingest: async () => 'new' as const,
        flush: async () => undefined,
        getState: async <T>(name: string) => state.get(name) as T | undefined,
        setState: async (name: string, value: unknown) => void state.set(name, value),
        close: async () => undefined,
      }
    : await openStore(config.DMARC_STORE);
  const started = performance.now();
  const summary = await runImapPass(config, store, {});
  await store.flush();
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  const result: ChildResult = {
    messages: summary.messages,
    reports: summary.new + summary.duplicates,
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    // the settings the project's launchers use (src/bin.mjs shebang, npm start, the systemd unit)
    const proc = spawn(process.execPath, ['--max-semi-space-size=4', '--import', 'tsx', self, '--child'], {
      env: { ...process.env, MALLOC_ARENA_MAX: '2', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('error', reject);
    proc.once('close', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || !line) return reject(new Error(`ingest child exited with ${code}: ${out}`));
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? [200, 1000] : [2000, 10_000];
  const { startDovecot, disposeDovecot } = await import('../support/dovecot.ts');
  const { testClient } = await import('../support/mail.ts');
  const dovecot = await startDovecot();
  const results: Array<ChildResult & { n: number }> = [];
  try {
    for (const n of sizes) {
      const account = dovecot.user();
      const deliverStarted = performance.now();
      let records = 0;
      const mails = function* () {
        for (const mail of reportMailBacklog({ seed: `bench-${n}`, count: n, minRecords: 1, maxRecords: 500 })) {
          records += mail.records;
          yield mail.raw;
        }
      };
      // straight into the maildir: APPEND gets slower with every message Dovecot holds
      dovecot.deliver(account.user, mails());
      // the first SELECT assigns the UIDs; done here so the measured pass does not pay for it
      const client = await testClient(dovecot, account);
      const inbox = await client.mailboxOpen('INBOX');
      if (inbox.exists !== n) throw new Error(`N=${n}: the mailbox holds ${inbox.exists} messages`);
      await client.logout();
      process.stdout.write(
        `N=${n}: delivered ${n} mails (${records} records) in ${((performance.now() - deliverStarted) / 1000).toFixed(1)} s\n`,
      );

      const dir = mkdtempSync(join(tmpdir(), 'dmarc-bench-'));
      const env = {
        DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
        IMAP_HOST: dovecot.host,
        IMAP_PORT: String(dovecot.port),
        IMAP_USER: account.user,
        IMAP_PASSWORD: account.password,
        IMAP_TLS: 'off',
      };
      const result = await runChild(env);
      rmSync(dir, { recursive: true, force: true });
      // the same mails again, now in the processed folder, without the store's writes
      const withoutStore = await runChild({
        ...env,
        BENCH_DISCARD_STORE: '1',
        IMAP_MAILBOX: 'DMARC/Processed',
        IMAP_ACTION: 'flag',
      });
      if (result.messages !== n) throw new Error(`N=${n}: the pass saw ${result.messages} messages`);
      results.push({ ...result, n });
      process.stdout.write(
        `N=${n}: ${(result.messages / result.seconds).toFixed(0)} messages/s (${result.seconds.toFixed(1)} s, ${result.reports} reports), peak RSS ${result.maxRssMb.toFixed(0)} MB\n` +
          `N=${n}: without store writes (IMAP fetch + reader only): ${(withoutStore.messages / withoutStore.seconds).toFixed(0)} messages/s, peak RSS ${withoutStore.maxRssMb.toFixed(0)} MB\n`,
      );
    }
  } finally {
    await disposeDovecot(dovecot);
  }

  const slowest = Math.min(...results.map((r) => r.messages / r.seconds));
  const peaks = results.map((r) => r.maxRssMb);
  const spread = (Math.max(...peaks) - Math.min(...peaks)) / Math.min(...peaks);
  process.stdout.write(
    `\ntarget >= 100 messages/s: ${slowest >= 100 ? 'met' : 'MISSED'} (slowest ${slowest.toFixed(0)}/s)\n`,
  );
  process.stdout.write(
    `target peak RSS < 250 MB: ${Math.max(...peaks) < 250 ? 'met' : 'MISSED'} (max ${Math.max(...peaks).toFixed(0)} MB)\n`,
  );
  process.stdout.write(
    `target RSS within 20 % across sizes: ${spread <= 0.2 ? 'met' : 'MISSED'} (${(spread * 100).toFixed(0)} %)\n`,
  );

  // the store's own write cost per record and backend (test/bench/store.bench.ts, another module)
  const storeBench = './store.bench.ts';
  let measure: (() => Promise<unknown>) | undefined;
  try {
    measure = ((await import(storeBench)) as { measureStoreWriteCost?: () => Promise<unknown> }).measureStoreWriteCost;
  } catch {
    measure = undefined;
  }
  if (!measure) {
    process.stdout.write(
      '\nstore write cost per record: skipped (test/bench/store.bench.ts has no measureStoreWriteCost yet)\n',
    );
    return;
  }
  const cost = await measure();
  process.stdout.write(
    `\nstore write cost per record:\n${typeof cost === 'string' ? cost : JSON.stringify(cost, null, 2)}\n`,
  );
}

if (process.argv.includes('--child')) {
  await child();
} else {
  await main();
}
