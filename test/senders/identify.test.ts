import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { createDnsResolver } from '../../src/net/dns.ts';
import { createAsnLookup } from '../../src/senders/asn.ts';
import { createIdentify, ptrCacheKey } from '../../src/senders/identify.ts';
import { senderByDomains, senderByPtr, senderByRange } from '../../src/senders/match.ts';
import type { PtrCacheEntry } from '../../src/store/types.ts';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';
import { openStateStore } from './state-store.ts';

let dns: DnsTestServer;

beforeAll(async () => {
  dns = await startDnsServer();
  // confirmed: the PTR name resolves back to the IP
  dns.ptr('203.0.113.5', 'mail.isp-one.example.net');
  dns.addresses('mail.isp-one.example.net', '203.0.113.5');
  // not confirmed: claims to be SendGrid, but the name resolves elsewhere
  dns.ptr('203.0.113.6', 'o1.sendgrid.net');
  dns.addresses('o1.sendgrid.net', '198.51.100.200');
  // a known service recognised by its confirmed PTR
  dns.ptr('198.51.100.7', 'a7-12.smtp-out.mtasv.net');
  dns.addresses('a7-12.smtp-out.mtasv.net', '198.51.100.7');
  // IPv6 confirmed, written differently in the AAAA answer
  dns.ptr('2001:db8::25', 'mx.six.example.org');
  dns.addresses('mx.six.example.org', '2001:0db8:0000::25');
});
afterAll(() => dns.close());

describe('known-sender matching', () => {
  it('matches published ranges, PTR suffixes on label boundaries and report domains', () => {
    expect(senderByRange('209.85.220.41')?.id).toBe('google');
    expect(senderByRange('2a01:111:f403:2000::1')?.id).toBe('microsoft365');
    expect(senderByRange('192.0.2.1')).toBeNull();
    expect(senderByPtr('mail-sor-f41.google.com.')?.id).toBe('google');
    expect(senderByPtr('notgoogle.com')).toBeNull();
    expect(senderByDomains(['example.com', 'em1234.example.com', 'bounces.sendgrid.net'])?.id).toBe('sendgrid');
    expect(senderByDomains(['example.com'])).toBeNull();
    // the same domain again, in another case and with the root dot, and after another
    expect(senderByDomains(['Bounces.SendGrid.NET.'])?.id).toBe('sendgrid');
    expect(senderByDomains(['bounces.sendgrid.net'])?.id).toBe('sendgrid');
    expect(senderByDomains(['example.com'])).toBeNull();
    expect(senderByDomains(['example.com', 'mandrillapp.com'])?.id).toBe('mailchimp');
  });
});

describe('createIdentify with reverse DNS on loopback', () => {
  it('uses a forward-confirmed PTR name and groups by its organisation', async () => {
    const { store, close } = await openStateStore();
    const resolver = createDnsResolver({ servers: [dns.address], timeoutMs: 1000 });
    const identify = createIdentify({ store, ...resolver, asn: createAsnLookup() });
    const identity = await identify('203.0.113.5');
    expect(identity).toMatchObject({
      by: 'ptr',
      ptr: 'mail.isp-one.example.net',
      key: 'example.net',
      service: null,
      forwarder: false,
    });
    const six = await identify('2001:db8::25');
    expect(six.ptr).toBe('mx.six.example.org');
    await close();
  });

  it('ignores a PTR name that does not resolve back to the IP', async () => {
    const { store, close } = await openStateStore();
    const identify = createIdentify({ store, ...createDnsResolver({ servers: [dns.address], timeoutMs: 1000 }) });
    const identity = await identify('203.0.113.6');
    expect(identity.ptr).toBeNull();
    expect(identity.service).toBeNull();
    expect(identity.by).toBe('ip');
    const cached = await store.getState<PtrCacheEntry>(ptrCacheKey('203.0.113.6'));
    expect(cached).toMatchObject({ names: ['o1.sendgrid.net'], confirmed: null });
    await close();
  });

  it("gives the caller's offline answer when DNS finds no name, and its own when it finds one", async () => {
    const { store, close } = await openStateStore();
    const identify = createIdentify({ store, ...createDnsResolver({ servers: [dns.address], timeoutMs: 1000 }) });
    const hints = { dkimDomains: ['sendgrid.net'], spfDomains: [] };
    // no confirmed name: what identify.offline gave before, for the same IP and hints
    const offline = identify.offline!('203.0.113.6', hints);
    expect(offline.ptr).toBeNull();
    const unnamed = await identify('203.0.113.6', hints, { dns: true, offline });
    expect(unnamed).toBe(offline);
    expect(unnamed).toEqual(await identify('203.0.113.6', hints, { dns: true }));
    // a confirmed name: the caller's offline answer is not the answer
    const before = identify.offline!('203.0.113.5');
    const named = await identify('203.0.113.5', undefined, { dns: true, offline: before });
    expect(named).not.toBe(before);
    expect(named).toMatchObject({ by: 'ptr', ptr: 'mail.isp-one.example.net' });
    await close();
  });

  it('recognises a known service by its confirmed PTR, and answers the second time from the cache', async () => {
    const { store, close } = await openStateStore();
    const identify = createIdentify({ store, ...createDnsResolver({ servers: [dns.address], timeoutMs: 1000 }) });
    expect(await identify('198.51.100.7')).toMatchObject({ by: 'known', service: 'postmark', name: 'Postmark' });
    const asked = dns.queries.length;
    expect(await identify('198.51.100.7')).toMatchObject({ service: 'postmark' });
    expect(await identify('198.51.100.7', undefined, { dns: false })).toMatchObject({ service: 'postmark' });
    expect(dns.queries.length).toBe(asked);
    await close();
  });

  it('reads the PTR cache of the store in a later process (a fresh store handle) without asking DNS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-ptr-'));
    const url = `sqlite://${join(dir, 'store.sqlite')}`;
    try {
      const first = await openStore(url);
      await createIdentify({ store: first, ...createDnsResolver({ servers: [dns.address], timeoutMs: 1000 }) })(
        '203.0.113.5',
      );
      await first.close();
      const asked = dns.queries.length;
      const second = await openStore(url);
      const identify = createIdentify({
        store: second,
        ...createDnsResolver({ servers: [dns.address], timeoutMs: 1000 }),
      });
      // offline only: the in-memory cache of this handle is empty, so no name yet
      expect((await identify('203.0.113.5', undefined, { dns: false })).ptr).toBeNull();
      expect((await identify('203.0.113.5')).ptr).toBe('mail.isp-one.example.net');
      expect((await identify('203.0.113.5', undefined, { dns: false })).ptr).toBe('mail.isp-one.example.net');
      expect(dns.queries.length).toBe(asked);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on a DNS server that does not answer, caches nothing, and still identifies offline', async () => {
    const quiet = await startDnsServer();
    quiet.silent = true;
    quiet.ptr('198.51.100.7', 'a7-12.smtp-out.mtasv.net');
    const { store, close } = await openStateStore();
    try {
      const identify = createIdentify({ store, ...createDnsResolver({ servers: [quiet.address], timeoutMs: 150 }) });
      const identity = await identify('198.51.100.7');
      expect(identity.ptr).toBeNull();
      expect(quiet.queries.length).toBeGreaterThan(0);
      expect(await store.getState(ptrCacheKey('198.51.100.7'))).toBeUndefined();
    } finally {
      await quiet.close();
      await close();
    }
  });

  it('identifies offline from ranges, report domains and the ASN data, without asking DNS', async () => {
    const { store, close } = await openStateStore();
    const before = dns.queries.length;
    const identify = createIdentify({ store, ...createDnsResolver({ servers: [dns.address], timeoutMs: 1000 }) });
    expect(await identify('209.85.220.41', undefined, { dns: false })).toMatchObject({
      by: 'known',
      service: 'google',
      forwarder: true,
      asn: 15169,
    });
    expect(
      await identify('192.0.2.10', { dkimDomains: ['example.com'], spfDomains: ['em.sendgrid.net'] }, { dns: false }),
    ).toMatchObject({ service: 'sendgrid', by: 'known' });
    // Google's public resolver is not a mail range: identified by its network owner
    expect(await identify('8.8.8.8', undefined, { dns: false })).toMatchObject({
      by: 'asn',
      key: 'AS15169',
      asName: 'Google LLC',
      country: 'US',
    });
    expect(await identify('192.0.2.10', undefined, { dns: false })).toMatchObject({
      by: 'ip',
      key: '192.0.2.10',
      asn: null,
    });
    expect(dns.queries.length).toBe(before);
    await close();
  });

  it('names an address alike offline whatever its spelling, and prefers DKIM over SPF domains', async () => {
    const { store, close } = await openStateStore();
    const identify = createIdentify({ store, ...createDnsResolver({ servers: [dns.address], timeoutMs: 1000 }) });
    const offline = identify.offline!;
    expect(offline('192.0.2.010')).toEqual(offline('192.0.2.10'));
    expect(offline('192.0.2.010').key).toBe('192.0.2.10');
    expect(offline('::ffff:209.85.220.41')).toEqual(offline('209.85.220.41'));
    expect(offline('8.8.8.8')).toEqual(await identify('8.8.8.8', undefined, { dns: false }));
    expect(offline('192.0.2.10', { dkimDomains: ['mandrillapp.com'], spfDomains: ['em.sendgrid.net'] }).service).toBe(
      'mailchimp',
    );
    expect(offline('192.0.2.10', { dkimDomains: ['example.com'], spfDomains: ['em.sendgrid.net'] }).service).toBe(
      'sendgrid',
    );
    await close();
  });
});
