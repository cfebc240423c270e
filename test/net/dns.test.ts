import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolver } from '../../src/net/dns.ts';
import { reverseName, startDnsServer, type DnsTestServer } from '../support/dns-server.ts';

let server: DnsTestServer;

beforeAll(async () => {
  server = await startDnsServer();
  server.ptr('203.0.113.5', 'mail.example.net');
  server.ptr('2001:db8::25', 'mx6.example.net');
  server.addresses('mail.example.net', '203.0.113.5', '2001:db8::25');
});
afterAll(() => server.close());

describe('reverse names', () => {
  it('builds in-addr.arpa and ip6.arpa names', () => {
    expect(reverseName('203.0.113.5')).toBe('5.113.0.203.in-addr.arpa');
    expect(reverseName('2001:db8::1')).toBe(`1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
  });
});

describe('DNS adapter against a loopback server', () => {
  it('resolves PTR for IPv4 and IPv6, and A+AAAA for a name', async () => {
    const dns = createDnsResolver({ servers: [server.address], timeoutMs: 1000 });
    expect(await dns.reverse('203.0.113.5')).toEqual(['mail.example.net']);
    expect(await dns.reverse('2001:db8::25')).toEqual(['mx6.example.net']);
    expect((await dns.resolve('mail.example.net')).sort()).toEqual(['2001:db8::25', '203.0.113.5']);
  });

  it('answers [] for NXDOMAIN', async () => {
    const dns = createDnsResolver({ servers: [server.address], timeoutMs: 1000 });
    expect(await dns.reverse('198.51.100.77')).toEqual([]);
    expect(await dns.resolve('nothing.example.net')).toEqual([]);
  });

  it('rejects with a named error when the server never answers (timeout)', async () => {
    const quiet = await startDnsServer();
    quiet.ptr('203.0.113.9', 'never.example.net');
    quiet.silent = true;
    try {
      const dns = createDnsResolver({ servers: [quiet.address], timeoutMs: 200 });
      await expect(dns.reverse('203.0.113.9')).rejects.toThrow(/PTR 203\.0\.113\.9.*no answer within 200 ms/);
      expect(quiet.queries).toContain('PTR 9.113.0.203.in-addr.arpa');
    } finally {
      await quiet.close();
    }
  });
});
