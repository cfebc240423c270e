// The IMAP pass against a real Dovecot when single mails misbehave: a read that throws, a read
// that never settles, a mail too big to download, and a stop (SIGTERM) while a read hangs. The
// reader is injected (it delegates to the real one for ordinary mail), so each misbehaviour is
// exact; the hostile mails themselves go through the real reader in the end-to-end suite.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { readReports } from '../../src/reader/index.ts';
import type { ReadReports } from '../../src/ingest/pipeline.ts';
import { runImapPass, mailboxStateKey, type ImapConfig, type MailboxState } from '../../src/sources/imap.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { distinctAggregateMail, mailboxCounts, testClient } from '../support/mail.ts';
import { freshSqliteStore, storeTotals } from '../ingest/totals.ts';

let dovecot: DovecotServer;
beforeAll(async () => {
  dovecot = await startDovecot();
});
afterAll(async () => {
  if (dovecot) await disposeDovecot(dovecot);
});

function imapConfig(account: { user: string; password: string }): ImapConfig {
  return loadConfig({
    IMAP_HOST: dovecot.host,
    IMAP_PORT: String(dovecot.port),
    IMAP_USER: account.user,
    IMAP_PASSWORD: account.password,
    IMAP_TLS: 'off',
  });
}

/** A report mail with a test header that tells the injected reader how to misbehave. */
function mailWith(behaviour: string, n: number): Buffer {
  return Buffer.concat([Buffer.from(`X-Test-Behaviour: ${behaviour}\r\n`), distinctAggregateMail(n)]);
}

const never = new Promise<never>(() => undefined);

/** The real reader, except for mails marked to throw or to hang; `reads` records every call. */
function injectedReader(reads: string[]): ReadReports {
  return async (bytes, options) => {
    reads.push(options.source);
    const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
    if (head.includes('X-Test-Behaviour: throw')) throw new Error('the parser blew up');
    if (head.includes('X-Test-Behaviour: hang')) return never;
    return readReports(bytes, options);
  };
}

async function append(account: { user: string; password: string }, mails: Buffer[]) {
  const client = await testClient(dovecot, account);
  for (const mail of mails) await client.append('INBOX', mail);
  await client.logout();
}

async function countsOf(account: { user: string; password: string }) {
  const client = await testClient(dovecot, account);
  const counts = await mailboxCounts(client);
  await client.logout();
  return counts;
}

describe('an IMAP pass with misbehaving mail', () => {
  it('moves a mail whose read throws, hangs or that is too big to DMARC/Invalid with its reason, and goes on', async () => {
    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    await append(account, [
      distinctAggregateMail(1),
      mailWith('throw', 2),
      distinctAggregateMail(3),
      mailWith('hang', 4),
      Buffer.concat([distinctAggregateMail(5), Buffer.alloc(300_000, 'x')]),
      distinctAggregateMail(6),
    ]);
    const reads: string[] = [];
    const summary = await runImapPass(imapConfig(account), store, {
      read: injectedReader(reads),
      // long enough for a cold first read on a loaded machine, short for the hanging one
      readDeadlineMs: 2000,
      maxMailBytes: 200_000,
    });
    expect(summary).toMatchObject({ messages: 6, processed: 3, invalid: 3, new: 3, duplicates: 0 });
    const reasons = Object.fromEntries(summary.errors.map((error) => [error.source, error.message]));
    expect(reasons['imap:INBOX/2']).toMatch(/could not be read: the parser blew up/);
    expect(reasons['imap:INBOX/4']).toMatch(/could not be read: reading took longer than/);
    expect(reasons['imap:INBOX/5']).toMatch(/more than the 200000 a report mail may have/);
    // the big mail was never downloaded or read
    expect(reads).not.toContain('imap:INBOX/5');
    expect(await countsOf(account)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 3, 'DMARC/Invalid': 3 });
    expect((await storeTotals(store)).reports).toHaveLength(3);
    await store.close();
  });

  it('stops at once when told to while a read hangs, leaving that mail and the rest in INBOX', async () => {
    const account = dovecot.user();
    const { store } = await freshSqliteStore();
    await append(account, [
      distinctAggregateMail(11),
      distinctAggregateMail(12),
      mailWith('hang', 13),
      distinctAggregateMail(14),
    ]);
    const config = imapConfig(account);
    const stop = new AbortController();
    const reads: string[] = [];
    const read = injectedReader(reads);
    const pass = runImapPass(config, store, {
      // the deadline is far away: only the stop can end the hanging read
      readDeadlineMs: 600_000,
      signal: stop.signal,
      read: (bytes, options) => {
        if (options.source === 'imap:INBOX/3') setTimeout(() => stop.abort(), 200);
        return read(bytes, options);
      },
    });
    const summary = await pass;
    expect(summary).toMatchObject({ messages: 2, processed: 2, invalid: 0, new: 2 });
    expect(await countsOf(account)).toMatchObject({ INBOX: 2, 'DMARC/Processed': 2 });
    expect((await store.getState<MailboxState>(mailboxStateKey(config)))?.lastUid).toBe(2);

    // the next pass takes the rest (the hanging mail behaves now), nothing twice
    const rest = await runImapPass(config, store, {});
    expect(rest).toMatchObject({ messages: 2, new: 2, duplicates: 0 });
    expect((await storeTotals(store)).reports).toHaveLength(4);
    await store.close();
  });
});
