// ipInsight over IP-index rows derived from a generated history.

import { describe, expect, it } from 'vitest';
import { ipInsight } from '../../src/insight/ip.ts';
import { aligned, history, identity, ipEntries, mergeDays, policy, spfUnaligned } from './history.ts';

const relay = '198.51.100.7';
const window = { from: '2026-11-01', to: '2026-11-28' };

// The relay sends 3 messages a day for example.com (reported by google.com) on 40 days up to
// 2026-11-28, and 1 a day for other.example (reported by Yahoo) on the last 5 days.
const days = mergeDays(
  history({
    domain: 'example.com',
    endDay: '2026-11-28',
    days: 40,
    policy: policy('example.com', 'none'),
    perDay: () => [aligned('192.0.2.10', 5, 'example.com'), spfUnaligned(relay, 3, 'example.com', 'isp-relay.example')],
  }),
  history({
    domain: 'other.example',
    endDay: '2026-11-28',
    days: 5,
    orgName: 'Yahoo',
    policy: policy('other.example', 'none'),
    perDay: () => [spfUnaligned(relay, 1, 'other.example', 'isp-relay.example')],
  }),
);

describe('ipInsight', () => {
  const entries = ipEntries(days, relay);
  const ident = identity(relay, {
    key: 'isp-relay.example',
    name: 'isp-relay.example',
    by: 'ptr',
    ptr: 'smtp.isp-relay.example',
    asn: 64500,
    asName: 'Example Net',
    country: 'JP',
  });

  it('adds up the window only, per day, per domain and per reporter', () => {
    const result = ipInsight({ ip: relay, entries, identity: ident, mark: null, window });
    // 28 days in the window: 28 x 3 for example.com, 5 x 1 for other.example
    expect(result).toMatchObject({
      ip: relay,
      known: true,
      messages: 84 + 5,
      dmarcPass: 0,
      dmarcFail: 89,
      firstSeen: '2026-11-01',
      lastSeen: '2026-11-28',
      ptr: 'smtp.isp-relay.example',
      asn: 64500,
      asName: 'Example Net',
      country: 'JP',
      sender: 'isp-relay.example',
      domains: ['example.com', 'other.example'],
      reporters: ['google.com', 'Yahoo'],
    });
    expect(result.days).toHaveLength(28);
    expect(result.days.at(-1)).toEqual({ date: '2026-11-28', messages: 4, dmarcPass: 0 });
    expect(result.days[0]).toEqual({ date: '2026-11-01', messages: 3, dmarcPass: 0 });
    expect(result.spfResults).toEqual([{ key: 'isp-relay.example pass', messages: 89 }]);
    expect(result.spfAlignedRate).toBe(0);
    expect(result.headerFrom).toEqual([
      { key: 'example.com', messages: 84 },
      { key: 'other.example', messages: 5 },
    ]);
    expect(result.hint).toEqual({
      code: 'spf-unaligned',
      params: { spfDomain: 'isp-relay.example', domain: 'example.com', failing: 89 },
    });
  });

  it('finds the mark of the IP or of its sender in the marks document', () => {
    const marks = {
      'isp-relay.example': {
        subject: 'isp-relay.example',
        verdict: 'mine' as const,
        by: 'u',
        at: '2026-11-28T00:00:00Z',
      },
    };
    expect(ipInsight({ ip: relay, entries, identity: ident, mark: marks, window }).mark).toBe('mine');
    expect(ipInsight({ ip: relay, entries, identity: ident, mark: {}, window }).mark).toBeNull();
  });

  it('an IP with nothing in the window is unknown', () => {
    const result = ipInsight({
      ip: '203.0.113.77',
      entries: [],
      identity: identity('203.0.113.77'),
      mark: null,
      window,
    });
    expect(result).toMatchObject({
      known: false,
      messages: 0,
      firstSeen: null,
      lastSeen: null,
      sender: null,
      days: [],
      hint: null,
    });
  });
});
