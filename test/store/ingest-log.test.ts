import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { aggregate, record } from './factories.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-log-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const report = (n: number, day = '2026-11-20') =>
  aggregate({
    reportId: `log-${n}`,
    begin: `${day}T00:00:00Z`,
    end: `${day}T23:59:59Z`,
    records: [record('192.0.2.1', n + 1)],
  });

it('keeps the ingest log complete across many flushes, a reopen and a re-applied report, and prunes it', async () => {
  const url = `sqlite://${join(dir, 'log.sqlite')}`;
  const received = new Date('2026-11-21T10:00:00Z');
  let store = await openStore(url);
  // one flush per report: the day's log is made of many appended chunks
  for (let n = 0; n < 12; n += 1) {
    expect(await store.ingest(report(n), 'test', new Date(received.getTime() + n * 1000))).toBe('new');
    await store.flush();
  }
  await store.close();

  store = await openStore(url);
  const entries = await store.ingestedSince('2026-11-21T00:00:00Z');
  expect(entries.map((entry) => entry.reportKey)).toHaveLength(12);
  expect(new Set(entries.map((entry) => entry.reportKey)).size).toBe(12);
  // oldest first, and the window start is honoured
  expect(entries[0]!.ingestedAt).toBe(received.toISOString());
  expect(await store.ingestedSince(new Date(received.getTime() + 6_000).toISOString())).toHaveLength(6);
  // a duplicate adds no log entry
  expect(await store.ingest(report(3), 'test', new Date('2026-11-21T11:00:00Z'))).toBe('duplicate');
  expect(await store.ingestedSince('2026-11-21T00:00:00Z')).toHaveLength(12);

  // pruning the ingestion day drops the log with it
  const { deletedKeys } = await store.prune(30, new Date('2027-01-15T00:00:00Z'));
  expect(deletedKeys).toBeGreaterThan(12);
  expect(await store.ingestedSince('2026-11-01T00:00:00Z')).toEqual([]);
  await store.close();
});
