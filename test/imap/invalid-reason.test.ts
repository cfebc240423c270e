// A mail without a report carries its reason into the mailbox as IMAP keywords ($DmarcBotInvalid
// and $DmarcBotReason_<code>), set before it moves to DMARC/Invalid, against a real Dovecot: also
// after a failure between setting them and the move, nothing is lost or counted twice.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { readReports } from '../../src/reader/index.ts';
import { INVALID_KEYWORD, runImapPass, type ImapConfig } from '../../src/sources/imap.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { distinctAggregateMail, mailboxCounts, mailWithoutReport, testClient } from '../support/mail.ts';
import { skipWithout } from '../support/servers.ts';
import { freshSqliteStore, storeTotals } from '../ingest/totals.ts';

const noDovecot = skipWithout('dovecot');
let dovecot: DovecotServer;
beforeAll(async () => {
  if (!noDovecot) dovecot = await startDovecot();
});
afterAll(async () => {
  if (dovecot) await disposeDovecot(dovecot);
});

function imapConfig(account: { user: string; password: string }, extra: Record<string, string> = {}): ImapConfig {
  return loadConfig({
    IMAP_HOST: dovecot.host,
    IMAP_PORT: String(dovecot.port),
    IMAP_USER: account.user,
    IMAP_PASSWORD: account.password,
    IMAP_TLS: 'off',
    RETENTION_DAYS: '0',
    ...extra,
  });
}

/** Each message of a folder: its subject and its flags and keywords. */
async function flagsIn(account: { user: string; password: string }, folder: string) {
  const client = await testClient(dovecot, account);
  const found: Array<{ subject: string; flags: string[] }> = [];
  const lock = await client.getMailboxLock(folder);
  try {
    for await (const message of client.fetch('1:*', { flags: true, envelope: true }))
      // \Recent belongs to the session, not to the message
      found.push({
        subject: message.envelope?.subject ?? '',
        flags: [...(message.flags ?? [])].filter((flag) => flag !== '\\Recent').sort(),
      });
  } finally {
    lock.release();
    await client.logout();
  }
  return found;
}

async function counts(account: { user: string; password: string }) {
  const client = await testClient(dovecot, account);
  const result = await mailboxCounts(client);
  await client.logout();
  return result;
}

describe.skipIf(noDovecot)('the reason of an invalid mail, in the mailbox', () => {
  it('marks each invalid mail with $DmarcBotInvalid and its reason; report mail gets none', async () => {
    const account = dovecot.user();
    dovecot.deliver(account.user, [
      distinctAggregateMail(401),
      mailWithoutReport('Lunch on Friday?'),
      Buffer.concat([mailWithoutReport('Huge'), Buffer.alloc(300_000, 'x')]),
    ]);
    const { store } = await freshSqliteStore();
    const summary = await runImapPass(imapConfig(account), store, { maxMailBytes: 200_000 });
    expect(summary).toMatchObject({ messages: 3, processed: 1, invalid: 2 });

    const invalid = await flagsIn(account, 'DMARC/Invalid');
    expect(invalid).toEqual([
      { subject: 'Lunch on Friday?', flags: ['$DmarcBotInvalid', '$DmarcBotReason_not-a-report'] },
      { subject: 'Huge', flags: ['$DmarcBotInvalid', '$DmarcBotReason_too-large'] },
    ]);
    const processed = await flagsIn(account, 'DMARC/Processed');
    expect(processed).toHaveLength(1);
    expect(processed[0]!.flags.some((flag) => flag.startsWith('$DmarcBot'))).toBe(false);
    await store.close();
  });

  it('flag mode leaves the mail in place, seen and with its reason', async () => {
    const account = dovecot.user();
    dovecot.deliver(account.user, [mailWithoutReport('Not a report')]);
    const { store } = await freshSqliteStore();
    await runImapPass(imapConfig(account, { IMAP_ACTION: 'flag' }), store, {});
    expect(await flagsIn(account, 'INBOX')).toEqual([
      { subject: 'Not a report', flags: ['$DmarcBotInvalid', '$DmarcBotReason_not-a-report', '\\Seen'] },
    ]);
    await store.close();
  });

  it('a failure between the keywords and the move: the next pass moves the mail once, nothing counted twice', async () => {
    const account = dovecot.user();
    dovecot.deliver(account.user, [distinctAggregateMail(411), mailWithoutReport('Stray')]);
    const { store } = await freshSqliteStore();
    const config = imapConfig(account);
    // while the stray mail is read, its destination disappears: the keywords are set, the move is refused
    const failing = runImapPass(config, store, {
      read: async (bytes, options) => {
        if (options.source === 'imap:INBOX/2') {
          const client = await testClient(dovecot, account);
          await client.mailboxDelete('DMARC/Invalid');
          await client.logout();
        }
        return readReports(bytes, options);
      },
    });
    await expect(failing).rejects.toThrow(/refused to move mail to DMARC\/Invalid/);
    expect(await flagsIn(account, 'INBOX')).toEqual([
      { subject: 'Stray', flags: ['$DmarcBotInvalid', '$DmarcBotReason_not-a-report'] },
    ]);

    const again = await runImapPass(config, store, {});
    expect(again).toMatchObject({ messages: 1, invalid: 1, new: 0 });
    expect(await counts(account)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 1, 'DMARC/Invalid': 1 });
    expect((await flagsIn(account, 'DMARC/Invalid'))[0]!.flags).toContain(INVALID_KEYWORD);
    expect((await storeTotals(store)).reports).toHaveLength(1);
    expect(await runImapPass(config, store, {})).toMatchObject({ messages: 0 });
    await store.close();
  });
});
