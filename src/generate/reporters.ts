// Who sends aggregate reports, with the report-id styles they really use, and address helpers.
import type { Rng } from './prng.ts';

export interface Reporter {
  orgName: string;
  email: string;
  /** the receiver part of the attachment file name (receiver!domain!begin!end!id) */
  receiver: string;
  reportId(rng: Rng, beginEpoch: number): string;
  /** how this reporter usually packs its XML */
  container: 'zip' | 'gzip' | 'xml';
}

export const REPORTERS = {
  google: {
    orgName: 'google.com',
    email: 'noreply-dmarc-support@google.com',
    receiver: 'google.com',
    reportId: (rng) =>
      `${rng.int(1, 9)}${String(rng.int(0, 999999999)).padStart(9, '0')}${String(rng.int(0, 999999999)).padStart(9, '0')}`,
    container: 'zip',
  },
  yahoo: {
    orgName: 'Yahoo',
    email: 'dmarchelp@yahooinc.com',
    receiver: 'yahoo.com',
    reportId: (rng, begin) => `${begin}.${rng.int(100000, 999999)}`,
    container: 'gzip',
  },
  microsoft: {
    orgName: 'Enterprise Outlook',
    email: 'dmarcreport@microsoft.com',
    receiver: 'protection.outlook.com',
    reportId: (rng) => rng.hex(32),
    container: 'gzip',
  },
  smallIsp: {
    orgName: 'Kabelnetz Example ISP',
    email: 'dmarc-reports@kabelnetz.example',
    receiver: 'kabelnetz.example',
    reportId: (rng) => `${rng.int(1000, 99999)}`,
    container: 'xml',
  },
  fastmail: {
    orgName: 'Fastmail Pty Ltd',
    email: 'dmarc-reports@fastmail.example',
    receiver: 'fastmail.example',
    reportId: (rng) => `${rng.int(100000000, 999999999)}`,
    container: 'gzip',
  },
} as const satisfies Record<string, Reporter>;

export const ALL_REPORTERS: readonly Reporter[] = Object.values(REPORTERS);

/** An IPv4 address in a /24 given as "a.b.c" (host 1..254). */
export function ipv4In(prefix24: string, rng: Rng): string {
  return `${prefix24}.${rng.int(1, 254)}`;
}

/** An address in 2001:db8::/32 (IPv6 documentation range), compressed canonical form. */
export function docIpv6(rng: Rng): string {
  return `2001:db8:${rng.int(1, 0xffff).toString(16)}::${rng.int(1, 0xffff).toString(16)}`;
}

/** The three IPv4 documentation /24s (RFC 5737). */
export const DOC_NETS_V4 = ['192.0.2', '198.51.100', '203.0.113'] as const;

export function docIp(rng: Rng, v6Share = 0.2): string {
  return rng.chance(v6Share) ? docIpv6(rng) : ipv4In(rng.pick(DOC_NETS_V4), rng);
}
