// Two `dmarc-bot start` processes on one real Redis store and one Dovecot mailbox: exactly one
// leads (ingests mail, posts the digest), both answer /dmarc; the leader is killed with SIGKILL,
// the other takes over within the lease TTL plus a renewal interval and ingests mail delivered
// afterwards. The store ends with the totals of one clean run over all the mail.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/servers.ts';
import { openStore } from '../../src/store/index.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { backlog, cleanRunTotals, countsOf, imapSettings, storeTotals, waitUntil } from './helpers.ts';

// the lease's default TTL (src/lease): a takeover must come within TTL + a renewal interval
const LEASE_TTL_SECONDS = 15;
const LEADING = 'leading: mailbox, digests and alerts';

let dovecot: DovecotServer;
let redis: RedisServer;
let home: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  [dovecot, redis] = await Promise.all([startDovecot(), startRedis()]);
  home = mkdtempSync(join(tmpdir(), 'dmarc-instances-'));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.allSettled([dovecot && disposeDovecot(dovecot), redis?.stop()]);
  if (home) rmSync(home, { recursive: true, force: true });
});

interface Instance {
  name: string;
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  logs(): Array<Record<string, unknown>>;
  exited: Promise<unknown>;
}

function startInstance(name: string, env: Record<string, string>): Instance {
  // a clean environment and a folder without .env: only the settings given here apply
  const child = spawn(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'start'], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', HOME: home, TZ: 'UTC', LOG_LEVEL: 'info', DIGEST_TIME: '00:00', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const logs = () =>
    stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { name, child, stdout: () => stdout, logs, exited };
}

const leads = (instance: Instance) => instance.logs().some((line) => line.msg === LEADING);

describe.skipIf(skipWithout('dovecot', 'redis'))('fault: two instances on one Redis store, the leader killed', () => {
  it(
    'one leads, both answer, the other takes over after SIGKILL, and nothing is lost or doubled',
    { timeout: 150_000 },
    async () => {
      const first = backlog('faults-instances-1', 80);
      const second = backlog('faults-instances-2', 40);
      const clean = await cleanRunTotals(dovecot, [...first.mails, ...second.mails]);
      expect(clean.reports).toHaveLength(first.reports + second.reports);

      const account = dovecot.user();
      dovecot.deliver(account.user, first.mails);
      const env = { ...imapSettings(dovecot, account, { IMAP_POLL_SECONDS: '1' }), DMARC_STORE: redis.url };
      const a = startInstance('a', env);
      const b = startInstance('b', env);
      const both = [a, b];

      await waitUntil('one instance leading', () => both.some(leads), 60);
      // ingest has begun under the leader; give the other a full lease period to (wrongly) lead too
      await waitUntil(
        'mail being processed',
        async () => ((await countsOf(dovecot, account))['DMARC/Processed'] ?? 0) > 0,
        60,
      );
      const leader = both.find(leads)!;
      const follower = both.find((instance) => instance !== leader)!;
      // both answer commands; only the leader reads the mailbox
      for (const instance of both) instance.child.stdin.write('/dmarc help\n');
      await waitUntil(
        'both instances answering /dmarc help',
        () => both.every((instance) => /\bready\b/.test(instance.stdout()) && /\bsources\b/.test(instance.stdout())),
        30,
      );
      expect(leads(follower)).toBe(false);
      expect(follower.logs().some((line) => line.msg === 'watching the mailbox')).toBe(false);

      // the leader dies with the first backlog at most partly done
      leader.child.kill('SIGKILL');
      await leader.exited;
      dovecot.deliver(account.user, second.mails);
      await waitUntil(
        'the other instance leading',
        () => leads(follower),
        LEASE_TTL_SECONDS + LEASE_TTL_SECONDS / 3 + 15,
      );
      await waitUntil(
        'all mail processed by the new leader',
        async () => (await countsOf(dovecot, account))['DMARC/Processed'] === first.mails.length + second.mails.length,
        60,
      );
      expect(await countsOf(dovecot, account)).toMatchObject({ INBOX: 0 });

      // the follower still answers after taking over
      const before = follower.stdout().length;
      follower.child.stdin.write('/dmarc help ip\n');
      await waitUntil(
        'an answer after the takeover',
        () => follower.stdout().length > before && /ip/.test(follower.stdout().slice(before)),
        30,
      );

      follower.child.kill('SIGTERM');
      await follower.exited;
      expect(follower.child.exitCode).toBe(0);

      // the digest went out once over both instances, by the first leader (the ledger is in the shared store)
      expect(leader.logs().filter((line) => line.msg === 'digest sent')).toHaveLength(1);
      expect(follower.logs().filter((line) => line.msg === 'digest sent')).toHaveLength(0);
      expect(both.flatMap((instance) => instance.logs()).filter((line) => (line.level as number) >= 50)).toEqual([]);

      const store = await openStore(redis.url);
      try {
        expect(await storeTotals(store)).toEqual(clean);
      } finally {
        await store.close();
      }
    },
  );
});
