// A record resolver with the shape of node's `dns.resolve(name, rrtype)` (TXT gives string[][], MX
// { exchange, priority }[], A/AAAA string[]), which mailauth's SPF, DMARC and MTA-STS helpers take
// as their `resolver`. "No such name" and "no data" reject with ENOTFOUND / ENODATA (mailauth counts
// those as void lookups); a server that does not answer rejects with ETIMEOUT (or its own code).
// Answers are cached for their TTL where node reports it (A/AAAA), else for a capped time; negative
// answers briefly; failures to ask never.

import { Resolver } from 'node:dns/promises';

export type RecordResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface RecordResolverOptions {
  servers?: readonly string[];
  timeoutMs: number;
  /** the longest an answer is kept, in seconds (TXT and MX come without a TTL from node) */
  maxTtlSeconds?: number;
  /** how long "no such name / no data" is kept, in seconds */
  negativeTtlSeconds?: number;
  maxEntries?: number;
  now?: () => number;
}

const NO_ANSWER = new Set(['ENOTFOUND', 'ENODATA']);
const SUPPORTED = new Set(['A', 'AAAA', 'TXT', 'MX', 'CNAME', 'PTR', 'NS']);

export class DnsLookupError extends Error {
  constructor(
    readonly code: string,
    readonly query: string,
  ) {
    super(`${query}: ${code}`);
    this.name = 'DnsLookupError';
  }
}

/** True for an error that means "the name or the data does not exist" (an answer, not a failure). */
export function isNoAnswer(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NO_ANSWER.has(code);
}

interface CacheEntry {
  expires: number;
  value?: unknown;
  code?: string;
}

/** A resolver that never answers: for offline use; every check it feeds says "could not check". */
export const offlineRecords: RecordResolver = async (name, rrtype) => {
  throw new DnsLookupError('EOFFLINE', `${rrtype} ${name}`);
};

export function createRecordResolver({
  servers = [],
  timeoutMs,
  maxTtlSeconds = 300,
  negativeTtlSeconds = 60,
  maxEntries = 5000,
  now = Date.now,
}: RecordResolverOptions): RecordResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers.length > 0) resolver.setServers([...servers]);
  const cache = new Map<string, CacheEntry>();
  const pending = new Map<string, Promise<unknown>>();

  async function ask(name: string, rrtype: string): Promise<{ value: unknown; ttl: number }> {
    if (rrtype === 'A' || rrtype === 'AAAA') {
      const answers =
        rrtype === 'A' ? await resolver.resolve4(name, { ttl: true }) : await resolver.resolve6(name, { ttl: true });
      const ttl = answers.reduce((low, answer) => Math.min(low, answer.ttl), maxTtlSeconds);
      return { value: answers.map((answer) => answer.address), ttl };
    }
    if (rrtype === 'MX') {
      // Newer node versions add a `type` field; keep the one shape mailauth and the checks read.
      const answers = await resolver.resolveMx(name);
      return { value: answers.map(({ exchange, priority }) => ({ exchange, priority })), ttl: maxTtlSeconds };
    }
    return { value: await resolver.resolve(name, rrtype), ttl: maxTtlSeconds };
  }

  function remember(key: string, entry: CacheEntry): void {
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
  }

  async function lookup(name: string, rrtype: string, key: string): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DnsLookupError('ETIMEOUT', key)), timeoutMs);
    });
    try {
      const { value, ttl } = await Promise.race([ask(name, rrtype), deadline]);
      remember(key, { expires: now() + Math.max(0, ttl) * 1000, value });
      return value;
    } catch (error) {
      if (error instanceof DnsLookupError) throw error;
      const code = String((error as NodeJS.ErrnoException).code ?? 'ESERVFAIL');
      if (NO_ANSWER.has(code)) remember(key, { expires: now() + negativeTtlSeconds * 1000, code });
      throw new DnsLookupError(code, key);
    } finally {
      clearTimeout(timer);
    }
  }

  return async (rawName, rawType) => {
    const name = rawName.trim().toLowerCase().replace(/\.$/, '');
    const rrtype = rawType.toUpperCase();
    const key = `${rrtype} ${name}`;
    if (!SUPPORTED.has(rrtype) || name.length === 0 || name.length > 253) throw new DnsLookupError('EBADQUERY', key);
    const cached = cache.get(key);
    if (cached && cached.expires > now()) {
      if (cached.code) throw new DnsLookupError(cached.code, key);
      return cached.value;
    }
    if (cached) cache.delete(key);
    let running = pending.get(key);
    if (!running) {
      running = lookup(name, rrtype, key).finally(() => pending.delete(key));
      pending.set(key, running);
    }
    return running;
  };
}
