// The batched dedupe lookup (storedReports), the same suite on each backend: which of many report
// keys are stored, buffered reports included, and ingest() after it still counting exactly.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomAggregateReport } from '../../src/generate/random.ts';
import { aggregateXml } from '../../src/generate/xml.ts';
import type { Report } from '../../src/model.ts';
import { readReports } from '../../src/reader/index.ts';
import { contributionOf, documentKeysOf } from '../../src/store/contributions.ts';
import { openMergingSink } from '../../src/store/merge.ts';
import { openStore, reportKey } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { allFixtures, describeEachBackend, type BackendFixture, type StoreTarget } from './backends.ts';
import { aggregate, failure, record, tls } from './factories.ts';

function numbered(n: number) {
  const day = `2024-05-${String((n % 28) + 1).padStart(2, '0')}`;
  return aggregate({
    reportId: `batch-${n}`,
    begin: `${day}T00:00:00Z`,
    end: `${day}T23:59:59Z`,
    records: [record(`192.0.2.${(n % 250) + 1}`, n + 1)],
  });
}

/** Reports as the IMAP pass hands them to the store: merged while read (rows per source and day). */
async function mergedReports(count: number): Promise<Report[]> {
  const reports: Report[] = [];
  for (let n = 0; n < count; n++) {
    const report = randomAggregateReport({
      seed: `prefetch-${n}`,
      records: 40,
      days: 2,
      begin: '2026-03-01T07:30:00Z',
    });
    const read = await readReports(
      Buffer.from(aggregateXml(report)),
      { source: `m${n}`, now: new Date('2026-06-01T00:00:00Z') },
      openMergingSink,
    );
    reports.push(...read.reports);
  }
  return reports;
}

/** What queries read of a store: messages per day and per IP index row of each report's sources. */
async function contents(store: ReportStore, reports: readonly Report[]): Promise<unknown> {
  const ips = new Set<string>();
  for (const day of await store.days(null, '2000-01-01', '2100-01-01'))
    for (const part of Object.values(day.reports)) for (const source of part.sources) ips.add(source.ip);
  const rows: Record<string, unknown> = {};
  for (const ip of [...ips].sort().slice(0, 40)) rows[ip] = await store.ipEntries(ip, '2000-01-01', '2100-01-01');
  return { days: await messagesByDay(store), rows, reports: reports.length };
}

/** Messages per domain and day over every day document: what a query would count. */
async function messagesByDay(store: ReportStore): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const day of await store.days(null, '2000-01-01', '2100-01-01'))
    for (const part of Object.values(day.reports))
      counts[`${day.domain} ${day.date}`] = (counts[`${day.domain} ${day.date}`] ?? 0) + part.messages;
  return counts;
}

describeEachBackend(allFixtures(), 'storedReports on $name', (fixture: BackendFixture) => {
  const opened: ReportStore[] = [];
  const open = async (target: StoreTarget) => {
    const store = await openStore(target.url, { namespace: target.namespace });
    opened.push(store);
    return store;
  };

  beforeAll(() => fixture.start());
  afterAll(async () => {
    for (const store of opened) await store.close().catch(() => undefined);
    await fixture.stop();
  });

  it('names exactly the stored keys of a batch, buffered, flushed and after a reopen', async () => {
    const target = fixture.fresh();
    const store = await open(target);
    const reports = [
      numbered(1),
      failure({ sourceIp: '192.0.2.9', messageId: '<m1@example.org>' }),
      tls({ reportId: 'tls-1', begin: '2024-05-02T00:00:00Z', end: '2024-05-02T23:59:59Z' }),
    ];
    const keys = reports.map(reportKey);
    expect(await store.storedReports(keys)).toEqual(new Set());

    for (const report of reports.slice(0, 2)) expect(await store.ingest(report, 'file:a')).toBe('new');
    // buffered, not yet written: stored as far as dedupe is concerned
    expect(await store.storedReports(keys)).toEqual(new Set(keys.slice(0, 2)));
    await store.close();

    const again = await open(target);
    // repeated keys and keys that were never stored are answered too
    expect(await again.storedReports([keys[0]!, keys[2]!, keys[0]!, 'no-such-report'])).toEqual(new Set([keys[0]]));
    expect(await again.ingest(reports[0]!, 'file:b')).toBe('duplicate');
    expect(await again.ingest(reports[2]!, 'file:b')).toBe('new');
    expect(await again.storedReports(keys)).toEqual(new Set(keys));
  });

  it('answers a batch larger than one backend read, and ingest after it counts each report once', async () => {
    const store = await open(fixture.fresh());
    const reports = Array.from({ length: 700 }, (_, n) => numbered(n));
    const keys = reports.map(reportKey);
    for (const report of reports.filter((_, n) => n % 3 === 0)) await store.ingest(report, 'file:first');
    await store.flush();
    const stored = await store.storedReports(keys);
    expect(stored).toEqual(new Set(keys.filter((_, n) => n % 3 === 0)));

    const outcomes = { new: 0, duplicate: 0, expired: 0 };
    // every report, and the unstored ones twice: the second of each pair is a duplicate
    for (const report of [...reports, ...reports.filter((_, n) => n % 3 !== 0)])
      outcomes[await store.ingest(report, 'file:second')] += 1;
    expect(outcomes).toEqual({ new: 466, duplicate: 234 + 466, expired: 0 });
    expect(await store.storedReports(keys)).toEqual(new Set(keys));
  });

  it('remembers only its latest answer, and a report stored meanwhile by another writer keeps the totals', async () => {
    const target = fixture.fresh();
    const mine = await open(target);
    const other = await open(target);
    const [first, second] = [numbered(40), numbered(41)];

    // an older answer is not acted upon: the other writer's report is seen as a duplicate
    expect(await mine.storedReports([reportKey(first)])).toEqual(new Set());
    expect(await mine.storedReports([reportKey(second)])).toEqual(new Set());
    await other.ingest(first, 'file:other');
    await other.flush();
    expect(await mine.ingest(first, 'file:mine')).toBe('duplicate');

    // within the latest answer it is applied again, over the same contributions under its own key
    await other.ingest(second, 'file:other');
    await other.flush();
    const expected = await messagesByDay(other);
    await mine.ingest(second, 'file:mine');
    await mine.flush();
    expect(await messagesByDay(mine)).toEqual(expected);
    expect(await messagesByDay(other)).toEqual(expected);
  });

  it('reads ahead the documents of the absent reports it is given, without replacing what the batch changed', async () => {
    const reports = [...(await mergedReports(6)), numbered(3), numbered(31)];
    // the documents named for the read ahead are the ones the report's ingest() changes
    for (const report of reports)
      expect(new Set(documentKeysOf(report))).toEqual(
        new Set(
          contributionOf(report, 'file:a', '2026-06-01T12:00:00.000Z')
            .patches.filter((patch) => patch.kind !== 'log')
            .map((patch) => patch.key),
        ),
      );
    // the reference: each report ingested on its own, without the batched read
    const reference = await open(fixture.fresh());
    for (const report of reports) expect(await reference.ingest(report, 'file:a')).toBe('new');
    await reference.flush();

    const store = await open(fixture.fresh());
    // one report stored and flushed, one buffered: their days' documents are read before the batch,
    // and the buffered one's are changed in the batch when the others are read ahead
    expect(await store.ingest(reports[0]!, 'file:a')).toBe('new');
    await store.flush();
    expect(await store.ingest(reports[1]!, 'file:a')).toBe('new');
    const stored = await store.storedReports(reports.map(reportKey), reports);
    expect(stored).toEqual(new Set([reportKey(reports[0]!), reportKey(reports[1]!)]));
    for (const report of reports.slice(2)) expect(await store.ingest(report, 'file:a')).toBe('new');
    for (const report of reports) expect(await store.ingest(report, 'file:b')).toBe('duplicate');
    await store.flush();
    expect(await contents(store, reports)).toEqual(await contents(reference, reports));
  });
});
