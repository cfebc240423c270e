// digestData: consecutive digests count every received report exactly once, compare with the
// 7 days before, name sources seen for the first time, and add failure and TLS reports.

import { describe, expect, it } from 'vitest';
import { digestData, newIpsByDomain, type DigestInput } from '../../src/insight/digest.ts';
import type { DayDoc, IngestLogEntry, StoredFailure, StoredTlsPolicy } from '../../src/store/types.ts';
import { addDays } from '../../src/insight/stats.ts';
import { aligned, history, mergeDays, noAuth, part, policy, spfUnaligned } from './history.ts';

const domain = 'example.com';
const p = policy(domain, 'none');
const relay = '198.51.100.7';
const spoofer = '203.0.113.50';

// One report a day 2026-11-07..2026-11-21, each received the next day at 06:00 UTC: 20 aligned +
// 3 failing from the relay; from 2026-11-20 on, a new spoofer sends 10 a day.
const daily = history({
  domain,
  endDay: '2026-11-21',
  days: 15,
  policy: p,
  perDay: (_, date) => [
    aligned('192.0.2.10', 20, domain),
    spfUnaligned(relay, 3, domain, 'isp.example'),
    ...(date >= '2026-11-20' ? [noAuth(spoofer, 10, domain)] : []),
  ],
});
// A late report about 2026-11-15 from another reporter, received 2026-11-21 07:00.
const late: DayDoc[] = [
  {
    domain,
    date: '2026-11-15',
    reports: {
      'late|1': part(
        'late|1',
        'Late Org',
        'late-1',
        '2026-11-15T00:00:00Z',
        '2026-11-15T23:59:59Z',
        p,
        [aligned('192.0.2.10', 7, domain)],
        '2026-11-21T07:00:00.000Z',
      ),
    },
  },
];
const days = mergeDays(daily, late);

function logOf(docs: DayDoc[]): IngestLogEntry[] {
  const entries = new Map<string, IngestLogEntry>();
  for (const doc of docs) {
    for (const [reportKey, r] of Object.entries(doc.reports)) {
      const entry = entries.get(reportKey) ?? {
        reportKey,
        kind: 'aggregate' as const,
        ingestedAt: r.ingestedAt,
        domains: [doc.domain],
        days: [],
      };
      entry.days.push(doc.date);
      entries.set(reportKey, entry);
    }
  }
  return [...entries.values()].sort((a, b) => (a.ingestedAt < b.ingestedAt ? -1 : 1));
}

const failure = (reportKey: string, ingestedAt: string): StoredFailure => ({
  kind: 'failure',
  reportKey,
  ingestedAt,
  reportedDomain: 'Example.com',
  sourceIp: spoofer,
  arrivalDate: '2026-11-20T10:00:00Z',
  authFailure: ['dmarc'],
  deliveryResult: 'reject',
  originalMailFrom: null,
  originalRcptTo: null,
  headerFrom: domain,
  subject: null,
  messageId: null,
});
const tls: StoredTlsPolicy = {
  reportKey: 'tls|1',
  orgName: 'Google Inc.',
  reportId: 't1',
  begin: '2026-11-20T00:00:00Z',
  end: '2026-11-20T23:59:59Z',
  ingestedAt: '2026-11-21T05:00:00.000Z',
  domain,
  type: 'sts',
  strings: ['version: STSv1'],
  mxHosts: ['mx.example.com'],
  successful: 100,
  failed: 3,
  failures: [
    {
      resultType: 'certificate-expired',
      count: 3,
      sendingMtaIp: null,
      receivingMxHostname: 'mx.example.com',
      receivingIp: null,
      reasonCode: null,
      info: null,
    },
  ],
};

function digest(since: string, until: string): ReturnType<typeof digestData> {
  const ingested = logOf(days);
  const period = new Set(ingested.filter((e) => e.ingestedAt >= since && e.ingestedAt < until).map((e) => e.reportKey));
  const sinceKeys = new Set(ingested.filter((e) => e.ingestedAt >= since).map((e) => e.reportKey));
  const sinceDay = since.slice(0, 10);
  const input: DigestInput = {
    since,
    until,
    ingested,
    newDays: days,
    previousDays: days.filter((d) => d.date >= addDays(sinceDay, -7) && d.date <= addDays(sinceDay, -1)),
    firstSeenIps: newIpsByDomain(
      days,
      (key) => period.has(key),
      (key) => !sinceKeys.has(key),
    ),
    failures: [failure('f1', '2026-11-21T01:00:00.000Z'), failure('f2', '2026-11-22T01:00:00.000Z')],
    tls: [tls],
    readinessByDomain: {
      [domain]: {
        verdict: 'not-ready',
        nextStep: { code: 'confirm-sender', params: { sender: relay } },
        blockers: [],
        window: { from: '2026-10-24', to: '2026-11-22' },
        sources: [],
      },
    },
    identities: {},
  };
  return digestData(input);
}

describe('digestData', () => {
  const first = digest('2026-11-20T09:00:00.000Z', '2026-11-21T09:00:00.000Z');
  const second = digest('2026-11-21T09:00:00.000Z', '2026-11-22T09:00:00.000Z');

  it('counts the reports received in the period: the daily one and the late one', () => {
    expect(first.received).toEqual({ aggregate: 2, failure: 0, tls: 0 });
    const d = first.domains[0]!;
    // report of 2026-11-20 (33 messages) + late report (7)
    expect(d).toMatchObject({ domain, reports: 2, messages: 40, dmarcPass: 27, dmarcFail: 13, passRate: 27 / 40 });
    expect(d.reporters).toEqual([
      { key: 'google.com', messages: 33 },
      { key: 'Late Org', messages: 7 },
    ]);
    expect(d.spfAlignedRate).toBe(27 / 40);
  });

  it('consecutive digests add up to every report received, none twice', () => {
    const all = logOf(days).filter(
      (e) => e.ingestedAt >= '2026-11-20T09:00:00.000Z' && e.ingestedAt < '2026-11-22T09:00:00.000Z',
    );
    const expected = all.reduce(
      (sum, e) =>
        sum +
        days
          .flatMap((d) => Object.entries(d.reports))
          .filter(([k]) => k === e.reportKey)
          .reduce((s, [, r]) => s + r.messages, 0),
      0,
    );
    expect(first.domains[0]!.messages + second.domains[0]!.messages).toBe(expected);
    expect(second.domains[0]).toMatchObject({ reports: 1, messages: 33 });
  });

  it('compares with the 7 days before, leaving out the reports of this digest', () => {
    const d = first.domains[0]!;
    // 2026-11-13..2026-11-19: 20 of 23 a day; the late report about 11-15 belongs to this digest
    expect(d.previousPassRate).toBeCloseTo(20 / 23, 12);
    expect(d.passRateChange).toBeCloseTo(27 / 40 - 20 / 23, 12);
  });

  it('names the spoofer as new on its first digest only, and lists failing sources by volume', () => {
    expect(first.domains[0]!.newSources.map((s) => s.ip)).toEqual([spoofer]);
    expect(second.domains[0]!.newSources).toEqual([]);
    expect(first.domains[0]!.failingSources.map((s) => [s.ip, s.dmarcFail, s.hint?.code])).toEqual([
      [spoofer, 10, 'no-auth'],
      [relay, 3, 'spf-unaligned'],
    ]);
  });

  it('adds failure and TLS reports received in the period, and the readiness line', () => {
    expect(first.domains[0]).toMatchObject({
      failureReports: 1,
      tls: { reports: 1, successful: 100, failed: 3, failureTypes: [{ key: 'certificate-expired', messages: 3 }] },
    });
    expect(second.domains[0]).toMatchObject({ failureReports: 1, tls: { reports: 0, failed: 0 } });
    expect(first.domains[0]!.readiness).toEqual({
      verdict: 'not-ready',
      nextStep: { code: 'confirm-sender', params: { sender: relay } },
      blockers: 0,
      window: { from: '2026-10-24', to: '2026-11-22' },
    });
  });

  it('an empty period gives no domains', () => {
    const none = digest('2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z');
    expect(none).toEqual({
      since: '2026-12-01T00:00:00.000Z',
      until: '2026-12-02T00:00:00.000Z',
      received: { aggregate: 0, failure: 0, tls: 0 },
      domains: [],
    });
  });
});
