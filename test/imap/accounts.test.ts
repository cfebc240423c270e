// Several mailboxes in one instance (IMAP_ACCOUNTS) against a real Dovecot: two users' mailboxes
// emptied into one store with exact figures (a report mailed to both is stored once), each with its
// own pass state, one unreachable account not stopping the others, and the watcher's metrics per
// account.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, mailboxesOf } from '../../src/config.ts';
import { ingestInput } from '../../src/ingest/pipeline.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { checkHealth } from '../../src/metrics/health.ts';
import { mailboxStateKey, runImapPasses, watchMailboxes, type MailboxState } from '../../src/sources/imap.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { distinctAggregateMail, mailboxCounts, mailWithoutReport, testClient } from '../support/mail.ts';
import { freePort } from '../support/ports.ts';
import { skipWithout } from '../support/servers.ts';
import { sample } from '../metrics/scrape.ts';
import { freshSqliteStore, storeTotals } from '../ingest/totals.ts';
import { runCli } from '../ingest/run-cli.ts';

const noDovecot = skipWithout('dovecot');
let dovecot: DovecotServer;

beforeAll(async () => {
  if (!noDovecot) dovecot = await startDovecot();
});
afterAll(async () => {
  if (dovecot) await disposeDovecot(dovecot);
});

async function countsOf(user: string) {
  const client = await testClient(dovecot, { user, password: dovecot.user().password });
  const counts = await mailboxCounts(client);
  await client.logout();
  return counts;
}

/** The store's figures after ingesting these mails straight from bytes, each once. */
async function referenceTotals(mails: Buffer[]) {
  const { store } = await freshSqliteStore();
  for (const [index, bytes] of mails.entries()) await ingestInput({ source: `ref-${index}`, bytes }, { store });
  await store.flush();
  const totals = await storeTotals(store);
  await store.close();
  return totals;
}

describe.skipIf(noDovecot)('several mailboxes in one instance', () => {
  it('empties two mailboxes into one store: exact figures, nothing counted twice, each its own state', async () => {
    const main = dovecot.user().user;
    const work = dovecot.user().user;
    const unreachable = await freePort();
    // report 302 was mailed to both addresses: one report, stored once
    const mainMails = [distinctAggregateMail(301), distinctAggregateMail(302), mailWithoutReport()];
    const workMails = [distinctAggregateMail(302), distinctAggregateMail(303), distinctAggregateMail(304)];
    dovecot.deliver(main, mainMails);
    dovecot.deliver(work, workMails);
    const config = loadConfig({
      IMAP_ACCOUNTS: 'broken, main,work',
      IMAP_HOST: dovecot.host,
      IMAP_PORT: String(dovecot.port),
      IMAP_PASSWORD: dovecot.user().password,
      IMAP_TLS: 'off',
      IMAP_MAIN_USER: main,
      IMAP_WORK_USER: work,
      IMAP_WORK_PROCESSED_FOLDER: 'Reports/Done',
      // first in the list and down: the others are read all the same
      IMAP_BROKEN_USER: 'nobody',
      IMAP_BROKEN_PORT: String(unreachable),
      RETENTION_DAYS: '0',
    });
    const accounts = mailboxesOf(config);
    expect(accounts.map((account) => [account.IMAP_ACCOUNT, account.IMAP_USER])).toEqual([
      ['broken', 'nobody'],
      ['main', main],
      ['work', work],
    ]);
    const { store } = await freshSqliteStore();

    const passes = await runImapPasses(accounts, store, { clientOptions: { connectionTimeout: 3000 } });
    expect(passes.map((pass) => [pass.account, pass.ok])).toEqual([
      ['broken', false],
      ['main', true],
      ['work', true],
    ]);
    const [broken, first, second] = passes;
    expect(broken!.ok || broken!.error).toMatch(/ECONNREFUSED|connect/i);
    expect(first!.ok && first!.summary).toMatchObject({ messages: 3, new: 2, duplicates: 0, processed: 2, invalid: 1 });
    expect(second!.ok && second!.summary).toMatchObject({ messages: 3, new: 2, duplicates: 1, processed: 3 });

    // the store holds what one clean ingest of the four distinct reports gives
    expect(await storeTotals(store)).toEqual(
      await referenceTotals([301, 302, 303, 304].map((n) => distinctAggregateMail(n))),
    );
    expect((await storeTotals(store)).reports).toHaveLength(4);
    expect(await countsOf(main)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 2, 'DMARC/Invalid': 1 });
    expect(await countsOf(work)).toMatchObject({ INBOX: 0, 'Reports/Done': 3 });
    // each account keeps its own place in its own mailbox
    const [, mainAccount, workAccount] = accounts;
    expect((await store.getState<MailboxState>(mailboxStateKey(mainAccount!)))?.lastUid).toBe(3);
    expect((await store.getState<MailboxState>(mailboxStateKey(workAccount!)))?.lastUid).toBe(3);

    // a second run finds nothing new anywhere
    const again = await runImapPasses(accounts.slice(1), store, {});
    expect(again.map((pass) => pass.ok && pass.summary.messages)).toEqual([0, 0]);
    expect((await storeTotals(store)).reports).toHaveLength(4);
    await store.close();
  });

  it('watches every mailbox at once, with connection and pass metrics per account', async () => {
    const main = dovecot.user().user;
    const work = dovecot.user().user;
    const config = loadConfig({
      IMAP_ACCOUNTS: 'main,work,broken',
      IMAP_HOST: dovecot.host,
      IMAP_PORT: String(dovecot.port),
      IMAP_PASSWORD: dovecot.user().password,
      IMAP_TLS: 'off',
      IMAP_MAIN_USER: main,
      IMAP_WORK_USER: work,
      IMAP_BROKEN_USER: 'nobody',
      IMAP_BROKEN_PORT: String(await freePort()),
      RETENTION_DAYS: '0',
    });
    const accounts = mailboxesOf(config);
    const metrics = createMetrics({ imapAccounts: accounts.map((a) => a.IMAP_ACCOUNT), processMetrics: false });
    const { store } = await freshSqliteStore();
    dovecot.deliver(main, [distinctAggregateMail(311)]);
    dovecot.deliver(work, [distinctAggregateMail(312), distinctAggregateMail(311)]);
    const stop = new AbortController();
    const watching = watchMailboxes(
      accounts,
      store,
      { observer: metrics.observer, backoffInitialMs: 100, backoffMaxMs: 200 },
      stop.signal,
    );
    const until = async (what: () => Promise<boolean>) => {
      const deadline = Date.now() + 30_000;
      while (!(await what())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const lastPass = async (account: string) =>
      sample(await metrics.scrape(), 'dmarc_imap_last_success_timestamp_seconds', { account }) ?? 0;
    await until(async () => (await lastPass('main')) > 0 && (await lastPass('work')) > 0);
    let exposition = await metrics.scrape();
    expect(sample(exposition, 'dmarc_imap_connected', { account: 'main' })).toBe(1);
    expect(sample(exposition, 'dmarc_imap_connected', { account: 'work' })).toBe(1);
    expect(sample(exposition, 'dmarc_imap_connected', { account: 'broken' })).toBe(0);
    expect(await lastPass('broken')).toBe(0);
    expect(metrics.imapState()).toMatchObject({ connected: false, lastPass: null, down: ['broken'] });
    const health = await checkHealth({
      store,
      mailbox: { leading: () => true, state: () => metrics.imapState(), maxPassAgeMs: 60_000 },
    });
    expect(health.mailbox).toEqual({ ok: false, detail: 'not connected: broken' });

    // new mail in one mailbox while both are watched
    const client = await testClient(dovecot, { user: main, password: dovecot.user().password });
    await client.append('INBOX', distinctAggregateMail(313));
    await client.logout();
    await until(async () => (await storeTotals(store)).reports.length === 3);

    stop.abort();
    await watching;
    exposition = await metrics.scrape();
    expect(sample(exposition, 'dmarc_imap_connected', { account: 'main' })).toBe(0);
    expect(await storeTotals(store)).toEqual(
      await referenceTotals([311, 312, 313].map((n) => distinctAggregateMail(n))),
    );
    expect(await countsOf(main)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 2 });
    expect(await countsOf(work)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 2 });
    await store.close();
  });

  it('ingest --imap reads every account, prints a line for each, and exits 1 when one failed', async () => {
    const main = dovecot.user().user;
    const work = dovecot.user().user;
    dovecot.deliver(main, [distinctAggregateMail(321)]);
    dovecot.deliver(work, [distinctAggregateMail(322), distinctAggregateMail(321)]);
    const { dir } = await freshSqliteStore();
    const env = {
      DMARC_STORE: `sqlite://${dir}/cli.sqlite`,
      IMAP_ACCOUNTS: 'main,down,work',
      IMAP_HOST: dovecot.host,
      IMAP_PORT: String(dovecot.port),
      IMAP_PASSWORD: dovecot.user().password,
      IMAP_TLS: 'off',
      IMAP_MAIN_USER: main,
      IMAP_WORK_USER: work,
      IMAP_DOWN_USER: 'nobody',
      IMAP_DOWN_PORT: String(await freePort()),
    };
    const result = await runCli(['ingest', '--imap'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('mailbox main (INBOX): 1 messages, 1 processed, 0 without a report');
    expect(result.stdout).toContain('mailbox work (INBOX): 2 messages, 2 processed, 0 without a report');
    expect(result.stdout).toContain('ingested 1 reports (1 duplicates, 0 errors)');
    expect(result.stderr).toMatch(/error: the mailbox of account down on 127\.0\.0\.1 could not be processed/);
    expect(await countsOf(main)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 1 });
    expect(await countsOf(work)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 2 });
  });
});
