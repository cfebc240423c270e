// A child `dmarc-bot ingest --imap` killed with SIGKILL in the middle of its batches (reads ahead
// in the reader's threads, stores in order), then run to the end against the same real Dovecot
// mailbox: every mail ends in DMARC/Processed once, and the store holds exactly what one clean
// run stores: nothing lost, nothing counted twice.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportMailBacklog } from '../../src/generate/index.ts';
import { openStore } from '../../src/store/index.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { mailboxCounts, testClient } from '../support/mail.ts';
import { skipWithout } from '../support/servers.ts';
import { runCli, startCli } from './run-cli.ts';
import { storeTotals, type StoreTotals } from './totals.ts';

const MAILS = 400;
const noDovecot = skipWithout('dovecot');
let dovecot: DovecotServer;
const mails: Buffer[] = [];
let expectedReports = 0;

beforeAll(async () => {
  for (const mail of reportMailBacklog({ seed: 'imap-crash', count: MAILS, minRecords: 1, maxRecords: 80 })) {
    mails.push(mail.raw);
    expectedReports += mail.reports;
  }
  if (!noDovecot) dovecot = await startDovecot();
});

afterAll(async () => {
  if (dovecot) await disposeDovecot(dovecot);
});

function freshStoreUrl(): string {
  return `sqlite://${join(mkdtempSync(join(tmpdir(), 'dmarc-imap-crash-')), 'store.sqlite')}`;
}

async function totalsOf(url: string): Promise<StoreTotals> {
  const store = await openStore(url);
  try {
    return await storeTotals(store);
  } finally {
    await store.close();
  }
}

async function filledAccount() {
  const account = dovecot.user();
  dovecot.deliver(account.user, mails);
  const env = {
    IMAP_HOST: dovecot.host,
    IMAP_PORT: String(dovecot.port),
    IMAP_USER: account.user,
    IMAP_PASSWORD: account.password,
    IMAP_TLS: 'off',
  };
  return { account, env };
}

describe.skipIf(noDovecot)('ingest --imap killed with SIGKILL', () => {
  it('ends with every mail processed once and the totals of one clean run', { timeout: 600_000 }, async () => {
    const cleanUrl = freshStoreUrl();
    const clean = await filledAccount();
    const cleanRun = await runCli(['ingest', '--imap'], { ...clean.env, DMARC_STORE: cleanUrl });
    expect(cleanRun.code).toBe(0);
    expect(cleanRun.stdout).toContain(`ingested ${expectedReports} reports (0 duplicates, 0 errors)`);
    const expected = await totalsOf(cleanUrl);
    expect(expected.reports).toHaveLength(expectedReports);

    const url = freshStoreUrl();
    const { account, env } = await filledAccount();
    const watcher = await testClient(dovecot, account);
    const processed = async () => {
      // the folder exists only after the first run created it
      const status = await watcher.status('DMARC/Processed', { messages: true }).catch(() => false as const);
      return status ? (status.messages ?? 0) : 0;
    };
    let kills = 0;
    // Each run is killed a little after it acknowledged a batch, so the kill lands while the
    // next batch is being fetched, read ahead and stored.
    for (const delayMs of [0, 150, 400]) {
      const before = await processed();
      if (before >= MAILS) break;
      const run = startCli(['ingest', '--imap'], { ...env, DMARC_STORE: url });
      let exited = false;
      void run.done.then(() => (exited = true));
      while (!exited && (await processed()) === before) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      run.child.kill('SIGKILL');
      const result = await run.done;
      if (result.signal === 'SIGKILL') kills += 1;
      // what the server holds is never lost: a mail is in INBOX or in DMARC/Processed
      const counts = await mailboxCounts(watcher);
      expect((counts.INBOX ?? 0) + (counts['DMARC/Processed'] ?? 0)).toBe(MAILS);
    }
    expect(kills).toBeGreaterThanOrEqual(2);

    const last = await runCli(['ingest', '--imap'], { ...env, DMARC_STORE: url });
    expect(last.code).toBe(0);
    expect(await mailboxCounts(watcher)).toMatchObject({ INBOX: 0, 'DMARC/Processed': MAILS });
    await watcher.logout();
    expect(await totalsOf(url)).toEqual(expected);
  });
});
