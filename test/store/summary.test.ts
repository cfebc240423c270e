// Day summaries: written with their day documents, equal to a summary computed again from the
// report parts, idempotent after a crash between documents and markers, and built on open for a
// store of the earlier layout (day documents only), resumably. On each backend.

import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBackend, openStore, summariseDay, type DaySummary } from '../../src/store/index.ts';
import { DaySummaryBuilder, SUMMARY_VERSION, decodeSummary, encodeSummary } from '../../src/store/summary.ts';
import type { DayDoc, DayReportPart, ReportStore } from '../../src/store/types.ts';
import { allFixtures, describeEachBackend, type BackendFixture, type StoreTarget } from './backends.ts';
import { generateReports } from './factories.ts';

const fixtures = allFixtures();
const FROM = '2023-12-01';
const TO = '2024-04-30';
const LAYOUT_STATE = 'state:layout:day-summaries';

/** Summaries as the store reads them, and as summariseDay computes them from the day documents. */
async function bothSummaries(store: ReportStore): Promise<{ stored: DaySummary[]; recomputed: DaySummary[] }> {
  const stored = await store.summaries(null, FROM, TO);
  const recomputed = (await store.days(null, FROM, TO)).map(summariseDay);
  return { stored, recomputed };
}

function capture() {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) };
}

/** Makes a store look as one written before summaries existed: day documents only. */
async function dropSummaries(target: StoreTarget, keep: (key: string) => boolean = () => false): Promise<string[]> {
  const store = await openStore(target.url, { namespace: target.namespace });
  const keys: string[] = [];
  for (const day of await store.days(null, FROM, TO)) keys.push(`sum:${day.domain}:${day.date}`);
  await store.close();
  const backend = await openBackend(target.url, target.namespace, pino({ level: 'silent' }));
  const dropped = keys.filter((key) => !keep(key));
  await backend.deleteMany([...dropped, LAYOUT_STATE]);
  expect(await backend.getMany(dropped)).toEqual(dropped.map(() => undefined));
  await backend.close();
  return keys;
}

describeEachBackend(fixtures, 'day summaries on $name', (fixture: BackendFixture) => {
  beforeAll(() => fixture.start(), 120_000);
  afterAll(() => fixture.stop());

  it('are written with every day document and equal the summary of its parts', async () => {
    const target = fixture.fresh();
    const store = await openStore(target.url, { namespace: target.namespace, limits: { maxPendingReports: 7 } });
    for (const report of generateReports(40, 3)) await store.ingest(report, 'test');
    const { stored, recomputed } = await bothSummaries(store);
    expect(stored.length).toBeGreaterThan(10);
    expect(stored).toEqual(recomputed);
    await store.close();
  });

  it('stay exact after a crash between the documents and the markers, and count a report once', async () => {
    const target = fixture.fresh();
    const reports = generateReports(30, 5);
    const crashing = await openStore(target.url, {
      namespace: target.namespace,
      limits: { maxPendingReports: 10 },
      hooks: {
        afterDocsWritten: () => {
          throw new Error('simulated crash');
        },
      },
    });
    await expect(
      (async () => {
        for (const report of reports) await crashing.ingest(report, 'test', new Date('2024-05-01T00:00:00Z'));
      })(),
    ).rejects.toThrow('simulated crash');
    await crashing.close().catch(() => undefined);

    // the next run applies every report again, later: parts are overwritten, never added
    const store = await openStore(target.url, { namespace: target.namespace });
    for (const report of reports) await store.ingest(report, 'test', new Date('2024-05-02T00:00:00Z'));
    const { stored, recomputed } = await bothSummaries(store);
    expect(stored).toEqual(recomputed);
    const messages = stored.reduce((sum, day) => sum + day.sources.reduce((s, row) => s + row.messages, 0), 0);
    const expected = reports.reduce((sum, report) => sum + report.records.reduce((s, r) => s + r.count, 0), 0);
    expect(messages).toBe(expected);
    expect(stored.every((day) => day.sources.every((row) => row.firstIngestedAt === '2024-05-02T00:00:00.000Z'))).toBe(
      true,
    );
    await store.close();
  });

  it('stay exact when a day is added to over many flushes and another writer adds to it in between', async () => {
    const target = fixture.fresh();
    const reports = generateReports(120, 17);
    // the writer keeps its summaries from one flush to the next; the other one writes between them
    const writer = await openStore(target.url, { namespace: target.namespace, limits: { maxPendingReports: 4 } });
    const other = await openStore(target.url, { namespace: target.namespace });
    for (const [index, report] of reports.entries()) {
      if (index % 5 === 4) {
        await other.ingest(report, 'test');
        await other.flush();
      } else await writer.ingest(report, 'test');
    }
    await other.close();
    const { stored, recomputed } = await bothSummaries(writer);
    expect(stored).toEqual(recomputed);
    const messages = stored.reduce((sum, day) => sum + day.sources.reduce((s, row) => s + row.messages, 0), 0);
    const expected = reports.reduce((sum, report) => sum + report.records.reduce((s, r) => s + r.count, 0), 0);
    expect(messages).toBe(expected);
    await writer.close();
  });

  it('are built on open for a store of the earlier layout, with one log line, and only once', async () => {
    const target = fixture.fresh();
    const writer = await openStore(target.url, { namespace: target.namespace });
    for (const report of generateReports(40, 9)) await writer.ingest(report, 'test');
    const expected = (await writer.days(null, FROM, TO)).map(summariseDay);
    await writer.close();
    await dropSummaries(target);

    const { lines, logger } = capture();
    const store = await openStore(target.url, { namespace: target.namespace, logger });
    const migration = lines.filter((line) => line.includes('building the day summaries'));
    expect(migration).toHaveLength(1);
    expect(JSON.parse(migration[0]!)).toMatchObject({ resumed: false });
    expect(await store.summaries(null, FROM, TO)).toEqual(expected);
    await store.close();

    // the raw summaries are there now: a second open builds nothing
    const backend = await openBackend(target.url, target.namespace, pino({ level: 'silent' }));
    expect(await backend.get(LAYOUT_STATE)).toMatchObject({ complete: true });
    await backend.close();
    const again = capture();
    const reopened = await openStore(target.url, { namespace: target.namespace, logger: again.logger });
    expect(again.lines.filter((line) => line.includes('building the day summaries'))).toEqual([]);
    expect(await reopened.summaries(null, FROM, TO)).toEqual(expected);
    await reopened.close();
  });

  it('of an older summary layout are built again on open, and read from the day documents until then', async () => {
    const target = fixture.fresh();
    const writer = await openStore(target.url, { namespace: target.namespace });
    for (const report of generateReports(20, 13)) await writer.ingest(report, 'test');
    const expected = (await writer.days(null, FROM, TO)).map(summariseDay);
    await writer.close();
    // summaries of the row layout (version 1), marked complete
    const backend = await openBackend(target.url, target.namespace, pino({ level: 'silent' }));
    const old = expected.map((day) => ({
      key: `sum:${day.domain}:${day.date}`,
      value: { v: 1, domain: day.domain, date: day.date, reports: day.reports, keys: [], rows: [] },
    }));
    await backend.setMany([...old, { key: LAYOUT_STATE, value: { version: 1, complete: true } }]);
    await backend.close();

    const { lines, logger } = capture();
    const store = await openStore(target.url, { namespace: target.namespace, logger });
    expect(lines.some((text) => text.includes('building the day summaries'))).toBe(true);
    expect(await store.summaries(null, FROM, TO)).toEqual(expected);
    await store.close();
  });

  it('go on where an interrupted migration stopped', async () => {
    const target = fixture.fresh();
    const writer = await openStore(target.url, { namespace: target.namespace });
    for (const report of generateReports(30, 11)) await writer.ingest(report, 'test');
    const days = await writer.days(null, FROM, TO);
    const expected = days.map(summariseDay);
    await writer.close();
    // the first days (in the migration's order: domain, then day) were done before the stop
    const order = days.map((day) => ({ id: `${day.domain}\u0000${day.date}`, key: `sum:${day.domain}:${day.date}` }));
    order.sort((a, b) => (a.id < b.id ? -1 : 1));
    const through = order[4]!.id;
    const done = new Set(order.slice(0, 5).map((slot) => slot.key));
    await dropSummaries(target, (key) => done.has(key));
    const backend = await openBackend(target.url, target.namespace, pino({ level: 'silent' }));
    await backend.setMany([{ key: LAYOUT_STATE, value: { version: SUMMARY_VERSION, complete: false, through } }]);
    await backend.close();

    const { lines, logger } = capture();
    const store = await openStore(target.url, { namespace: target.namespace, logger });
    const line = lines.find((text) => text.includes('building the day summaries'));
    expect(JSON.parse(line!)).toMatchObject({ resumed: true });
    // only the days after the stop are summarised again
    const built = lines.find((text) => text.includes('day summaries built'));
    expect(JSON.parse(built!)).toMatchObject({ summaries: order.length - 5 });
    expect(await store.summaries(null, FROM, TO)).toEqual(expected);
    await store.close();
  });
});

it('built report by report, equal the summary of the whole day, whatever the stored parts hold', () => {
  const stat = (ip: string, extra: Record<string, unknown> = {}) => ({
    ip,
    messages: 3,
    dmarcPass: 1,
    spfPass: 2,
    dkimPass: 0,
    spfAligned: 1,
    dkimAligned: 0,
    dispositions: { none: 2, reject: 1 },
    reasons: {},
    headerFrom: { 'example.org': 3, ['__proto__']: 1 },
    spf: { 'example.org pass': 2 },
    dkim: {},
    spfUnalignedPass: 0,
    dkimUnalignedPass: 1,
    ...extra,
  });
  const part = (key: string, ingestedAt: string, sources: unknown[]): DayReportPart =>
    ({
      reportKey: key,
      orgName: 'org',
      orgEmail: null,
      reportId: key,
      begin: '2024-01-01T00:00:00Z',
      end: '2024-01-02T00:00:00Z',
      ingestedAt,
      policy: { domain: 'example.org' },
      messages: 3,
      sources,
    }) as unknown as DayReportPart;
  const doc = JSON.parse(
    JSON.stringify({
      domain: 'example.org',
      date: '2024-01-01',
      reports: {
        b: part('b', '2024-01-03T00:00:00.000Z', [stat('192.0.2.1'), stat('2001:db8::1', { messages: '4' })]),
        a: part('a', '2024-01-02T00:00:00.000Z', [
          stat('192.0.2.1', { spf: null, dkim: { x: 'y' } }),
          { ip: '10.0.0.1' },
        ]),
        c: part('c', '2024-01-01T00:00:00.000Z', []),
      },
    }),
  ) as DayDoc;
  const built = new DaySummaryBuilder(doc.domain, doc.date);
  for (const key of Object.keys(doc.reports)) built.add(key, doc.reports[key]!);
  expect(built.summarises(doc)).toBe(true);
  const expected = decodeSummary(encodeSummary(summariseDay(doc)));
  for (const summary of [decodeSummary(built.stored()), decodeSummary(DaySummaryBuilder.of(doc).stored())]) {
    expect(summary.reports).toEqual(expected.reports);
    expect(summary.sources).toEqual(expected.sources);
  }
  // another document (a part more, or one ingested again later) is not the one it summarises
  expect(built.summarises({ ...doc, reports: { ...doc.reports, d: part('d', '2024-01-04T00:00:00.000Z', []) } })).toBe(
    false,
  );
  expect(built.summarises({ ...doc, reports: { ...doc.reports, a: { ...doc.reports.a!, ingestedAt: 'later' } } })).toBe(
    false,
  );
});
