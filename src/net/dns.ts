// DNS adapter over node:dns/promises. Every lookup is bounded (one try, a short timeout, and a
// deadline of our own on top), and any failure (NXDOMAIN, timeout, refused, offline) answers with
// an empty list: names are a nicety, never a reason to keep a chat user waiting or to fail.

import { Resolver } from 'node:dns/promises';
import type { AddressLookup, PtrLookup } from '../commands/types.ts';

export interface DnsAdapter {
  reverse: PtrLookup;
  resolve: AddressLookup;
  timeoutMs: number;
}

export interface DnsOptions {
  /** "host" or "host:port" entries; empty uses the system's resolvers */
  servers?: readonly string[];
  timeoutMs: number;
}

/** Races a lookup against a deadline; lookups that fail or run late answer []. */
async function bounded(lookup: () => Promise<string[]>, timeoutMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), timeoutMs);
  });
  try {
    return await Promise.race([lookup().catch(() => [] as string[]), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function createDnsResolver({ servers = [], timeoutMs }: DnsOptions): DnsAdapter {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return {
    timeoutMs,
    reverse: (ip) => bounded(() => resolver.reverse(ip), timeoutMs),
    resolve: async (name) => {
      const [v4, v6] = await Promise.all([
        bounded(() => resolver.resolve4(name), timeoutMs),
        bounded(() => resolver.resolve6(name), timeoutMs),
      ]);
      return [...v4, ...v6];
    },
  };
}

/** No DNS at all: for offline use and for tests that want identification from offline data only. */
export const noDns: DnsAdapter = { timeoutMs: 0, reverse: async () => [], resolve: async () => [] };
