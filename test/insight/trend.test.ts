import { describe, expect, it } from 'vitest';
import type { ChartClass } from '../../src/chart/series.ts';
import { trend, type TrendInput } from '../../src/insight/trend.ts';
import { aligned, history, identity, mergeDays, noAuth, policy, forwarded, mixed } from './history.ts';

const DOMAIN = 'example.com';
const END = '2026-11-30';

// Own server every day; a forwarder every day; a new ESP from day 20; spoofing on some days.
function month() {
  const own = history({
    domain: DOMAIN,
    endDay: END,
    days: 30,
    policy: policy(DOMAIN, 'none'),
    perDay: (index) => [aligned('192.0.2.1', 100 + index, DOMAIN), forwarded('198.51.100.7', 10, DOMAIN)],
  });
  const esp = history({
    domain: DOMAIN,
    endDay: END,
    days: 30,
    orgName: 'yahoo.com',
    // the receiver saw the new policy from day 12 on
    policy: policy(DOMAIN, 'none'),
    perDay: (index) => (index >= 19 ? [mixed('203.0.113.5', 40, 30, DOMAIN)] : []),
  });
  const spoof = history({
    domain: DOMAIN,
    endDay: END,
    days: 30,
    orgName: 'outlook.com',
    policy: policy(DOMAIN, 'none'),
    perDay: (index) => (index % 3 === 0 ? [noAuth('233.252.0.9', 20, DOMAIN)] : []),
  });
  return mergeDays(own, esp, spoof);
}

const CLASSES: Record<string, ChartClass> = {
  '192.0.2.1': 'aligned',
  '198.51.100.7': 'forwarded',
  '203.0.113.5': 'legitimate-failing',
  '233.252.0.9': 'spoofing',
};

function input(overrides: Partial<TrendInput> = {}): TrendInput {
  return {
    domain: DOMAIN,
    days: month(),
    window: { from: '2026-11-01', to: END },
    classOf: (ip) => CLASSES[ip] ?? 'unconfirmed',
    identities: { '203.0.113.5': identity('203.0.113.5', { key: 'esp', name: 'Example ESP', by: 'known' }) },
    seenBefore: new Set(['192.0.2.1', '198.51.100.7', '233.252.0.9']),
    earlierDays: 30,
    newSenderMinShare: 0.01,
    ...overrides,
  };
}

describe('trend', () => {
  it('counts each day’s messages per class, with a day for every day of the window', () => {
    const result = trend(input());
    expect(result.days).toHaveLength(30);
    expect(result.days[0]).toMatchObject({
      day: '2026-11-01',
      byClass: {
        aligned: 100,
        forwarded: 10,
        spoofing: 20,
        'legitimate-failing': 0,
        unconfirmed: 0,
        'mailing-list': 0,
      },
    });
    expect(result.days[19]!.byClass).toMatchObject({ aligned: 119, forwarded: 10, 'legitimate-failing': 40 });
    expect(result.days[1]!.byClass.spoofing).toBe(0);
  });

  it('gives the pass rate without spoofing, forwarded and mailing-list mail, as readiness does', () => {
    const result = trend(input());
    // day 1: only the own server counts
    expect(result.days[0]!.passRate).toBe(1);
    // day 20: 119 + 30 of 119 + 40 pass
    expect(result.days[19]!.passRate).toBeCloseTo(149 / 159, 10);
  });

  it('leaves a day without reports empty, with no pass rate', () => {
    const days = month().filter((doc) => doc.date !== '2026-11-15');
    const result = trend(input({ days }));
    const day = result.days.find((entry) => entry.day === '2026-11-15')!;
    expect(Object.values(day.byClass).every((count) => count === 0)).toBe(true);
    expect(day.passRate).toBeNull();
  });

  it('marks the first day of a sender not seen before, by its name', () => {
    const result = trend(input());
    expect(result.markers.filter((marker) => marker.kind === 'new-sender')).toEqual([
      expect.objectContaining({ day: '2026-11-20', label: 'Example ESP' }),
    ]);
  });

  it('marks no sender new without a week of reports before it, nor one below the share', () => {
    // nothing older in the store: the senders of the first days are not new, the one of day 20 is
    const first = trend(input({ seenBefore: new Set(), earlierDays: 0 }));
    expect(first.markers.filter((marker) => marker.kind === 'new-sender').map((marker) => marker.day)).toEqual([
      '2026-11-20',
    ]);
    // a sender from day 4 has 3 days of reports before it in the window: new only with 4 earlier days
    const esp = history({
      domain: DOMAIN,
      endDay: END,
      days: 30,
      orgName: 'yahoo.com',
      policy: policy(DOMAIN, 'none'),
      perDay: (index) => (index >= 3 ? [mixed('203.0.113.5', 40, 30, DOMAIN)] : []),
    });
    const own = month().map((doc) => ({
      ...doc,
      reports: Object.fromEntries(Object.entries(doc.reports).filter(([key]) => !key.startsWith('yahoo'))),
    }));
    const days = mergeDays(own, esp);
    const newOnes = (earlierDays: number) =>
      trend(input({ days, earlierDays })).markers.filter((marker) => marker.kind === 'new-sender');
    expect(newOnes(3)).toEqual([]);
    expect(newOnes(4)).toEqual([expect.objectContaining({ day: '2026-11-04', label: 'Example ESP' })]);
    const strict = trend(input({ newSenderMinShare: 0.5 }));
    expect(strict.markers).toEqual([]);
  });

  it('marks a policy change once, when the next day agrees, and not a one-day flicker', () => {
    const days = month();
    for (const doc of days) {
      for (const part of Object.values(doc.reports)) {
        if (doc.date >= '2026-11-12') part.policy = policy(DOMAIN, 'quarantine', { testing: 'y' });
        // one receiver reports a stale cached record for a single day
        if (doc.date === '2026-11-05') part.policy = policy(DOMAIN, 'reject');
      }
    }
    const result = trend(input({ days }));
    expect(result.markers.filter((marker) => marker.kind === 'policy-change')).toEqual([
      expect.objectContaining({ day: '2026-11-12', label: 'p=none → p=quarantine; t=y' }),
    ]);
  });
});
