// The shape of bench:query's generated stores, shared by the bench (which builds them) and its
// measured child (which queries them): one busy domain, its regular senders and the random rest.
import type { Identify, SenderIdentity } from '../../../src/insight/types.ts';

export const RECORDS = 20;
export const IPS = 50_000;
export const DOMAIN = 'busy.example';
/** The regular senders (own servers, ESPs, a forgotten relay) send every day; the rest is random. */
export const REGULAR = 500;
export const REGULAR_PER_REPORT = Math.round(RECORDS * 0.6);

// 198.18.0.0/15 is reserved for benchmarks (RFC 2544): 131,072 addresses.
export const ipOf = (index: number) => `198.${18 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`;
export const indexOf = (ip: string) => {
  const [, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return ((b - 18) << 16) | (c << 8) | d;
};

/** Small deterministic PRNG (mulberry32) so every build is the same store. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Offline identification as the real one does it with `dns: false`: ranges and the ASN table. */
export const tableIdentify: Identify = async (ip) => {
  const index = indexOf(ip);
  const base: SenderIdentity = {
    key: ip,
    name: ip,
    by: 'ip',
    service: null,
    forwarder: false,
    ptr: null,
    asn: null,
    asName: null,
    country: null,
  };
  if (index < 100)
    return { ...base, key: 'own.example', name: 'own.example', by: 'ptr', ptr: `mx${index}.own.example` };
  if (index < 400) return { ...base, key: 'esp', name: 'Example ESP', by: 'known', service: 'esp' };
  if (index < REGULAR)
    return {
      ...base,
      key: 'isp-relay.example',
      name: 'isp-relay.example',
      by: 'ptr',
      ptr: `smtp${index}.isp-relay.example`,
    };
  if (index % 10 === 0)
    return { ...base, key: 'mailbox', name: 'Mailbox Provider', by: 'known', service: 'mailbox', forwarder: true };
  if (index % 3 === 0)
    return {
      ...base,
      key: `AS${64500 + (index % 300)}`,
      name: `AS${64500 + (index % 300)} Example Net`,
      by: 'asn',
      asn: 64500 + (index % 300),
    };
  return base;
};

export const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/** One query's timed runs in one child (the parent pools the rounds and takes the quantiles). */
export interface QueryRuns {
  /** wall time of each timed run, in run order */
  times: number[];
  /** CPU time (user+sys, every thread of the process) of each timed run */
  cpu: number[];
  firstMs: number;
}

export type QueryName = 'ip' | 'date' | 'ready' | 'summary' | 'digest';

export interface DensityResult {
  reports: number;
  queries: Record<QueryName, QueryRuns>;
  readyBreakdown: string;
  digestBreakdown: string;
  sources: number;
  maxRssMb: number;
}
