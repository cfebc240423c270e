// The pure readers of published records, and the record resolver's cache, against a loopback server.

import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDkimKey } from '../../src/dns-check/dkim.ts';
import { mailtoAddress, parseDmarcRecord, suggestedDmarc } from '../../src/dns-check/dmarc.ts';
import { queryingTerms, spfSyntaxErrors } from '../../src/dns-check/spf.ts';
import { createRecordResolver } from '../../src/net/dns-records.ts';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';
import { rsaKey } from '../support/dns-zones.ts';

describe('DMARC record (RFC 9989)', () => {
  it('accepts np, t and psd', () => {
    const record = parseDmarcRecord(
      'v=DMARC1; p=reject; sp=quarantine; np=reject; t=n; psd=n; rua=mailto:a@example.com',
    );
    expect(record.errors).toEqual([]);
    expect(record.tags.get('np')).toBe('reject');
  });

  it('names each syntax error', () => {
    const record = parseDmarcRecord('v=DMARC1; p=block; np=maybe; psd=x; t=1; adkim=q; p=none; rua=not a uri; broken');
    expect(record.errors).toEqual([
      'the tag p appears twice',
      '"broken" is not a tag=value pair',
      'p=block: must be none, quarantine or reject',
      'np=maybe: must be none, quarantine or reject',
      'adkim=q: must be r or s',
      't=1: must be y or n',
      'psd=x: must be y, n or u',
      'rua: "not a uri" is not a URI',
    ]);
  });

  it('wants v=DMARC1 first, and notes the tags RFC 9989 dropped', () => {
    expect(parseDmarcRecord('p=none; v=DMARC1').errors).toContain('the record must start with v=DMARC1');
    expect(parseDmarcRecord('v=DMARC1; p=none; pct=50').notes).toEqual([
      'pct= is no longer part of DMARC (RFC 9989) and is ignored',
    ]);
  });

  it('suggests a repaired record that keeps the valid tags', () => {
    const broken = parseDmarcRecord('v=DMARC1; p=reject; adkim=x; rua=mailto:d@example.com');
    expect(suggestedDmarc('example.com', broken)).toBe('v=DMARC1; p=reject; rua=mailto:d@example.com');
    expect(suggestedDmarc('example.com', null)).toBe('v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com');
  });

  it('reads the mailbox of a mailto: with a size limit', () => {
    expect(mailtoAddress('mailto:Reports@Vendor.example!10m')).toBe('reports@vendor.example');
    expect(mailtoAddress('https://vendor.example/r')).toBeNull();
  });
});

describe('SPF terms', () => {
  it('lists the DNS-querying terms, bare a and mx meaning the domain itself', () => {
    expect(
      queryingTerms(
        'v=spf1 a mx/24 ip4:192.0.2.1 include:_spf.esp.example ~ptr exists:%{i}.x.example redirect=r.example',
        'example.com',
      ),
    ).toEqual([
      { kind: 'a', target: 'example.com' },
      { kind: 'mx', target: 'example.com' },
      { kind: 'include', target: '_spf.esp.example' },
      { kind: 'ptr', target: 'example.com' },
      { kind: 'exists', target: '%{i}.x.example' },
      { kind: 'redirect', target: 'r.example' },
    ]);
  });

  it('names terms that are no SPF', () => {
    expect(spfSyntaxErrors('v=spf1 ip4:192.0.2.1 inclde:x.example -all')).toEqual([
      '"inclde:x.example" is not an SPF term',
    ]);
  });
});

describe('DKIM keys', () => {
  it('measures RSA keys and knows ed25519 and revoked keys', () => {
    expect(readDkimKey(`v=DKIM1; k=rsa; p=${rsaKey(1024)}`)).toEqual({ usable: true, type: 'rsa', bits: 1024 });
    expect(readDkimKey(`v=DKIM1; p=${rsaKey(768)}`)).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/768 bits/),
    });
    expect(readDkimKey('v=DKIM1; k=rsa; p=')).toEqual({ usable: false, reason: 'the key is revoked (empty p=)' });
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    expect(readDkimKey(`v=DKIM1; k=ed25519; p=${ed.toString('base64')}`)).toEqual({
      usable: true,
      type: 'ed25519',
      bits: 256,
    });
    expect(readDkimKey('v=DKIM1; p=bm90IGEga2V5')).toEqual({
      usable: false,
      reason: 'p= is not a readable public key',
    });
  });
});

describe('record resolver', () => {
  let server: DnsTestServer;
  beforeAll(async () => {
    server = await startDnsServer();
    server.addresses('mail.example.org', '192.0.2.7');
    server.txt('example.org', 'v=spf1 -all', `long=${'x'.repeat(400)}`);
    server.mx('example.org', 5, 'mx.example.org');
  });
  afterAll(() => server.close());

  it('answers in the shape mailauth takes, and ENOTFOUND / ENODATA for names and data that do not exist', async () => {
    const resolve = createRecordResolver({ servers: [server.address], timeoutMs: 1000 });
    expect(await resolve('example.org', 'TXT')).toEqual(expect.arrayContaining([['v=spf1 -all']]));
    const long = ((await resolve('example.org', 'TXT')) as string[][]).find((strings) =>
      strings.join('').startsWith('long='),
    )!;
    expect(long.join('')).toBe(`long=${'x'.repeat(400)}`);
    expect(await resolve('example.org', 'MX')).toEqual([{ exchange: 'mx.example.org', priority: 5 }]);
    await expect(resolve('nothing.example.org', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolve('mail.example.org', 'TXT')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('keeps an answer for its TTL, then asks again', async () => {
    let clock = 1_000_000;
    server.ttl = 30;
    const resolve = createRecordResolver({ servers: [server.address], timeoutMs: 1000, now: () => clock });
    const asked = () => server.queries.filter((query) => query === 'A mail.example.org').length;
    const before = asked();
    expect(await resolve('mail.example.org', 'A')).toEqual(['192.0.2.7']);
    clock += 29_000;
    expect(await resolve('mail.example.org', 'A')).toEqual(['192.0.2.7']);
    expect(asked() - before).toBe(1);
    clock += 2_000;
    await resolve('mail.example.org', 'A');
    expect(asked() - before).toBe(2);
    server.ttl = 60;
  });

  it('rejects with ETIMEOUT when the server does not answer, and does not remember that', async () => {
    const resolve = createRecordResolver({ servers: [server.address], timeoutMs: 150 });
    server.silent = true;
    await expect(resolve('example.org', 'MX')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    server.silent = false;
    expect(await resolve('example.org', 'MX')).toEqual([{ exchange: 'mx.example.org', priority: 5 }]);
  });
});
