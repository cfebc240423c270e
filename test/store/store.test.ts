// The store's behaviour, the same suite on each backend: SQLite file, real Redis, real PostgreSQL.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore, reportKey, type OpenStoreOptions } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { allFixtures, describeEachBackend, type BackendFixture, type StoreTarget } from './backends.ts';
import { aggregate, failure, record, tls } from './factories.ts';

const fixtures = allFixtures();

/** Messages per "domain date" and per source IP, summed over every day document of the range. */
async function totals(store: ReportStore, from = '2000-01-01', to = '2100-01-01') {
  const byDay: Record<string, number> = {};
  const byIp: Record<string, number> = {};
  for (const day of await store.days(null, from, to)) {
    for (const part of Object.values(day.reports)) {
      byDay[`${day.domain} ${day.date}`] = (byDay[`${day.domain} ${day.date}`] ?? 0) + part.messages;
      for (const source of part.sources) byIp[source.ip] = (byIp[source.ip] ?? 0) + source.messages;
    }
  }
  return { byDay, byIp };
}

function sampleReports() {
  return [
    aggregate({
      reportId: 'r1',
      begin: '2024-03-10T00:00:00Z',
      end: '2024-03-10T23:59:59Z',
      records: [record('192.0.2.1', 10), record('198.51.100.7', 3, { dmarc: 'fail' })],
    }),
    aggregate({
      reportId: 'r2',
      org: 'Yahoo',
      begin: '2024-03-10T00:00:00Z',
      end: '2024-03-10T23:59:59Z',
      records: [record('192.0.2.1', 4)],
    }),
    aggregate({
      reportId: 'r3',
      begin: '2024-03-09T00:00:00Z',
      end: '2024-03-12T00:00:00Z',
      records: [record('192.0.2.1', 7), record('2001:db8::1', 5)],
    }),
    aggregate({
      reportId: 'r4',
      domain: 'example.net',
      begin: '2024-03-11T00:00:00Z',
      end: '2024-03-11T23:59:59Z',
      records: [record('198.51.100.7', 2)],
    }),
    aggregate({
      reportId: 'r5',
      begin: '2024-04-01T00:00:00Z',
      end: '2024-04-01T23:59:59Z',
      records: [record('192.0.2.1', 1)],
    }),
  ];
}

describeEachBackend(fixtures, 'store on $name', (fixture: BackendFixture) => {
  const opened: ReportStore[] = [];
  const open = async (target: StoreTarget, options: OpenStoreOptions = {}) => {
    const store = await openStore(target.url, { namespace: target.namespace, ...options });
    opened.push(store);
    return store;
  };

  beforeAll(() => fixture.start());
  afterAll(async () => {
    for (const store of opened) await store.close().catch(() => undefined);
    await fixture.stop();
  });

  it('stores a report once: a repeat is a duplicate, before and after a flush and a reopen', async () => {
    const target = fixture.fresh();
    const store = await open(target);
    const report = sampleReports()[0]!;
    expect(await store.ingest(report, 'file:a.xml')).toBe('new');
    expect(await store.ingest(report, 'file:a.xml')).toBe('duplicate');
    await store.close();

    const again = await open(target);
    // The same report re-sent: a new object, the sender's name spelled with other case and spaces.
    const resent = { ...structuredClone(report), orgName: '  Google.COM ' };
    expect(await again.ingest(resent, 'imap:INBOX/7')).toBe('duplicate');
    // The same report id from the same sender for another domain is another report.
    expect(
      await again.ingest(
        { ...structuredClone(report), policy: { ...report.policy, domain: 'example.net' } },
        'imap:INBOX/8',
      ),
    ).toBe('new');
    // ... and so is the same id for another period.
    expect(
      await again.ingest(
        { ...structuredClone(report), begin: '2024-03-11T00:00:00Z', end: '2024-03-11T23:59:59Z' },
        'imap:INBOX/9',
      ),
    ).toBe('new');
    expect(await again.domains()).toEqual(['example.net', 'example.org']);
    const stored = await again.report(reportKey(report));
    expect(stored).toMatchObject({
      kind: 'aggregate',
      source: 'file:a.xml',
      messages: 13,
      days: ['2024-03-10'],
      domains: ['example.org'],
    });
  });

  it('attributes a noon-to-noon report to both UTC days it touches, each with its share, merging records of one IP', async () => {
    const store = await open(fixture.fresh());
    await store.ingest(
      aggregate({
        reportId: 'noon',
        begin: '2024-03-10T12:00:00Z',
        end: '2024-03-11T12:00:00Z',
        records: [record('192.0.2.1', 3), record('192.0.2.1', 5, { dmarc: 'fail', disposition: 'quarantine' })],
      }),
      'x',
    );
    const days = await store.days('example.org', '2024-03-01', '2024-03-31');
    expect(days.map((day) => day.date)).toEqual(['2024-03-10', '2024-03-11']);
    // Half a day each: 3 -> 2 + 1 and 5 -> 3 + 2 (a tie goes to the earlier day).
    const [first, second] = days.map((day) => Object.values(day.reports)[0]!);
    expect(first!.messages + second!.messages).toBe(8);
    expect(first!.sources).toHaveLength(1);
    expect(first!.sources[0]).toMatchObject({
      ip: '192.0.2.1',
      messages: 5,
      dmarcPass: 2,
      spfPass: 2,
      dkimPass: 2,
      dispositions: { none: 2, quarantine: 3 },
    });
    expect(second!.sources[0]).toMatchObject({ messages: 3, dmarcPass: 1, dispositions: { none: 1, quarantine: 2 } });
  });

  it('splits a 97-hour report over the days it covers, the day counts adding up to each record', async () => {
    const store = await open(fixture.fresh());
    // 1 March 00:00 to 5 March 01:00: four whole days and one hour.
    const counts = { '192.0.2.1': 1000, '198.51.100.7': 7, '203.0.113.5': 1 };
    const records = Object.entries(counts).map(([ip, count]) => record(ip, count));
    await store.ingest(
      aggregate({ reportId: 'long', begin: '2024-03-01T00:00:00Z', end: '2024-03-05T01:00:00Z', records }),
      'x',
    );
    const days = await store.days('example.org', '2024-02-01', '2024-03-31');
    expect(days.map((day) => day.date)).toEqual(['2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04', '2024-03-05']);
    for (const [ip, count] of Object.entries(counts)) {
      const perDay = days.map(
        (day) => Object.values(day.reports)[0]!.sources.find((source) => source.ip === ip)?.messages ?? 0,
      );
      expect(perDay.reduce((a, b) => a + b, 0)).toBe(count);
      // Each whole day holds 24/97 of the count, the last hour 1/97; rounding moves at most one message.
      perDay.forEach((messages, index) =>
        expect(Math.abs(messages - (count * (index < 4 ? 24 : 1)) / 97)).toBeLessThan(1),
      );
    }
    const entries = await store.ipEntries('192.0.2.1', '2024-03-01', '2024-03-31');
    expect(entries.map((entry) => entry.messages).reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('answers the queries: days, ip entries, failures, TLS results, ingested since', async () => {
    const store = await open(fixture.fresh());
    const now = new Date('2024-04-02T10:00:00Z');
    for (const report of sampleReports()) expect(await store.ingest(report, 'x', now)).toBe('new');
    await store.ingest(failure({ arrivalDate: '2024-03-10T08:00:00Z' }), 'arf', new Date('2024-04-03T09:00:00Z'));
    await store.ingest(
      failure({ arrivalDate: '2024-03-10T09:00:00Z', messageId: null, subject: 'Other' }),
      'arf',
      new Date('2024-04-03T09:00:00Z'),
    );
    await store.ingest(
      tls({
        begin: '2024-03-10T00:00:00Z',
        end: '2024-03-10T23:59:59Z',
        domains: ['example.org', 'example.net'],
        successful: 20,
        failed: 2,
      }),
      'tls',
      new Date('2024-04-03T10:00:00Z'),
    );

    const march10 = await store.days('example.org', '2024-03-10', '2024-03-10');
    expect(march10).toHaveLength(1);
    // r1 and r2 whole, plus r3's share (three whole days: a third of 7 and of 5, rounded).
    expect(Object.keys(march10[0]!.reports)).toHaveLength(3);
    const all = await totals(store);
    expect(all.byIp['192.0.2.1']).toBe(10 + 4 + 7 + 1);
    expect(all.byIp['198.51.100.7']).toBe(3 + 2);
    expect(all.byIp['2001:db8::1']).toBe(5);
    expect((await store.days(null, '2024-03-11', '2024-03-11')).map((day) => day.domain)).toEqual([
      'example.net',
      'example.org',
    ]);

    const ip = await store.ipEntries('192.0.2.1', '2024-03-09', '2024-03-31');
    expect(ip.map((entry) => entry.date)).toEqual([...ip.map((entry) => entry.date)].sort());
    expect(ip.reduce((sum, entry) => sum + entry.messages, 0)).toBe(10 + 4 + 7);
    // An IPv6 address written another way finds the same rows.
    expect(
      (await store.ipEntries('2001:DB8:0:0::1', '2024-03-01', '2024-03-31')).reduce(
        (sum, entry) => sum + entry.messages,
        0,
      ),
    ).toBe(5);
    expect(await store.ipEntries('192.0.2.1', '2024-04-01', '2024-04-30')).toHaveLength(1);

    const failures = await store.failures('example.org', '2024-03-10', '2024-03-10');
    expect(failures.map((item) => item.arrivalDate)).toEqual(['2024-03-10T08:00:00Z', '2024-03-10T09:00:00Z']);
    expect(await store.failures('example.org', '2024-03-11', '2024-03-31')).toEqual([]);
    const results = await store.tlsResults(null, '2024-03-01', '2024-03-31');
    expect(results.map((result) => result.domain).sort()).toEqual(['example.net', 'example.org']);
    expect(await store.tlsResults('example.net', '2024-03-10', '2024-03-10')).toMatchObject([
      { successful: 20, failed: 2, orgName: 'Google Inc.' },
    ]);

    const since = await store.ingestedSince('2024-04-03T00:00:00Z');
    expect(since.map((entry) => entry.kind)).toEqual(['failure', 'failure', 'tls']);
    expect(await store.ingestedSince('2024-04-01T00:00:00Z')).toHaveLength(8);
    expect(await store.ingestedSince('2024-04-03T09:30:00Z')).toHaveLength(1);
  });

  it('keeps failure reports apart by message id or subject and refuses a repeat', async () => {
    const store = await open(fixture.fresh());
    expect(await store.ingest(failure({}), 'a')).toBe('new');
    expect(await store.ingest(failure({ messageId: 'abc@spoof.example' }), 'b')).toBe('duplicate');
    expect(await store.ingest(failure({ messageId: '<other@spoof.example>' }), 'c')).toBe('new');
    expect(await store.ingest(failure({ messageId: null, subject: 'Hello' }), 'd')).toBe('new');
    expect(await store.ingest(failure({ messageId: null, subject: 'Hello' }), 'e')).toBe('duplicate');
    // No arrival date: filed under the day it was ingested.
    await store.ingest(failure({ arrivalDate: null, messageId: 'late@x' }), 'f', new Date('2024-05-05T05:00:00Z'));
    expect(await store.failures(null, '2024-05-05', '2024-05-05')).toHaveLength(1);
    expect(await store.failures(null, '2024-03-01', '2024-05-31')).toHaveLength(4);
  });

  it('names the report and the cause of bad input, and goes on with the next report', async () => {
    const store = await open(fixture.fresh());
    const broken = aggregate({
      reportId: 'broken-1',
      begin: 'yesterday',
      end: '2024-03-10T23:59:59Z',
      records: [record('192.0.2.1', 1)],
    });
    await expect(store.ingest(broken, 'x')).rejects.toThrow(/broken-1.*invalid date range/);
    const noDomain = aggregate({
      reportId: 'nodomain',
      domain: ' ',
      begin: '2024-03-10T00:00:00Z',
      end: '2024-03-10T23:59:59Z',
      records: [],
    });
    await expect(store.ingest(noDomain, 'x')).rejects.toThrow(/nodomain.*no policy domain/);
    const epoch = aggregate({
      reportId: 'epoch',
      begin: '1970-01-01T00:00:00Z',
      end: '2024-03-10T23:59:59Z',
      records: [record('192.0.2.1', 1)],
    });
    await expect(store.ingest(epoch, 'x')).rejects.toThrow(/epoch.*covers \d+ days/);
    expect(await store.ingest(sampleReports()[0]!, 'x')).toBe('new');
    expect((await totals(store)).byIp['192.0.2.1']).toBe(10);
  });

  it('flushes a bounded buffer on its own, and the data survives close and reopen', async () => {
    const target = fixture.fresh();
    const store = await open(target, { limits: { maxPendingReports: 2 } });
    for (const report of sampleReports()) await store.ingest(report, 'x');
    await store.close();
    const reopened = await open(target);
    const after = await totals(reopened);
    expect(after.byIp['192.0.2.1']).toBe(22);
    for (const report of sampleReports()) expect(await reopened.ingest(report, 'x')).toBe('duplicate');
  });

  it('ends with the totals of one clean run after a crash between documents and markers', async () => {
    const clean = await open(fixture.fresh());
    for (const report of sampleReports()) await clean.ingest(report, 'x');
    const expected = await totals(clean);

    const target = fixture.fresh();
    let batches = 0;
    // The first batch (two reports) completes; the second dies after its documents are written.
    const crashing = await open(target, {
      limits: { maxPendingReports: 2 },
      hooks: {
        afterDocsWritten: () => {
          batches += 1;
          if (batches >= 2) throw new Error('simulated crash');
        },
      },
    });
    const reports = sampleReports();
    expect(await crashing.ingest(reports[0]!, 'x')).toBe('new');
    expect(await crashing.ingest(reports[1]!, 'x')).toBe('new');
    expect(await crashing.ingest(reports[2]!, 'x')).toBe('new');
    await expect(crashing.ingest(reports[3]!, 'x')).rejects.toThrow('simulated crash');
    await expect(crashing.close()).rejects.toThrow('simulated crash');

    const rerun = await open(target);
    // Half-applied: the documents of r3/r4 are there without markers, so they count as new again.
    const outcomes = [];
    for (const report of reports) outcomes.push(await rerun.ingest(report, 'x'));
    expect(outcomes).toEqual(['duplicate', 'duplicate', 'new', 'new', 'new']);
    expect(await totals(rerun)).toEqual(expected);
    expect(await rerun.ipEntries('192.0.2.1', '2024-03-01', '2024-04-30')).toEqual(
      await clean.ipEntries('192.0.2.1', '2024-03-01', '2024-04-30'),
    );
  });

  it('prunes data older than the retention and refuses an old backlog as expired', async () => {
    const store = await open(fixture.fresh());
    const old = aggregate({
      reportId: 'old',
      begin: '2024-01-05T00:00:00Z',
      end: '2024-01-05T23:59:59Z',
      records: [record('192.0.2.1', 4)],
    });
    // 30 January to 3 February: straddles the cut-off of 1 February.
    const straddling = aggregate({
      reportId: 'straddle',
      begin: '2024-01-30T00:00:00Z',
      end: '2024-02-03T00:00:00Z',
      records: [record('192.0.2.1', 4)],
    });
    const recent = aggregate({
      reportId: 'recent',
      begin: '2024-02-20T00:00:00Z',
      end: '2024-02-20T23:59:59Z',
      records: [record('192.0.2.1', 6)],
    });
    const oldFailure = failure({ arrivalDate: '2024-01-06T00:00:00Z' });
    const oldTls = tls({ begin: '2024-01-06T00:00:00Z', end: '2024-01-06T23:59:59Z' });
    for (const report of [old, straddling, recent, oldFailure, oldTls])
      await store.ingest(report, 'x', new Date('2024-01-07T00:00:00Z'));

    expect(await store.prune(0, new Date('2024-03-02T00:00:00Z'))).toEqual({ deletedKeys: 0 });
    const { deletedKeys } = await store.prune(30, new Date('2024-03-02T12:00:00Z'));
    expect(deletedKeys).toBeGreaterThan(0);

    const days = await store.days(null, '2024-01-01', '2024-12-31');
    expect(days.map((day) => day.date)).toEqual(['2024-02-01', '2024-02-02', '2024-02-20']);
    expect(await store.failures(null, '2024-01-01', '2024-12-31')).toEqual([]);
    expect(await store.tlsResults(null, '2024-01-01', '2024-12-31')).toEqual([]);
    expect(await store.ingestedSince('2024-01-01T00:00:00Z')).toEqual([]);
    const ipDays = (await store.ipEntries('192.0.2.1', '2024-01-01', '2024-12-31')).map((entry) => entry.date);
    expect(ipDays).toEqual(['2024-02-01', '2024-02-02', '2024-02-20']);

    expect(await store.report(reportKey(old))).toBeUndefined();
    expect(await store.report(reportKey(oldFailure))).toBeUndefined();
    expect(await store.report(reportKey(straddling))).toBeDefined();
    expect(await store.ingest(old, 'x')).toBe('expired');
    expect(await store.ingest(oldFailure, 'x')).toBe('expired');
    expect(await store.ingest(straddling, 'x')).toBe('duplicate');
    expect(await store.ingest(recent, 'x')).toBe('duplicate');
    expect((await store.days(null, '2024-01-01', '2024-12-31')).map((day) => day.date)).toEqual([
      '2024-02-01',
      '2024-02-02',
      '2024-02-20',
    ]);
  });

  it('sees and keeps the data of a second process writing to the same store', async () => {
    const target = fixture.fresh();
    const bot = await open(target);
    const cli = await open(target);
    await bot.ingest(
      aggregate({
        reportId: 'bot',
        domain: 'bot.example',
        begin: '2024-03-10T00:00:00Z',
        end: '2024-03-10T23:59:59Z',
        records: [record('192.0.2.1', 2)],
      }),
      'x',
    );
    await bot.flush();
    await cli.ingest(
      aggregate({
        reportId: 'cli',
        domain: 'cli.example',
        begin: '2024-05-01T00:00:00Z',
        end: '2024-05-01T23:59:59Z',
        records: [record('192.0.2.1', 3)],
      }),
      'x',
    );
    await cli.flush();
    // The bot writes its catalog again after the CLI did: it must not drop the CLI's domain.
    await bot.ingest(
      aggregate({
        reportId: 'bot2',
        domain: 'bot.example',
        begin: '2024-03-11T00:00:00Z',
        end: '2024-03-11T23:59:59Z',
        records: [record('192.0.2.1', 4)],
      }),
      'x',
    );
    await bot.flush();
    expect(await bot.domains()).toEqual(['bot.example', 'cli.example']);
    expect((await bot.ipEntries('192.0.2.1', '2024-01-01', '2024-12-31')).map((entry) => entry.messages)).toEqual([
      2, 4, 3,
    ]);
    const later = await open(target);
    expect(await later.domains()).toEqual(['bot.example', 'cli.example']);
    expect((await later.days(null, '2024-01-01', '2024-12-31')).map((day) => day.date)).toEqual([
      '2024-03-10',
      '2024-03-11',
      '2024-05-01',
    ]);
  });

  it('keeps marks and state, and lets state expire after its TTL', async () => {
    const target = fixture.fresh();
    const store = await open(target);
    await store.setMark({ subject: '192.0.2.1', verdict: 'mine', by: 'alice', at: '2024-03-01T00:00:00Z' });
    await store.setMark({ subject: 'Spoofy Inc', verdict: 'spoof', by: 'bob', at: '2024-03-01T00:00:00Z' });
    await store.clearMark('Spoofy Inc');
    await store.setState('imap', { uidValidity: 7, lastUid: 42 });
    await store.setState('lease', 'holder-1', 200);
    expect(await store.getState('lease')).toBe('holder-1');
    await store.close();

    const reopened = await open(target);
    expect(await reopened.marks()).toEqual({
      '192.0.2.1': { subject: '192.0.2.1', verdict: 'mine', by: 'alice', at: '2024-03-01T00:00:00Z' },
    });
    expect(await reopened.getState('imap')).toEqual({ uidValidity: 7, lastUid: 42 });
    expect(await reopened.getState('missing')).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await reopened.getState('lease')).toBeUndefined();
  });
});
