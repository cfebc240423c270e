// Two writers racing for one store, on each backend (real SQLite, Redis and PostgreSQL): the
// first one's lease runs out mid-batch (it was paused), the second takes over and ingests
// everything. When the first one resumes, its buffered documents (loaded before the second wrote)
// must not overwrite the second's: its writes are refused, it says so, and the store ends with
// the totals of one clean run.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLease } from '../../src/lease/index.ts';
import { LeaseLostError, openStore } from '../../src/store/index.ts';
import type { AggregateReport } from '../../src/model.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { allFixtures, type BackendFixture } from '../store/backends.ts';
import { aggregate, record } from '../store/factories.ts';
import { storeTotals } from '../ingest/totals.ts';

const fixtures = allFixtures();
const wait = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** 60 reports over 3 days and 8 IPs: every day document and IP bucket is shared by many reports. */
function reports(): AggregateReport[] {
  return Array.from({ length: 60 }, (_, index) => {
    const day = `2024-03-${String(10 + (index % 3)).padStart(2, '0')}`;
    return aggregate({
      org: `reporter-${index % 5}`,
      reportId: `race-${index}`,
      begin: `${day}T00:00:00Z`,
      end: `${day}T23:59:59Z`,
      records: [record(`192.0.2.${index % 8}`, index + 1), record(`198.51.100.${index % 4}`, 2, { dmarc: 'fail' })],
    });
  });
}

async function ingestAll(store: ReportStore, list: AggregateReport[]) {
  for (const report of list) await store.ingest(report, 'race');
}

describe.each(fixtures)('lease race on $name', (fixture: BackendFixture) => {
  beforeAll(() => fixture.start(), 120_000);
  afterAll(() => fixture.stop());

  it('refuses the writes of a writer whose lease was taken, and ends with the totals of one clean run', async () => {
    const all = reports();
    const ttlMs = 400;

    const clean = fixture.fresh();
    const cleanLease = await openLease(clean.url, { holder: 'clean', ttlMs: 30_000, name: `lease:${clean.namespace}` });
    expect(await cleanLease.tryAcquire()).toBe(true);
    const cleanStore = await openStore(clean.url, {
      namespace: clean.namespace,
      fence: { name: cleanLease.name, holder: cleanLease.token, ttlMs: 30_000 },
    });
    await ingestAll(cleanStore, all);
    await cleanStore.flush();
    const expected = await storeTotals(cleanStore);
    await cleanStore.close();
    await cleanLease.close();
    expect(expected.reports).toHaveLength(60);

    const target = fixture.fresh();
    const name = `lease:${target.namespace}`;
    const first = await openLease(target.url, { holder: 'first', ttlMs, name });
    const second = await openLease(target.url, { holder: 'second', ttlMs: 30_000, name });
    try {
      expect(await first.tryAcquire()).toBe(true);
      const firstToken = first.token;
      const firstStore = await openStore(target.url, {
        namespace: target.namespace,
        limits: { maxPendingReports: 1000, maxPendingDocs: 100_000 },
        fence: { name, holder: firstToken, ttlMs },
      });
      // the first writer stores a batch while it holds the lease...
      await ingestAll(firstStore, all.slice(0, 10));
      await firstStore.flush();
      // ...buffers more, and is paused long enough for its lease to run out
      await ingestAll(firstStore, all.slice(10, 40));
      await wait(ttlMs + 300);

      expect(await second.tryAcquire()).toBe(true);
      const secondStore = await openStore(target.url, {
        namespace: target.namespace,
        fence: { name, holder: second.token, ttlMs: 30_000 },
      });
      await ingestAll(secondStore, all);
      await secondStore.flush();
      await secondStore.close();
      // the second writer is done and gives the lease back: it is free when the first resumes
      await second.release();

      // the first one resumes; winning the free lease again gives it a new token, not the old one
      expect(await first.tryAcquire()).toBe(true);
      expect(first.token).not.toBe(firstToken);
      await expect(firstStore.flush()).rejects.toThrow(LeaseLostError);
      await expect(firstStore.flush()).rejects.toThrow(/another process holds the store's writer lease/);
      await expect(firstStore.ingest(all[50]!, 'race')).rejects.toThrow(LeaseLostError);
      expect(firstStore.unwrittenReports?.()).toBe(30);
      await firstStore.close();

      const check = await openStore(target.url, { namespace: target.namespace });
      expect(await storeTotals(check)).toEqual(expected);
      await check.close();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('lets the holder write after its lease expired while nobody else took it (SQL) or refuses it (Redis)', async () => {
    const target = fixture.fresh();
    const name = `lease:${target.namespace}`;
    const lease = await openLease(target.url, { holder: 'only', ttlMs: 300, name });
    try {
      expect(await lease.tryAcquire()).toBe(true);
      const store = await openStore(target.url, {
        namespace: target.namespace,
        fence: { name, holder: lease.token, ttlMs: 300 },
      });
      await ingestAll(store, reports().slice(0, 3));
      await wait(500);
      if (fixture.name === 'redis') {
        // an expired key cannot tell "nobody took it" from "taken and released": refused
        await expect(store.flush()).rejects.toThrow(LeaseLostError);
        await store.close();
      } else {
        await store.flush();
        await store.close();
        const check = await openStore(target.url, { namespace: target.namespace });
        expect((await storeTotals(check)).reports).toHaveLength(3);
        await check.close();
      }
    } finally {
      await lease.close();
    }
  });
});
