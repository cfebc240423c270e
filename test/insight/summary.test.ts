// summary (totals per domain) and sources (top sender groups) over a generated history.

import { describe, expect, it } from 'vitest';
import { sources, summary } from '../../src/insight/summary.ts';
import { aligned, history, identity, mergeDays, noAuth, policy, spfUnaligned } from './history.ts';

const window = { from: '2026-11-19', to: '2026-11-28' };
// 20 days up to 2026-11-28; the window holds the last 10.
const days = mergeDays(
  history({
    domain: 'example.com',
    endDay: '2026-11-28',
    days: 20,
    policy: policy('example.com', 'none'),
    perDay: () => [
      aligned('192.0.2.10', 20, 'example.com'),
      spfUnaligned('198.51.100.7', 3, 'example.com', 'isp.example'),
    ],
  }),
  history({
    domain: 'other.example',
    endDay: '2026-11-28',
    days: 20,
    orgName: 'Yahoo',
    policy: policy('other.example', 'none'),
    perDay: (i) =>
      i % 2 ? [aligned('192.0.2.11', 4, 'other.example'), noAuth('198.51.100.8', 1, 'other.example', 'reject')] : [],
  }),
);

describe('summary', () => {
  it('totals per domain over the window only', () => {
    const result = summary({ days, window });
    expect(result.domains).toEqual([
      {
        domain: 'example.com',
        messages: 230,
        dmarcPass: 200,
        dmarcFail: 30,
        passRate: 200 / 230,
        spfAlignedRate: 200 / 230,
        dkimAlignedRate: 200 / 230,
        reports: 10,
        reporters: 1,
        daysWithReports: 10,
        sources: 2,
        dispositions: { none: 230 },
      },
      // odd days only: 5 of the 10 window days
      {
        domain: 'other.example',
        messages: 25,
        dmarcPass: 20,
        dmarcFail: 5,
        passRate: 20 / 25,
        spfAlignedRate: 20 / 25,
        dkimAlignedRate: 20 / 25,
        reports: 5,
        reporters: 1,
        daysWithReports: 5,
        sources: 2,
        dispositions: { none: 20, reject: 5 },
      },
    ]);
    expect(result).toMatchObject({ messages: 255, dmarcPass: 220, dmarcFail: 35 });
  });
});

describe('sources', () => {
  it('groups IPs by sender across domains, what needs action first, with the limit', () => {
    const isp = (ip: string) => identity(ip, { key: 'isp.example', name: 'ISP', by: 'ptr' });
    const result = sources({
      days,
      identities: { '198.51.100.7': isp('198.51.100.7'), '198.51.100.8': isp('198.51.100.8') },
      marks: {},
      window,
      limit: 2,
    });
    expect(result.total).toBe(3);
    expect(result.messages).toBe(255);
    expect(result.ips).toBe(4);
    // the never-passing ISP group (a regular sender) before the larger aligned server
    expect(result.sources.map((s) => [s.key, s.class, s.messages, s.ipCount, s.domains])).toEqual([
      ['isp.example', 'unconfirmed', 35, 2, ['example.com', 'other.example']],
      ['192.0.2.10', 'aligned', 200, 1, ['example.com']],
    ]);
    expect(result.sources[0]).toMatchObject({
      sender: 'ISP',
      dmarcPass: 0,
      activeDays: 10,
      hint: { code: 'spf-unaligned' },
    });
  });
});
