import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/servers.ts';
import { holdLeadership, openLease, type Lease } from '../../src/lease/index.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-lease-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const wait = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function expectExclusive(url: string) {
  const ttlMs = 400;
  const a = await openLease(url, { holder: 'a', ttlMs, name: 'test:lease' });
  const b = await openLease(url, { holder: 'b', ttlMs, name: 'test:lease' });
  try {
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    // renewal by the holder keeps it
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    // the holder dies (stops renewing): after the TTL the other takes over
    await wait(ttlMs + 150);
    expect(await b.tryAcquire()).toBe(true);
    expect(await a.tryAcquire()).toBe(false);
    // a clean release hands over at once
    await b.release();
    expect(await a.tryAcquire()).toBe(true);
  } finally {
    await a.close();
    await b.close();
  }
}

describe('lease on SQLite', () => {
  it('is held by one instance at a time and taken over after expiry', async () => {
    await expectExclusive(`sqlite://${join(dir, 'lease.sqlite')}`);
  });

  it('holdLeadership starts and stops the leader work as the lease is won and lost', async () => {
    const url = `sqlite://${join(dir, 'hold.sqlite')}`;
    const first = await openLease(url, { holder: 'first', ttlMs: 300 });
    const second = await openLease(url, { holder: 'second', ttlMs: 300 });
    const log: string[] = [];
    const stopFirst = new AbortController();
    const stopSecond = new AbortController();
    const run = (lease: Lease, signal: AbortSignal) =>
      holdLeadership(
        lease,
        {
          onLead: () => {
            log.push(`${lease.holder} leads`);
            return async () => {
              log.push(`${lease.holder} stops`);
            };
          },
        },
        signal,
      );
    const firstRun = run(first, stopFirst.signal);
    await wait(150);
    const secondRun = run(second, stopSecond.signal);
    await wait(300);
    expect(log).toEqual(['first leads']);
    stopFirst.abort();
    await firstRun;
    await wait(300);
    expect(log).toEqual(['first leads', 'first stops', 'second leads']);
    stopSecond.abort();
    await secondRun;
    await first.close();
    await second.close();
  });
});

describe.skipIf(skipWithout('redis', 'postgres'))('lease on the shared stores', () => {
  let redis: RedisServer;
  let postgres: PostgresServer;
  beforeAll(async () => {
    [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), postgres?.stop()]);
  });

  it('Redis: one holder at a time, taken over after expiry', async () => {
    await expectExclusive(redis.url);
  });

  it('PostgreSQL: one holder at a time, taken over after expiry', async () => {
    await expectExclusive(postgres.url);
  });
});
