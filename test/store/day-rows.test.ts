// Day documents: their source rows are written packed (one array per row, in the fixed order of
// source-rows.ts) and read back whole; documents of whole rows (the earlier layout) read the same,
// alone and with packed parts added to them, and their summaries come out the same. On each backend.

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend, openStore } from '../../src/store/index.ts';
import { dayRange, emptySourceStat } from '../../src/store/days.ts';
import { docKeys } from '../../src/store/keys.ts';
import { packSource, unpackSource } from '../../src/store/source-rows.ts';
import type { DayDoc, ReportStore, SourceStat, StoredDayDoc } from '../../src/store/types.ts';
import { allFixtures, describeEachBackend, type BackendFixture, type StoreTarget } from './backends.ts';
import { generateReports } from './factories.ts';

const fixtures = allFixtures();
const FROM = '2023-12-01';
const TO = '2024-04-30';
const NOW = new Date('2024-06-01T00:00:00Z');

/** Every day document of the window as stored: key and document. */
async function dayDocs(target: StoreTarget, domains: string[]): Promise<Array<{ key: string; doc: StoredDayDoc }>> {
  const backend = await openBackend(target.url, target.namespace, pino({ level: 'silent' }));
  const keys = domains.flatMap((domain) => dayRange(FROM, TO).map((day) => docKeys.day(domain, day)));
  const docs = await backend.getMany<StoredDayDoc>(keys);
  await backend.close();
  return keys.flatMap((key, index) => (docs[index] ? [{ key, doc: docs[index]! }] : []));
}

async function read(store: ReportStore): Promise<{ days: DayDoc[]; summaries: unknown[] }> {
  return { days: await store.days(null, FROM, TO), summaries: await store.summaries(null, FROM, TO) };
}

describe('packed source rows', () => {
  it('keep the fixed order of the layout and read back whole through JSON, zeros and empty maps included', () => {
    const stat: SourceStat = {
      ...emptySourceStat('192.0.2.1'),
      messages: 7,
      dmarcPass: 5,
      spfPass: 4,
      dkimAligned: 5,
      dkimUnalignedPass: 2,
      dispositions: { none: 7 },
      headerFrom: { 'example.com': 7 },
    };
    // the stored layout: changing it would misread every day document written so far
    expect(packSource(stat)).toEqual(['192.0.2.1', 7, 5, 4, 0, 0, 5, 0, 2, { none: 7 }, 0, { 'example.com': 7 }, 0, 0]);
    const read = unpackSource(JSON.parse(JSON.stringify(packSource(stat))));
    expect({ ...read, reasons: { ...read.reasons }, spf: { ...read.spf }, dkim: { ...read.dkim } }).toEqual(stat);
    const whole = emptySourceStat('192.0.2.2');
    expect(unpackSource(whole)).toBe(whole);
  });
});

describeEachBackend(fixtures, 'day document rows on $name', (fixture: BackendFixture) => {
  beforeAll(() => fixture.start(), 120_000);
  afterAll(() => fixture.stop());

  it('are packed, read whole, and documents of whole rows (the earlier layout) read and summarise the same', async () => {
    const reports = generateReports(40, 33);
    const target = fixture.fresh();
    const store = await openStore(target.url, { namespace: target.namespace });
    for (const report of reports.slice(0, 30)) await store.ingest(report, 'test', NOW);
    const packed = await read(store);
    const domains = await store.domains();
    await store.close();
    expect(packed.days.length).toBeGreaterThan(0);

    const stored = await dayDocs(target, domains);
    expect(stored.length).toBe(packed.days.length);
    const rows = stored.flatMap(({ doc }) => Object.values(doc.reports).flatMap((part) => part.sources));
    expect(rows.length).toBeGreaterThan(40);
    for (const row of rows) expect(Array.isArray(row)).toBe(true);
    // what days() gives: every row whole, as the reports said it
    const wholeRows = packed.days.flatMap((day) => Object.values(day.reports).flatMap((part) => part.sources));
    for (const row of wholeRows) expect(Object.keys(row).sort()).toEqual(Object.keys(emptySourceStat('x')).sort());
    const messages = reports.slice(0, 30).reduce((sum, r) => sum + r.records.reduce((s, rec) => s + rec.count, 0), 0);
    expect(wholeRows.reduce((sum, row) => sum + row.messages, 0)).toBe(messages);

    // the same documents as the earlier layout wrote them: every row a whole object
    const backend = await openBackend(target.url, target.namespace, pino({ level: 'silent' }));
    await backend.setMany(
      stored.map(({ key, doc }) => ({
        key,
        value: {
          ...doc,
          reports: Object.fromEntries(
            Object.entries(doc.reports).map(([reportKey, part]) => [
              reportKey,
              { ...part, sources: part.sources.map((row) => ({ ...unpackSource(row) })) },
            ]),
          ),
        },
      })),
    );
    await backend.close();
    const reopened = await openStore(target.url, { namespace: target.namespace });
    expect(JSON.parse(JSON.stringify(await read(reopened)))).toEqual(JSON.parse(JSON.stringify(packed)));

    // packed parts added to documents of whole rows: the same as a store written packed throughout
    for (const report of reports.slice(30)) await reopened.ingest(report, 'test', NOW);
    const mixed = await read(reopened);
    await reopened.close();
    const freshTarget = fixture.fresh();
    const fresh = await openStore(freshTarget.url, { namespace: freshTarget.namespace });
    for (const report of reports) await fresh.ingest(report, 'test', NOW);
    const expected = await read(fresh);
    await fresh.close();
    expect(JSON.parse(JSON.stringify(mixed))).toEqual(JSON.parse(JSON.stringify(expected)));
  });
});
