// Shared parts of the fault suite: a backlog made once, its clean-run totals, a Redis that keeps
// its data across a restart, log capture, polling waits, and mailbox inspection.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { reportMailBacklog } from '../../src/generate/index.ts';
import { runImapPass } from '../../src/sources/imap.ts';
import type { DovecotServer } from '../support/dovecot.ts';
import { freePort } from '../support/ports.ts';
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
 * test/support/redis.ts runs without persistence, which loses everything on restart.
 */
export interface PersistentRedis {
  url: string;
  /** graceful stop (SIGTERM); the data stays for start() */
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPersistentRedis(): Promise<PersistentRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-faults-redis-'));
  let child: ChildProcess | undefined;
  const exited = (proc: ChildProcess) =>
    proc.exitCode !== null || proc.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);

  const start = async () => {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
        '--protected-mode',
        'no',
      ],
      {
        stdio: ['ignore', 'ignore', 'ignore'],
      },
    );
    child = proc;
    const { createConnection } = await import('node:net');
    for (let attempt = 0; attempt < 200; attempt++) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
      const ok = await new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port });
        socket.setTimeout(1000, () => (socket.destroy(), resolve(false)));
        socket.on('error', () => resolve(false));
        socket.on('connect', () => socket.write('PING\r\n'));
        socket.on('data', (chunk) => (socket.destroy(), resolve(chunk.toString().startsWith('+PONG'))));
      });
      if (ok) return;
      await sleep(50);
    }
    throw new Error(`redis-server on ${port} did not answer`);
  };
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async dispose() {
      await stop();
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { storeTotals, freshSqliteStore, type StoreTotals };
