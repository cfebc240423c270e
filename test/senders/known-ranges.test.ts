// The known senders' published ranges: an address inside a range (by ipaddr.js's reading of the
// CIDR) names its sender, by number (senderByIpv4) and by text (senderByRange), and one just
// outside does not name it.

import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { knownSenders, type KnownSender } from '../../src/senders/known.ts';
import { canonicalIpv4Value, senderByIpv4, senderByRange } from '../../src/senders/match.ts';

const text = (value: number) => [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');

/** The reference: the first known sender with a range that holds the address, as ipaddr.js matches it. */
function reference(ip: string): KnownSender | null {
  const address = ipaddr.parse(ip);
  for (const sender of knownSenders)
    for (const range of sender.ranges) {
      const cidr = ipaddr.parseCIDR(range);
      if (cidr[0].kind() === address.kind() && address.match(cidr as never)) return sender;
    }
  return null;
}

describe('the known ranges', () => {
  it('name their sender from the first to the last address, and not past either end', () => {
    let ipv4 = 0;
    for (const sender of knownSenders)
      for (const range of sender.ranges) {
        const [address, prefix] = ipaddr.parseCIDR(range);
        if (address.kind() !== 'ipv4') continue;
        ipv4++;
        const first = canonicalIpv4Value(ipaddr.IPv4.networkAddressFromCIDR(range).toString());
        const last = first + 2 ** (32 - prefix) - 1;
        for (const value of [first - 1, first, first + 1, last - 1, last, last + 1]) {
          if (value < 0 || value > 0xffffffff) continue;
          const expected = reference(text(value));
          expect(senderByIpv4(value)?.id ?? null, `${text(value)} (${range})`).toBe(expected?.id ?? null);
          expect(senderByRange(text(value))?.id ?? null, `${text(value)} (${range})`).toBe(expected?.id ?? null);
        }
      }
    expect(ipv4).toBeGreaterThan(0);
  });

  it('match IPv6 ranges and other spellings through ipaddr.js', () => {
    let ipv6 = 0;
    for (const sender of knownSenders)
      for (const range of sender.ranges) {
        const [address] = ipaddr.parseCIDR(range);
        if (address.kind() !== 'ipv6') continue;
        ipv6++;
        const inside = address.toString();
        expect(senderByRange(inside)?.id, range).toBe(reference(inside)?.id);
      }
    expect(ipv6).toBeGreaterThan(0);
    expect(senderByRange('::ffff:198.51.100.1')).toBe(reference('198.51.100.1'));
    expect(senderByRange('not an address')).toBeNull();
  });
});
