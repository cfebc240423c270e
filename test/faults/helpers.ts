// Shared parts of the fault suite: a backlog made once, its clean-run totals, a Redis that keeps
// its data across a restart, log capture, polling waits, and mailbox inspection.

import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { reportMailBacklog } from '../../src/generate/index.ts';
import { runImapPass } from '../../src/sources/imap.ts';
import type { DovecotServer } from '../support/dovecot.ts';
import { startRedis } from '../support/redis.ts';
import { mailboxCounts, testClient } from '../support/mail.ts';
import { freshSqliteStore, storeTotals, type StoreTotals } from '../ingest/totals.ts';

export type Account = { user: string; password: string };

/** Report days well inside the default retention (400 days), so nothing is dropped as expired. */
export function recentStart(daysAgo = 40): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10) + 'T00:00:00Z';
}

/** A deterministic backlog of report mails (each mail names how many reports it holds). */
export function backlog(seed: string, count: number, maxRecords = 40): { mails: Buffer[]; reports: number } {
  const mails: Buffer[] = [];
  let reports = 0;
  for (const mail of reportMailBacklog({ seed, count, minRecords: 1, maxRecords, start: recentStart() })) {
    mails.push(mail.raw);
    reports += mail.reports;
  }
  return { mails, reports };
}

export function imapSettings(
  dovecot: DovecotServer,
  account: Account,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    IMAP_HOST: dovecot.host,
    IMAP_PORT: String(dovecot.port),
    IMAP_USER: account.user,
    IMAP_PASSWORD: account.password,
    IMAP_TLS: 'off',
    ...extra,
  };
}

export function imapConfig(dovecot: DovecotServer, account: Account, extra: Record<string, string> = {}): Config {
  return loadConfig(imapSettings(dovecot, account, extra));
}

/** The reference: the same mails through one undisturbed IMAP pass into a fresh SQLite store. */
export async function cleanRunTotals(dovecot: DovecotServer, mails: Buffer[]): Promise<StoreTotals> {
  const account = dovecot.user();
  dovecot.deliver(account.user, mails);
  const { store, dir } = await freshSqliteStore();
  try {
    await runImapPass(imapConfig(dovecot, account), store, {});
    return await storeTotals(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function countsOf(dovecot: DovecotServer, account: Account): Promise<Record<string, number>> {
  const client = await testClient(dovecot, account);
  try {
    return await mailboxCounts(client);
  } finally {
    await client.logout();
  }
}

/** A logger whose JSON lines are kept for assertions. */
export function capturingLogger(level = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level as Config['LOG_LEVEL'], sink), lines };
}

/** Polls until the condition holds; throws naming what was awaited after `seconds`. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  seconds = 30,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A redis-server with an append-only file fsync'd on every write, so that a stop and restart
 * (the operator restarting the service) keeps what was written, as a configured Redis store would.
 */
export interface PersistentRedis {
  url: string;
  /** graceful stop (SIGTERM); the data stays for start() */
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPersistentRedis(): Promise<PersistentRedis> {
  const server = await startRedis({ appendOnly: true });
  return { url: server.url, stop: server.terminate, start: server.restart, dispose: server.stop };
}

export { storeTotals, freshSqliteStore, type StoreTotals };
