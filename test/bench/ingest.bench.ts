// `npm run bench:ingest [-- --quick]`: IMAP ingest speed and memory against a real Dovecot.
// For each size N: generate N report mails, deliver them to a fresh mailbox, then run one ingest
// pass in a child process (test/bench/ingest/child.ts, bundled like the command, so its peak RSS is its own)
// and print messages/s, CPU time per message and peak RSS, each goal next to its figure.
// parsedmarc cannot be installed here: its figure is quoted as measured elsewhere, not run.
// `--quick` (CI): 200 and 1,000 mails, no store write cost section.

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportMailBacklog } from '../../src/generate/index.ts';
import { runIngestChild as runChildAt, type ChildResult } from './ingest/run-child.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const childDir = join(root, 'dist/bench/ingest');
const childScript = join(childDir, 'child.js');

const GOALS = { messagesPerSecond: 300, peakRssMb: 250, flatWithin: 0.2 };
/** parsedmarc reading the same kind of mailbox on this kind of machine, measured outside this run */
const PARSEDMARC = { messagesPerSecond: 70, peakRssMb: 390 };

const runChild = (env: Record<string, string>) => runChildAt(childScript, env);

const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
const rate = (result: ChildResult) => result.messages / result.seconds;

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? [200, 1000] : [2000, 10_000];
  // the pass as the service runs it: bundled with the command's options, with its reader worker beside it
  const { bundleOptions, commandEntryPoints } = await import('../../build.ts');
  const { build } = await import('esbuild');
  rmSync(childDir, { recursive: true, force: true });
  await build({
    ...bundleOptions,
    entryPoints: { child: 'test/bench/ingest/child.ts', worker: commandEntryPoints.worker },
    outdir: childDir,
  });
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  process.stdout.write(
    `machine: ${availableParallelism()} cores (${cpu}), Node ${process.versions.node}, load average ${loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}\n`,
  );
  const { startDovecot, disposeDovecot } = await import('../support/dovecot.ts');
  const { testClient } = await import('../support/mail.ts');
  const dovecot = await startDovecot();
  const results: Array<ChildResult & { n: number; withoutStore: ChildResult }> = [];
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
      results.push({ ...result, n, withoutStore });
      process.stdout.write(
        `N=${n}: ${rate(result).toFixed(0)} messages/s (${result.seconds.toFixed(1)} s, ${result.reports} reports), ` +
          `${((result.cpuSeconds * 1000) / result.messages).toFixed(1)} ms CPU a message, peak RSS ${result.maxRssMb.toFixed(0)} MB\n` +
          `N=${n}: without store writes (IMAP fetch + reader only): ${rate(withoutStore).toFixed(0)} messages/s, ` +
          `${((withoutStore.cpuSeconds * 1000) / withoutStore.messages).toFixed(1)} ms CPU a message, peak RSS ${withoutStore.maxRssMb.toFixed(0)} MB\n`,
      );
    }
  } finally {
    await disposeDovecot(dovecot);
  }

  process.stdout.write(
    `\nload average at the end: ${loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}\n`,
  );
  process.stdout.write(quick ? 'goals (quick run: the goals are set for 2,000 and 10,000 mails):\n' : 'goals:\n');
  for (const result of results) {
    process.stdout.write(
      `  ${result.n} mails: >= ${GOALS.messagesPerSecond} messages/s: ${rate(result).toFixed(0)} (${verdict(rate(result) >= GOALS.messagesPerSecond)}); ` +
        `peak RSS < ${GOALS.peakRssMb} MB: ${result.maxRssMb.toFixed(0)} MB (${verdict(result.maxRssMb < GOALS.peakRssMb)})\n`,
    );
  }
  const [small, large] = [results[0]!, results[results.length - 1]!];
  const rateDrop = 1 - rate(large) / rate(small);
  const rssGrowth = large.maxRssMb / small.maxRssMb - 1;
  process.stdout.write(
    `  flat from ${small.n} to ${large.n} mails (within ${GOALS.flatWithin * 100} %): messages/s ${rateDrop <= 0 ? '+' : '-'}${Math.abs(rateDrop * 100).toFixed(0)} % (${verdict(rateDrop <= GOALS.flatWithin)}), ` +
      `peak RSS ${rssGrowth >= 0 ? '+' : '-'}${Math.abs(rssGrowth * 100).toFixed(0)} % (${verdict(rssGrowth <= GOALS.flatWithin)})\n`,
  );
  const slowest = results.reduce((worst, result) => (rate(result) < rate(worst) ? result : worst));
  const biggest = results.reduce((worst, result) => (result.maxRssMb > worst.maxRssMb ? result : worst));
  process.stdout.write(
    `\nparsedmarc (measured elsewhere on this kind of machine, NOT in this run: about ${PARSEDMARC.messagesPerSecond} messages/s at ${PARSEDMARC.peakRssMb} MB):\n` +
      `  ours against that figure: ${(rate(slowest) / PARSEDMARC.messagesPerSecond).toFixed(1)}x its speed (slowest size), ` +
      `${(biggest.maxRssMb / PARSEDMARC.peakRssMb).toFixed(2)}x its memory (largest peak)\n`,
  );
  if (quick) return;

  // the store's own write cost per record and backend (test/bench/store.bench.ts)
  const { measureStoreWriteCost } = await import('./store.bench.ts');
  process.stdout.write(`\nstore write cost per record:\n${await measureStoreWriteCost()}\n`);
}

await main();
