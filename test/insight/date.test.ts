// dateInsight: the reports covering one UTC day, including a report that spans 3 days.

import { describe, expect, it } from 'vitest';
import { dateInsight } from '../../src/insight/date.ts';
import type { DayDoc } from '../../src/store/types.ts';
import { aligned, history, identity, mergeDays, noAuth, part, policy, spfUnaligned } from './history.ts';

const domain = 'example.com';
const p = policy(domain, 'none');

// A report covering 2026-11-10 00:00 to 2026-11-13 00:00, 30 messages from one IP split 10 a day
// (as the store splits multi-day reports pro rata).
const spanning: DayDoc[] = ['2026-11-10', '2026-11-11', '2026-11-12'].map((date) => ({
  domain,
  date,
  reports: {
    'mailru|multi': part(
      'mailru|multi',
      'Mail.Ru',
      'multi-1',
      '2026-11-10T00:00:00Z',
      '2026-11-13T00:00:00Z',
      p,
      [aligned('192.0.2.10', 10, domain)],
      '2026-11-13T08:00:00Z',
    ),
  },
}));
const daily = history({
  domain,
  endDay: '2026-11-12',
  days: 3,
  policy: p,
  perDay: () => [
    aligned('192.0.2.10', 20, domain),
    spfUnaligned('198.51.100.7', 3, domain, 'isp.example'),
    noAuth('203.0.113.5', 5, domain),
  ],
});
const other = history({
  domain: 'other.example',
  endDay: '2026-11-11',
  days: 1,
  policy: policy('other.example', 'reject'),
  perDay: () => [aligned('192.0.2.20', 2, 'other.example')],
});
const days = mergeDays(spanning, daily, other);

describe('dateInsight', () => {
  it('lists every report covering the day with its share of messages, per domain', () => {
    const result = dateInsight({ date: '2026-11-11', days });
    expect(result).toMatchObject({
      date: '2026-11-11',
      reports: 3,
      messages: 10 + 28 + 2,
      dmarcPass: 10 + 20 + 2,
      dmarcFail: 8,
    });
    expect(result.domains.map((d) => d.domain)).toEqual([domain, 'other.example']);
    const main = result.domains[0]!;
    expect(main.reports).toEqual(
      [
        {
          orgName: 'google.com',
          reportId: 'google.com-2026-11-11',
          begin: '2026-11-11T00:00:00.000Z',
          end: '2026-11-11T23:59:59.000Z',
          messages: 28,
        },
        {
          orgName: 'Mail.Ru',
          reportId: 'multi-1',
          begin: '2026-11-10T00:00:00Z',
          end: '2026-11-13T00:00:00Z',
          messages: 10,
        },
      ].sort((a, b) => (a.begin < b.begin ? -1 : 1)),
    );
    expect(main).toMatchObject({ messages: 38, dmarcPass: 30, dmarcFail: 8, passRate: 30 / 38 });
    // one IP in two reports is one source
    expect(main.topSources[0]).toMatchObject({ ip: '192.0.2.10', messages: 30, dmarcPass: 30, hint: null });
    expect(main.failingSources.map((s) => [s.ip, s.dmarcFail, s.hint?.code])).toEqual([
      ['203.0.113.5', 5, 'no-auth'],
      ['198.51.100.7', 3, 'spf-unaligned'],
    ]);
  });

  it('the spanning report appears on each of its days and not outside them', () => {
    for (const date of ['2026-11-10', '2026-11-11', '2026-11-12']) {
      expect(dateInsight({ date, days }).domains[0]!.reports.some((r) => r.reportId === 'multi-1')).toBe(true);
    }
    expect(dateInsight({ date: '2026-11-13', days })).toEqual({
      date: '2026-11-13',
      reports: 0,
      messages: 0,
      dmarcPass: 0,
      dmarcFail: 0,
      domains: [],
    });
  });

  it('names sources when identities are given', () => {
    const result = dateInsight({
      date: '2026-11-11',
      days,
      identities: { '198.51.100.7': identity('198.51.100.7', { name: 'ISP relay', by: 'ptr', key: 'isp.example' }) },
    });
    expect(result.domains[0]!.failingSources.find((s) => s.ip === '198.51.100.7')?.sender).toBe('ISP relay');
    expect(result.domains[0]!.failingSources.find((s) => s.ip === '203.0.113.5')?.sender).toBeNull();
  });
});
