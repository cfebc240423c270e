// Acceptance tests of the IMAP source against a real Dovecot: backlog, rerun, invalid mail,
// flag mode, a connection cut mid-batch, a UIDVALIDITY change, and the IDLE watcher reconnecting.

import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/servers.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import {
  runImapPass,
  watchMailbox,
  mailboxStateKey,
  backoffDelay,
  type ImapConfig,
  type MailboxState,
} from '../../src/sources/imap.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { corpusMail, distinctAggregateMail, mailWithoutReport, mailboxCounts, testClient } from '../support/mail.ts';
import { freshSqliteStore, storeTotals } from '../ingest/totals.ts';

let dovecot: DovecotServer;
// the reconnect backoff tests below need no server
const noDovecot = skipWithout('dovecot');

beforeAll(async () => {
  if (!noDovecot) dovecot = await startDovecot();
});

afterAll(async () => {
  if (dovecot) await disposeDovecot(dovecot);
});

function imapConfig(account: { user: string; password: string }, overrides: Record<string, string> = {}): ImapConfig {
  return loadConfig({
    IMAP_HOST: dovecot.host,
    IMAP_PORT: String(dovecot.port),
    IMAP_USER: account.user,
    IMAP_PASSWORD: account.password,
    IMAP_TLS: 'off',
    ...overrides,
  });
}

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

async function appendAll(
  account: { user: string; password: string },
  mails: Buffer[],
  mailbox = 'INBOX',
): Promise<void> {
  const client = await testClient(dovecot, account);
  for (const mail of mails) await client.append(mailbox, mail);
  await client.logout();
}

async function countsOf(account: { user: string; password: string }) {
  const client = await testClient(dovecot, account);
  const counts = await mailboxCounts(client);
  await client.logout();
  return counts;
}

/**
 * Corpus files of every container kind, each with the number of reports that are new to a store
 * that has seen the files before it in this list (by the store's dedupe rules).
 */
const BACKLOG: Array<[file: string, newReports: number]> = [
  ['aggregate/!example.com!1538204542!1538463818.xml', 1],
  ['aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml', 1],
  ['aggregate/empty_reason.xml', 1],
  ['aggregate/estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip', 1],
  ['aggregate/example.net!example.com!1529366400!1529452799.xml', 1],
  ['aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz', 1],
  ['aggregate/ikea.com!example.de!1538690400!1538776800.xml', 1],
  ['aggregate/old_draft_from_wiki.xml', 1],
  ['aggregate/protection.outlook.com!example.com!1711756800!1711843200.xml', 1],
  ['aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml', 1],
  // rfc9990-sample.xml is left out: it is dated 1979, before DMARC, and the reader refuses it (see
  // test/reader/corpus.test.ts, which reads a copy moved into the window)
  ['aggregate/usssa.com!example.com!1538784000!1538870399.xml', 1],
  ['aggregate/veeam.com!example.com!1530133200!1530219600.xml', 1],
  ['aggregate/!large-example.com!1711897200!1711983600.xml', 1],
  ['aggregate/Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml', 1],
  ['aggregate/twilight.eml', 1],
  ['aggregate/mimecast-weird-gzip.eml', 1],
  ['aggregate_invalid/report_with_upper_cased_pass.xml', 1],
  // the same report plain, gzip'd and zipped: one new, then two duplicates
  ['extract_report/nice-input.xml', 1],
  ['extract_report/nice-input.xml.gz', 0],
  ['extract_report/nice-input.xml.zip', 0],
  // another sender org: a different report
  ['extract_report/changed-input.xml', 1],
  ['failure/DMARC Failure Report for domain.de (mail-from=sharepoint@domain.de, ip=10.10.10.10).eml', 1],
  ['failure/[Netease DMARC Failure Report] Rent Reminder.eml', 1],
  // the same LinkedIn report with LF and with CRLF line endings
  ['failure/dmarc_ruf_report_linkedin.eml', 1],
  ['failure/dmarc_ruf_report_linkedin.crlf.eml', 0],
  ['smtp_tls/google.com_smtp_tls_report.eml', 1],
  ['smtp_tls/mail.ru.json', 1],
  ['smtp_tls/rfc8460.json', 1],
  ['smtp_tls/smtp_tls.json', 1],
];
const expectedNew = BACKLOG.reduce((sum, [, n]) => sum + n, 0);

describe.skipIf(noDovecot)('IMAP source against a real Dovecot', () => {
  it('ingests a backlog of every container kind, moves it to DMARC/Processed, and a rerun stores nothing new', async () => {
    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    const { logger, lines } = memoryLogger();
    await appendAll(account, [...BACKLOG.map(([file]) => corpusMail(file)), mailWithoutReport('Lunch on Friday?')]);

    const first = await runImapPass(imapConfig(account), store, { logger, chunkSize: 7 });
    expect(first.messages).toBe(BACKLOG.length + 1);
    expect(first.new).toBe(expectedNew);
    expect(first.duplicates).toBe(BACKLOG.length - expectedNew);
    expect(first.processed).toBe(BACKLOG.length);
    expect(first.invalid).toBe(1);
    expect(await countsOf(account)).toMatchObject({ INBOX: 0, 'DMARC/Processed': BACKLOG.length, 'DMARC/Invalid': 1 });
    // the invalid message's reason is logged with the message it belongs to
    const invalidUid = BACKLOG.length + 1;
    const invalidLog = lines.find(
      (line) => line.source === `imap:INBOX/${invalidUid}` && typeof line.reason === 'string',
    );
    expect(invalidLog?.reason).toMatch(/report/i);
    const totals = await storeTotals(store);
    expect(totals.reports).toHaveLength(expectedNew);

    // a second pass finds nothing; the same mails delivered again are all duplicates
    const second = await runImapPass(imapConfig(account), store, { logger });
    expect(second).toMatchObject({ messages: 0, new: 0 });
    await appendAll(
      account,
      BACKLOG.map(([file]) => corpusMail(file)),
    );
    const third = await runImapPass(imapConfig(account), store, { logger });
    expect(third).toMatchObject({ messages: BACKLOG.length, new: 0, duplicates: BACKLOG.length, invalid: 0 });
    expect(await storeTotals(store)).toEqual(totals);
    await store.close();
  });

  it('with IMAP_ACTION=flag leaves mail in place, marks it seen, and skips it next time', async () => {
    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    await appendAll(account, [distinctAggregateMail(1), distinctAggregateMail(2), mailWithoutReport()]);
    const config = imapConfig(account, { IMAP_ACTION: 'flag' });

    const first = await runImapPass(config, store, {});
    expect(first).toMatchObject({ messages: 3, new: 2, processed: 2, invalid: 1 });
    const client = await testClient(dovecot, account);
    await client.mailboxOpen('INBOX');
    const flags = await client.fetchAll('1:*', { uid: true, flags: true }, { uid: true });
    expect(flags.map((m) => m.flags?.has('\\Seen'))).toEqual([true, true, true]);
    expect(Object.keys(await mailboxCounts(client))).toEqual(['INBOX']);
    await client.append('INBOX', distinctAggregateMail(3));
    await client.logout();

    const second = await runImapPass(config, store, {});
    expect(second).toMatchObject({ messages: 1, new: 1, duplicates: 0 });
    await store.close();
  });

  it('loses and doubles nothing when the server goes away in the middle of a batch', async () => {
    const mails = Array.from({ length: 120 }, (_, n) => distinctAggregateMail(n));

    // reference: one clean run into a fresh store
    const cleanAccount = dovecot.user();
    const clean = await freshSqliteStore();
    await appendAll(cleanAccount, mails);
    await runImapPass(imapConfig(cleanAccount), clean.store, {});
    const expected = await storeTotals(clean.store);
    expect(expected.reports).toHaveLength(120);
    await clean.store.close();

    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    await appendAll(account, mails);
    let killed: Promise<void> | undefined;
    const cut = runImapPass(imapConfig(account), store, {
      chunkSize: 50,
      onProgress: ({ done }) => {
        // mid second chunk: the first chunk is durable and moved, the second is in hand
        if (done === 70 && !killed) killed = dovecot.kill();
      },
    });
    await expect(cut).rejects.toThrow();
    await killed;
    await dovecot.restart();

    const counts = await countsOf(account);
    expect(counts['DMARC/Processed']).toBe(50);
    expect(counts.INBOX).toBe(70);

    const resumed = await runImapPass(imapConfig(account), store, {});
    expect(resumed.messages).toBe(70);
    expect(await storeTotals(store)).toEqual(expected);
    expect(await countsOf(account)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 120 });
    await store.close();
  });

  it('moves nothing while the store cannot make the reports durable', async () => {
    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    await appendAll(account, [distinctAggregateMail(300), distinctAggregateMail(301), mailWithoutReport()]);
    // the real store, except that its flush fails (a full disk, a lost database connection)
    const broken = {
      ...store,
      ingest: store.ingest.bind(store),
      getState: store.getState.bind(store),
      setState: store.setState.bind(store),
      flush: async () => Promise.reject(new Error('disk full')),
    };

    await expect(runImapPass(imapConfig(account), broken, {})).rejects.toThrow(/disk full/);
    const counts = await countsOf(account);
    expect(counts.INBOX).toBe(3);
    expect(counts['DMARC/Processed'] ?? 0).toBe(0);
    expect(counts['DMARC/Invalid'] ?? 0).toBe(0);
    expect(await store.getState(mailboxStateKey(imapConfig(account)))).toBeUndefined();

    const retried = await runImapPass(imapConfig(account), store, {});
    expect(retried).toMatchObject({ messages: 3, processed: 2, invalid: 1 });
    expect(await countsOf(account)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 2, 'DMARC/Invalid': 1 });
    await store.close();
  });

  it('rescans safely when UIDVALIDITY changes', async () => {
    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    const config = imapConfig(account, { IMAP_MAILBOX: 'Reports', IMAP_ACTION: 'flag' });
    const client = await testClient(dovecot, account);
    await client.mailboxCreate('Reports');
    for (let n = 0; n < 4; n++) await client.append('Reports', distinctAggregateMail(100 + n));

    const first = await runImapPass(config, store, {});
    expect(first).toMatchObject({ messages: 4, new: 4 });
    const before = await store.getState<MailboxState>(mailboxStateKey(config));
    expect(before?.lastUid).toBe(4);

    // the mailbox is recreated: the same mails plus new ones get UIDs from 1 again under a new UIDVALIDITY
    await client.mailboxDelete('Reports');
    await client.mailboxCreate('Reports');
    for (let n = 0; n < 6; n++) await client.append('Reports', distinctAggregateMail(100 + n));
    await client.logout();

    const second = await runImapPass(config, store, {});
    expect(second.uidValidity).not.toBe(before?.uidValidity);
    // without the rescan, UIDs 1..4 of the new mailbox would be taken for the old ones and skipped
    expect(second).toMatchObject({ messages: 6, new: 2, duplicates: 4 });
    expect(await store.getState<MailboxState>(mailboxStateKey(config))).toEqual({
      uidValidity: second.uidValidity,
      lastUid: 6,
    });
    expect((await storeTotals(store)).reports).toHaveLength(6);
    await store.close();
  });

  it('watches with IDLE, reconnects after the server restarts, and stops cleanly on abort', async () => {
    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    // a long poll interval: new mail must be noticed through IDLE, not the poll
    const config = imapConfig(account, { IMAP_POLL_SECONDS: '3600' });
    const stop = new AbortController();
    let seen = 0;
    let passes = 0;
    const watching = watchMailbox(
      config,
      store,
      { backoffInitialMs: 50, backoffMaxMs: 500, onPass: (s) => ((seen += s.new), (passes += 1)) },
      stop.signal,
    );
    const waitFor = async (what: () => boolean) => {
      while (!what()) await new Promise((r) => setTimeout(r, 50));
    };

    await waitFor(() => passes >= 1);
    await appendAll(account, [distinctAggregateMail(200), distinctAggregateMail(201)]);
    await waitFor(() => seen >= 2);

    await dovecot.kill();
    await dovecot.restart();
    await appendAll(account, [distinctAggregateMail(202)]);
    await waitFor(() => seen >= 3);

    stop.abort();
    await watching;
    expect(seen).toBe(3);
    expect((await storeTotals(store)).reports).toHaveLength(3);
    expect(await countsOf(account)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 3 });
    await store.close();
  });
});

describe.skipIf(noDovecot)('IMAP source: stopping and transport security', () => {
  it('on abort in the middle of a pass finishes the message in hand, acknowledges what is stored and stops', async () => {
    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    await appendAll(
      account,
      Array.from({ length: 20 }, (_, n) => distinctAggregateMail(400 + n)),
    );
    const config = imapConfig(account);
    const stop = new AbortController();
    const passes: number[] = [];
    await watchMailbox(
      config,
      store,
      { chunkSize: 50, onProgress: ({ done }) => done === 5 && stop.abort(), onPass: (s) => passes.push(s.messages) },
      stop.signal,
    );

    expect(passes).toEqual([5]);
    expect(await countsOf(account)).toMatchObject({ INBOX: 15, 'DMARC/Processed': 5 });
    expect((await store.getState<MailboxState>(mailboxStateKey(config)))?.lastUid).toBe(5);
    expect((await storeTotals(store)).reports).toHaveLength(5);

    // the next pass takes the rest, nothing twice
    const rest = await runImapPass(config, store, {});
    expect(rest).toMatchObject({ messages: 15, new: 15, duplicates: 0 });
    await store.close();
  });

  it('with IMAP_TLS=starttls refuses a server that does not offer STARTTLS instead of logging in in cleartext', async () => {
    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    await expect(runImapPass(imapConfig(account, { IMAP_TLS: 'starttls' }), store, {})).rejects.toThrow();
    expect(dovecot.log()).not.toContain(`user=<${account.user}>`);
    await store.close();
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially, stays within the cap, and is jittered', () => {
    const delays = [0, 1, 2, 3, 10].map((attempt) => backoffDelay(attempt, 1000, 8000, () => 1));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(backoffDelay(3, 1000, 8000, () => 0)).toBe(4000);
  });
});
