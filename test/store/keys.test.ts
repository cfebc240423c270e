import { describe, expect, it } from 'vitest';
import { IP_BUCKETS, aggregateKey, failureKey, ipBucket, normaliseIp, tlsKey } from '../../src/store/keys.ts';
import { aggregate, failure, tls } from './factories.ts';

const base = aggregate({
  org: 'google.com',
  reportId: '123',
  domain: 'example.org',
  begin: '2024-03-10T00:00:00Z',
  end: '2024-03-10T23:59:59Z',
  records: [],
});

describe('dedupe keys', () => {
  it('are short hex hashes that ignore spelling differences of the same report', () => {
    const key = aggregateKey(base);
    expect(key).toMatch(/^[0-9a-f]{24}$/);
    expect(
      aggregateKey({
        ...base,
        orgName: ' Google.com ',
        policy: { ...base.policy, domain: 'Example.ORG.' },
        begin: '2024-03-10T00:00:00.000Z',
        end: '2024-03-11T00:59:59+01:00',
      }),
    ).toBe(key);
  });

  it('tell apart reports that differ in sender, id, policy domain or range', () => {
    const key = aggregateKey(base);
    expect(aggregateKey({ ...base, orgName: 'yahoo.com' })).not.toBe(key);
    expect(aggregateKey({ ...base, reportId: '124' })).not.toBe(key);
    expect(aggregateKey({ ...base, policy: { ...base.policy, domain: 'example.net' } })).not.toBe(key);
    expect(aggregateKey({ ...base, end: '2024-03-11T23:59:59Z' })).not.toBe(key);
    // A TLS report with the same org, id and range is another kind of report.
    expect(tlsKey({ orgName: base.orgName, reportId: base.reportId, begin: base.begin, end: base.end })).not.toBe(key);
  });

  it('identify a TLS report by org, id and range only', () => {
    const report = tls({ begin: '2024-03-10T00:00:00Z', end: '2024-03-10T23:59:59Z' });
    const withoutPolicies = { ...report, policies: [] };
    expect(tlsKey(withoutPolicies)).toBe(tlsKey(report));
    expect(tlsKey({ ...report, reportId: 'other' })).not.toBe(tlsKey(report));
  });

  it('identify a failure report by source, arrival, domain and message id, else subject', () => {
    const report = failure({});
    expect(failureKey({ ...report, messageId: 'abc@spoof.example' })).toBe(failureKey(report));
    expect(failureKey({ ...report, subject: 'changed' })).toBe(failureKey(report));
    expect(failureKey({ ...report, sourceIp: '192.0.2.10' })).not.toBe(failureKey(report));
    expect(failureKey({ ...report, arrivalDate: '2024-03-10T08:00:01Z' })).not.toBe(failureKey(report));
    expect(failureKey({ ...report, reportedDomain: 'example.net' })).not.toBe(failureKey(report));
    const bySubject = { ...report, messageId: null };
    expect(failureKey({ ...bySubject, subject: 'Other' })).not.toBe(failureKey(bySubject));
  });
});

describe('IP index buckets', () => {
  it('normalise the address first and stay within the bucket count', () => {
    expect(normaliseIp('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(normaliseIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(ipBucket('2001:DB8:0:0:0:0:0:1')).toBe(ipBucket('2001:db8::1'));
    const buckets = new Set<number>();
    for (let index = 0; index < 5000; index++) {
      const bucket = ipBucket(`10.${index >> 8}.${index & 255}.1`);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(IP_BUCKETS);
      buckets.add(bucket);
    }
    // A hash that spreads: 5,000 addresses (about 20 a bucket) land in nearly every bucket.
    expect(buckets.size).toBeGreaterThan(0.95 * IP_BUCKETS);
  });
});
