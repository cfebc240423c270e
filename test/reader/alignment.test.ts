// DMARC identifier alignment (RFC 7489 3.1.1, 3.1.2): strict needs the same name, relaxed the same
// organizational domain, which the public suffix list decides (co.uk is a suffix, not an org).

import { describe, expect, it } from 'vitest';
import { computeAlignment, isAligned, organizationalDomain } from '../../src/reader/alignment.ts';

describe('isAligned', () => {
  it.each([
    ['example.com', 'example.com', 's', true],
    ['mail.example.com', 'example.com', 's', false],
    ['mail.example.com', 'example.com', 'r', true],
    ['example.com', 'news.example.com', 'r', true],
    ['a.example.com', 'b.example.com', 'r', true],
    ['a.example.com', 'b.example.com', null, true], // absent adkim/aspf means relaxed
    ['example.com', 'example.net', 'r', false],
    ['EXAMPLE.com.', 'example.COM', 's', true],
    // public suffixes: two organizations under co.uk are not aligned, one organization is
    ['shop.example.co.uk', 'example.co.uk', 'r', true],
    ['example.co.uk', 'other.co.uk', 'r', false],
    ['co.uk', 'example.co.uk', 'r', false],
    // private suffixes count too: two github.io sites are different organizations
    ['alice.github.io', 'bob.github.io', 'r', false],
    ['', 'example.com', 'r', false],
  ])('%s vs %s under %s: %s', (authenticated, headerFrom, mode, expected) => {
    expect(isAligned(authenticated, headerFrom, mode)).toBe(expected);
  });

  it('finds organizational domains', () => {
    expect(organizationalDomain('a.b.example.co.uk')).toBe('example.co.uk');
    expect(organizationalDomain('bounce.esp.example.com')).toBe('example.com');
  });
});

describe('computeAlignment', () => {
  const base = { headerFrom: 'example.com', envelopeFrom: null, adkim: 'r', aspf: 'r' };

  it('aligns DKIM when any passing signature is aligned, and lists the passing unaligned ones', () => {
    const alignment = computeAlignment({
      ...base,
      dkim: [
        { domain: 'esp.example', selector: 's1', result: 'pass' },
        { domain: 'mail.example.com', selector: 's2', result: 'pass' },
        { domain: 'example.com', selector: 's3', result: 'fail' },
      ],
      spf: [],
    });
    expect(alignment).toEqual({ dkim: true, spf: false, dkimUnalignedPass: ['esp.example'] });
  });

  it('does not align a failing signature of the right domain', () => {
    expect(
      computeAlignment({ ...base, dkim: [{ domain: 'example.com', selector: null, result: 'fail' }], spf: [] }).dkim,
    ).toBe(false);
  });

  it('explains SPF passing for a bounce domain of an ESP', () => {
    const alignment = computeAlignment({
      ...base,
      dkim: [],
      spf: [{ domain: 'bounce.esp.example', scope: 'mfrom', result: 'pass' }],
    });
    expect(alignment).toEqual({ dkim: false, spf: false, spfUnalignedPass: ['bounce.esp.example'] });
  });

  it('ignores a HELO-scoped SPF pass', () => {
    expect(
      computeAlignment({ ...base, dkim: [], spf: [{ domain: 'example.com', scope: 'helo', result: 'pass' }] }),
    ).toEqual({ dkim: false, spf: false });
  });

  it('falls back to envelope_from when the SPF result has no domain', () => {
    const spf = [{ domain: '', scope: null, result: 'pass' }];
    expect(computeAlignment({ ...base, envelopeFrom: 'bounces.example.com', dkim: [], spf }).spf).toBe(true);
    expect(computeAlignment({ ...base, envelopeFrom: null, dkim: [], spf }).spf).toBe(false);
  });

  it('applies strict SPF alignment', () => {
    const spf = [{ domain: 'bounces.example.com', scope: 'mfrom', result: 'pass' }];
    expect(computeAlignment({ ...base, aspf: 's', dkim: [], spf })).toEqual({
      dkim: false,
      spf: false,
      spfUnalignedPass: ['bounces.example.com'],
    });
    expect(computeAlignment({ ...base, aspf: 'r', dkim: [], spf }).spf).toBe(true);
  });
});
