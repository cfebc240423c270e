// IP index rows: written packed, without what their place says (IP, domain, day, report key), read
// back whole; buckets written by the earlier layouts (whole rows, and rows as objects without their
// place, zero counters and empty maps) read the same, alone and with packed rows added to them. On
// each backend.

import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBackend, openStore } from '../../src/store/index.ts';
import { dayRange } from '../../src/store/days.ts';
import { IP_BUCKETS, docKeys } from '../../src/store/keys.ts';
import { unpackCounts, type PackedCounts } from '../../src/store/source-rows.ts';
import type { IpBucketDoc, IpEntry, ReportStore } from '../../src/store/types.ts';
import { allFixtures, describeEachBackend, type BackendFixture, type StoreTarget } from './backends.ts';
import { generateReports } from './factories.ts';

const fixtures = allFixtures();
const FROM = '2023-12-01';
const TO = '2024-04-30';

/** Every IP index bucket of the window: key and document (absent ones left out). */
async function buckets(target: StoreTarget): Promise<Array<{ key: string; doc: IpBucketDoc }>> {
  const backend = await openBackend(target.url, target.namespace, pino({ level: 'silent' }));
  const keys = dayRange(FROM, TO).flatMap((day) =>
    Array.from({ length: IP_BUCKETS }, (_, bucket) => docKeys.ipBucket(day, bucket)),
  );
  const docs = await backend.getMany<IpBucketDoc>(keys);
  await backend.close();
  return keys.flatMap((key, index) => (docs[index] ? [{ key, doc: docs[index]! }] : []));
}

/** The entries of these IPs, by IP. */
async function entriesOf(store: ReportStore, ips: string[]): Promise<Record<string, IpEntry[]>> {
  const result: Record<string, IpEntry[]> = {};
  for (const ip of ips) result[ip] = await store.ipEntries(ip, FROM, TO);
  return result;
}

describeEachBackend(fixtures, 'IP index rows on $name', (fixture: BackendFixture) => {
  beforeAll(() => fixture.start(), 120_000);
  afterAll(() => fixture.stop());

  it('are packed without their place, and buckets of the earlier layouts read the same', async () => {
    const reports = generateReports(40, 21);
    const ips = [...new Set(reports.flatMap((report) => report.records.map((record) => record.sourceIp)))].slice(0, 40);
    const target = fixture.fresh();
    const store = await openStore(target.url, { namespace: target.namespace });
    for (const report of reports.slice(0, 30)) await store.ingest(report, 'test');
    const compact = await entriesOf(store, ips);
    await store.close();
    expect(Object.values(compact).flat().length).toBeGreaterThan(40);

    const stored = await buckets(target);
    const rows = stored.flatMap(({ doc }) => Object.values(doc).flatMap((entries) => Object.values(entries)));
    expect(rows.length).toBeGreaterThan(0);
    // packed: the counters and maps in their fixed order, nothing of the row's place
    for (const row of rows) {
      expect(Array.isArray(row)).toBe(true);
      expect((row as unknown[]).some((value) => typeof value === 'string')).toBe(false);
    }

    // the same buckets as the earlier layouts wrote them: rows whole, with their place in them, and
    // rows as objects without their place, zero counters and empty maps, side by side
    const backend = await openBackend(target.url, target.namespace, pino({ level: 'silent' }));
    const whole = Object.values(compact).flat();
    await backend.setMany(
      stored.map(({ key, doc }) => ({
        key,
        value: Object.fromEntries(
          Object.entries(doc).map(([ip, byKey]) => [
            ip,
            Object.fromEntries(
              Object.keys(byKey).map((entryKey) => {
                const [domain, date, reportKey] = entryKey.split('|') as [string, string, string];
                const found = whole.find(
                  (entry) =>
                    entry.ip === ip && entry.domain === domain && entry.date === date && entry.reportKey === reportKey,
                );
                // the IPs not asked for: their rows as the packed ones say
                const row: Partial<IpEntry> = found
                  ? { ...found }
                  : { ...unpackCounts(ip, byKey[entryKey] as PackedCounts), domain, date, reportKey };
                delete row.orgName;
                if (entryKey.length % 2 === 0) return [entryKey, row];
                for (const field of ['ip', 'domain', 'date', 'reportKey'] as const) delete row[field];
                for (const [field, value] of Object.entries(row))
                  if (value === 0 || JSON.stringify(value) === '{}') delete row[field as keyof IpEntry];
                return [entryKey, row];
              }),
            ),
          ]),
        ),
      })),
    );
    await backend.close();
    const reopened = await openStore(target.url, { namespace: target.namespace });
    expect(await entriesOf(reopened, ips)).toEqual(compact);

    // compact rows added to buckets of whole rows: the same as a store written compact throughout
    for (const report of reports.slice(30)) await reopened.ingest(report, 'test');
    const mixed = await entriesOf(reopened, ips);
    await reopened.close();
    const freshTarget = fixture.fresh();
    const fresh = await openStore(freshTarget.url, { namespace: freshTarget.namespace });
    for (const report of reports) await fresh.ingest(report, 'test');
    const expected = await entriesOf(fresh, ips);
    await fresh.close();
    expect(mixed).toEqual(expected);
  });
});
