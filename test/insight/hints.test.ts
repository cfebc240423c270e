// explainFailures: each failure pattern built from its defining figures gives its own hint code.

import { describe, expect, it } from 'vitest';
import { explainFailures, HINT_CODES } from '../../src/insight/hints.ts';
import { aligned, dkimUnaligned, forwarded, mailingList, mixed, noAuth, spfUnaligned } from './history.ts';

const domain = 'example.com';

describe('explainFailures', () => {
  it('says nothing about a source that always passes', () => {
    expect(explainFailures(aligned('192.0.2.1', 10, domain))).toBeNull();
  });

  it('SPF passing for an unaligned bounce domain: spf-unaligned with that domain', () => {
    expect(explainFailures(spfUnaligned('192.0.2.1', 10, domain, 'bounce.esp.example'))).toEqual({
      code: 'spf-unaligned',
      params: { spfDomain: 'bounce.esp.example', domain, failing: 10 },
    });
  });

  it('SPF for a subdomain of the From domain is aligned (relaxed), so it is no spf-unaligned case', () => {
    const stat = spfUnaligned('192.0.2.1', 10, domain, 'bounce.example.com');
    stat.spfUnalignedPass = 0;
    expect(explainFailures(stat)?.code).not.toBe('spf-unaligned');
  });

  it('DKIM passing only for the ESP domain: dkim-unaligned', () => {
    expect(explainFailures(dkimUnaligned('192.0.2.1', 4, domain, 'esp-mail.example'))).toEqual({
      code: 'dkim-unaligned',
      params: { dkimDomain: 'esp-mail.example', domain, failing: 4 },
    });
  });

  it("both passing for the service's own domains: asks for DKIM first (it survives forwarding)", () => {
    const stat = dkimUnaligned('192.0.2.1', 4, domain, 'esp-mail.example');
    stat.spf = { 'bounce.esp-mail.example pass': 4 };
    stat.spfUnalignedPass = 4;
    expect(explainFailures(stat)?.code).toBe('dkim-unaligned');
  });

  it('no signature and SPF failing: no-auth naming the IP', () => {
    expect(explainFailures(noAuth('203.0.113.9', 3, domain))).toEqual({
      code: 'no-auth',
      params: { domain, ip: '203.0.113.9', failing: 3 },
    });
  });

  it('our DKIM signature broken from a source that never passes: forwarded', () => {
    expect(explainFailures(forwarded('192.0.2.1', 5, domain))?.code).toBe('forwarded');
  });

  it('a forwarded override reason wins over the auth results', () => {
    const stat = noAuth('192.0.2.1', 5, domain);
    stat.reasons = { forwarded: 5 };
    expect(explainFailures(stat)?.code).toBe('forwarded');
  });

  it("a mailing_list override reason, or our broken signature next to a list's own, is mailing-list", () => {
    const reasoned = noAuth('192.0.2.1', 5, domain);
    reasoned.reasons = { mailing_list: 5 };
    expect(explainFailures(reasoned)).toEqual({ code: 'mailing-list', params: { domain, failing: 5 } });
    expect(explainFailures(mailingList('192.0.2.2', 4, domain))).toEqual({
      code: 'mailing-list',
      params: { domain, failing: 4 },
    });
    // our signature broken with nothing else passing stays forwarding
    expect(explainFailures(forwarded('192.0.2.3', 4, domain))?.code).toBe('forwarded');
  });

  it('passing part of the time: intermittent with the pass percentage', () => {
    expect(explainFailures(mixed('192.0.2.1', 8, 2, domain))).toEqual({
      code: 'intermittent',
      params: { domain, passPercent: 25, failing: 6 },
    });
  });

  it('a known relay (forwarder) with our broken signature is forwarded even when some mail passes', () => {
    expect(explainFailures(mixed('192.0.2.1', 8, 2, domain), { forwarder: true })?.code).toBe('forwarded');
  });

  it('every code it returns is listed in HINT_CODES with its parameters', () => {
    const codes = new Map<string, readonly string[]>(HINT_CODES.map((entry) => [entry.code, entry.params]));
    const samples = [
      spfUnaligned('192.0.2.1', 1, domain, 'x.example'),
      dkimUnaligned('192.0.2.1', 1, domain, 'y.example'),
      noAuth('192.0.2.1', 1, domain),
      forwarded('192.0.2.1', 1, domain),
      mixed('192.0.2.1', 4, 1, domain),
    ];
    for (const sample of samples) {
      const hint = explainFailures(sample)!;
      expect(codes.has(hint.code)).toBe(true);
      expect(Object.keys(hint.params).sort()).toEqual([...codes.get(hint.code)!].sort());
    }
  });
});
