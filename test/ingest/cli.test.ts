// `dmarc-bot ingest PATH...` and `--imap` as a user runs them: summary line, errors naming the
// input and its cause, exit status.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/servers.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { corpusMail, mailboxCounts, testClient } from '../support/mail.ts';
import { runCli } from './run-cli.ts';

const corpus = 'test/fixtures/corpus';

function freshStoreUrl(): string {
  return `sqlite://${join(mkdtempSync(join(tmpdir(), 'dmarc-cli-')), 'store.sqlite')}`;
}

describe('dmarc-bot ingest PATH...', () => {
  it('stores a folder, counts duplicates among the same report in three containers, and stores nothing new on a rerun', async () => {
    const DMARC_STORE = freshStoreUrl();
    // nice-input plain, .gz and .zip are one report; changed-input is another
    const first = await runCli(['ingest', `${corpus}/extract_report`], { DMARC_STORE });
    expect(first.stderr).not.toMatch(/error/);
    expect(first.stdout.trim().split('\n').at(-1)).toBe('ingested 2 reports (2 duplicates, 0 errors)');
    expect(first.code).toBe(0);

    const again = await runCli(['ingest', `${corpus}/extract_report`], { DMARC_STORE });
    expect(again.stdout.trim().split('\n').at(-1)).toBe('ingested 0 reports (4 duplicates, 0 errors)');
    expect(again.code).toBe(0);
  });

  it('names an input without a report and its cause, goes on with the rest, and exits 1', async () => {
    const DMARC_STORE = freshStoreUrl();
    const result = await runCli(
      ['ingest', `${corpus}/empty.xml`, `${corpus}/smtp_tls/rfc8460.json`, `${corpus}/does-not-exist.xml`],
      { DMARC_STORE },
    );
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('ingested 1 reports (0 duplicates, 2 errors)');
    const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errorLines.find((line) => line.includes('empty.xml'))).toMatch(/empty|no .*report|zero|0 bytes/i);
    expect(errorLines.find((line) => line.includes('does-not-exist.xml'))).toMatch(/ENOENT|not found|no such/i);
  });

  it('reads the messages of an mbox file', async () => {
    const DMARC_STORE = freshStoreUrl();
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-mbox-'));
    const messages = [
      'smtp_tls/rfc8460.json',
      'aggregate/ikea.com!example.de!1538690400!1538776800.xml',
      'smtp_tls/rfc8460.json',
    ].map((file) => corpusMail(file).toString('utf8'));
    const mbox = messages
      .map(
        (message) =>
          `From MAILER-DAEMON Sun Nov  1 12:00:00 2026\n${message.replace(/\r\n/g, '\n').replace(/^From /gm, '>From ')}\n`,
      )
      .join('\n');
    writeFileSync(join(dir, 'reports.mbox'), mbox);
    const result = await runCli(['ingest', join(dir, 'reports.mbox')], { DMARC_STORE });
    expect(result.stdout.trim().split('\n').at(-1)).toBe('ingested 2 reports (1 duplicates, 0 errors)');
    expect(result.code).toBe(0);
  });

  it('refuses to run without paths or --imap', async () => {
    const result = await runCli(['ingest'], { DMARC_STORE: freshStoreUrl() });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('dmarc-bot ingest: give at least one PATH, or --imap (see dmarc-bot ingest --help)\n');
  });
});

describe.skipIf(skipWithout('dovecot'))('dmarc-bot ingest --imap', () => {
  let dovecot: DovecotServer;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(async () => {
    if (dovecot) await disposeDovecot(dovecot);
  });

  it('makes one pass over the mailbox and exits 0', async () => {
    const account = dovecot.user();
    const client = await testClient(dovecot, account);
    await client.append('INBOX', corpusMail('smtp_tls/rfc8460.json'));
    await client.append('INBOX', corpusMail('aggregate/twilight.eml'));
    const env = {
      DMARC_STORE: freshStoreUrl(),
      IMAP_HOST: dovecot.host,
      IMAP_PORT: String(dovecot.port),
      IMAP_USER: account.user,
      IMAP_PASSWORD: account.password,
      IMAP_TLS: 'off',
    };
    const result = await runCli(['ingest', '--imap'], env);
    expect(result.stdout).toContain('ingested 2 reports (0 duplicates, 0 errors)');
    expect(result.code).toBe(0);
    expect(await mailboxCounts(client)).toMatchObject({ INBOX: 0, 'DMARC/Processed': 2 });
    await client.logout();
  });

  it('exits 1 and says why when the mailbox cannot be reached', async () => {
    const env = {
      DMARC_STORE: freshStoreUrl(),
      IMAP_HOST: '127.0.0.1',
      IMAP_PORT: '1',
      IMAP_USER: 'nobody',
      IMAP_PASSWORD: 'x',
      IMAP_TLS: 'off',
    };
    const result = await runCli(['ingest', '--imap'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/mailbox INBOX on 127\.0\.0\.1 could not be processed/);
  });

  it('exits 1 when IMAP is not configured', async () => {
    const result = await runCli(['ingest', '--imap'], { DMARC_STORE: freshStoreUrl() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/IMAP_HOST/);
  });
});
