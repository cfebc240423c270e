// DNS adapter over node:dns/promises. Every lookup is bounded (one try, a short timeout, and a
// deadline of our own on top). "No such name / no data" answers []; a timeout or an unreachable
// server rejects, so callers can tell "no name" (cacheable) from "could not ask" (not cacheable).
// Callers treat a rejection as "without names": never a reason to keep a chat user waiting.

import { Resolver } from 'node:dns/promises';
import type { AddressLookup, PtrLookup } from '../senders/lookups.ts';
import { createRecordResolver, offlineRecords, type RecordResolver } from './dns-records.ts';

export interface DnsAdapter {
  reverse: PtrLookup;
  resolve: AddressLookup;
  /** TXT/MX/A/... lookups for the published-record checks, cached for their TTL */
  records: RecordResolver;
  timeoutMs: number;
}

export interface DnsOptions {
  /** "host" or "host:port" entries; empty uses the system's resolvers */
  servers?: readonly string[];
  timeoutMs: number;
}

const NO_ANSWER = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

export class DnsUnavailableError extends Error {
  constructor(what: string, cause: string) {
    super(`DNS lookup of ${what} failed: ${cause}`);
    this.name = 'DnsUnavailableError';
  }
}

/** Races a lookup against a deadline: [] for "no such name", a DnsUnavailableError otherwise. */
async function bounded(what: string, lookup: () => Promise<string[]>, timeoutMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DnsUnavailableError(what, `no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const attempt = lookup().catch((error: NodeJS.ErrnoException) => {
    if (error.code && NO_ANSWER.has(error.code)) return [] as string[];
    throw new DnsUnavailableError(what, error.code ?? error.message);
  });
  try {
    return await Promise.race([attempt, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function createDnsResolver({ servers = [], timeoutMs }: DnsOptions): DnsAdapter {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return {
    timeoutMs,
    records: createRecordResolver({ servers, timeoutMs }),
    reverse: (ip) => bounded(`PTR ${ip}`, () => resolver.reverse(ip), timeoutMs),
    resolve: async (name) => {
      const [v4, v6] = await Promise.all([
        bounded(`A ${name}`, () => resolver.resolve4(name), timeoutMs),
        bounded(`AAAA ${name}`, () => resolver.resolve6(name), timeoutMs),
      ]);
      return [...v4, ...v6];
    },
  };
}

/** No DNS at all: for offline use and for tests that want identification from offline data only. */
export const noDns: DnsAdapter = {
  timeoutMs: 0,
  reverse: async () => [],
  resolve: async () => [],
  records: offlineRecords,
};
