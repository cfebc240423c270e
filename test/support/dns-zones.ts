// Zones for the published-record checks, served by the loopback DNS server: a sound domain, and
// helpers to break one thing at a time. Keys are generated, never copied.

import { generateKeyPairSync } from 'node:crypto';
import type { DnsTestServer } from './dns-server.ts';

/** The base64 SPKI of a fresh RSA public key of `bits`, as a DKIM p= value. */
export function rsaKey(bits: number): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
}

export interface SoundZone {
  domain: string;
  dmarc?: string;
  spf?: string;
  selector?: string;
  key?: string;
}

/** DMARC p=none with rua on the domain, SPF for `ips`, a 2048-bit key at the selector, MX, TLS-RPT. */
export function soundZone(server: DnsTestServer, zone: SoundZone, ips: readonly string[] = []): void {
  const { domain } = zone;
  server.txt(`_dmarc.${domain}`, zone.dmarc ?? `v=DMARC1; p=none; rua=mailto:dmarc@${domain}`);
  server.txt(domain, zone.spf ?? `v=spf1 ${ips.map((ip) => `ip4:${ip}`).join(' ')} -all`.replace(/\s+/g, ' '));
  server.txt(`${zone.selector ?? 's1'}._domainkey.${domain}`, `v=DKIM1; k=rsa; p=${zone.key ?? rsaKey(2048)}`);
  server.mx(domain, 10, `mx.${domain}`);
  server.addresses(`mx.${domain}`, '192.0.2.25');
  server.txt(`_smtp._tls.${domain}`, `v=TLSRPTv1; rua=mailto:tls@${domain}`);
}
