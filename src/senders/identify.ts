// Who a source IP belongs to. Order of evidence: a known service's published range, its
// forward-confirmed PTR name, the DKIM/SPF domains that passed for the IP in reports; else the PTR's
// organisation (registrable domain), else the network owner (ASN), else the bare IP.
// PTR answers are cached in the store (state "ptr:<ip>") with a TTL, and in memory per store;
// `{ dns: false }` uses only offline data and the in-memory cache (no store read per IP), for bulk
// classification within a chat platform's time limit.

import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getDomain } from '../net/org-domain.ts';
import type { AddressLookup, PtrLookup } from './lookups.ts';
import type { DayIdentityCache, Identify, IdentifyHints, SenderIdentity } from '../insight/types.ts';
import type { PtrCacheEntry, ReportStore } from '../store/types.ts';
import { defaultAsnLookup, defaultRangeCacheDir, type AsnInfo, type AsnLookup } from './asn.ts';
import { fileIdentityCache, textHash } from './identity-cache.ts';
import { knownSenders, type KnownSender } from './known.ts';
import {
  canonicalIpv4Value,
  parseIp,
  sameIp,
  senderByDomains,
  senderByIpv4,
  senderByPtr,
  senderByRange,
} from './match.ts';

export const PTR_CACHE_TTL_MS = 24 * 60 * 60 * 1000;
/** "no name" answers are cached shorter: a DNS outage should not hide names for a day */
export const PTR_NEGATIVE_TTL_MS = 60 * 60 * 1000;
/** at most this many PTR names are forward-checked */
const MAX_NAMES_CHECKED = 3;

export interface IdentifyOptions {
  store: Pick<ReportStore, 'getState' | 'setState'>;
  reverse: PtrLookup;
  resolve: AddressLookup;
  /** bound for one whole identification's DNS work */
  timeoutMs: number;
  asn?: AsnLookup;
  now?: () => Date;
  /**
   * Keep offline identities of stored days between processes (identity-cache.ts): `scope` names the
   * store and the program; `dir` is the cache folder (default: the range tables' folder). Needs an
   * ASN lookup that tells its version.
   */
  cache?: { scope: string; dir?: string | null };
}

export function ptrCacheKey(ip: string): string {
  return `ptr:${parseIp(ip)?.toNormalizedString() ?? ip}`;
}

/** PTR then A/AAAA: a name counts only when it resolves back to the IP. */
export async function forwardConfirmedPtr(
  ip: string,
  reverse: PtrLookup,
  resolve: AddressLookup,
): Promise<{ names: string[]; confirmed: string | null }> {
  const names = (await reverse(ip)).map((name) => name.toLowerCase().replace(/\.$/, ''));
  for (const name of names.slice(0, MAX_NAMES_CHECKED)) {
    const addresses = await resolve(name);
    if (addresses.some((address) => sameIp(address, ip))) return { names, confirmed: name };
  }
  return { names, confirmed: null };
}

function withDeadline<T>(work: Promise<T>, timeoutMs: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.catch(() => fallback),
    new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(fallback), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * PTR answers this process has seen, per store: `{ dns: false }` reads only these, so bulk
 * classification of thousands of IPs costs no store read per IP.
 */
const processMemo = new WeakMap<object, Map<string, PtrCacheEntry>>();
const MEMO_LIMIT = 50_000;

function memoFor(store: object): Map<string, PtrCacheEntry> {
  let memo = processMemo.get(store);
  if (!memo) processMemo.set(store, (memo = new Map()));
  return memo;
}

/** Every identity is built by this one literal, in one order: they all share one hidden class. */
function identityLiteral(
  network: AsnInfo,
  ptr: string | null,
  key: string,
  name: string,
  by: SenderIdentity['by'],
  service: string | null,
  forwarder: boolean,
): SenderIdentity {
  return {
    ptr,
    asn: network.asn,
    asName: network.asName,
    country: network.country,
    key,
    name,
    by,
    service,
    forwarder,
  };
}

export function createIdentify({
  store,
  reverse,
  resolve,
  timeoutMs,
  asn = defaultAsnLookup(),
  now = () => new Date(),
  cache,
}: IdentifyOptions): Identify {
  const memo = memoFor(store);
  const fresh = (entry: PtrCacheEntry) =>
    now().getTime() - Date.parse(entry.at) < (entry.confirmed ? PTR_CACHE_TTL_MS : PTR_NEGATIVE_TTL_MS);
  const remember = (key: string, entry: PtrCacheEntry) => {
    if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value!);
    memo.set(key, entry);
  };

  /** The PTR name this process already knows (undefined: none fresh in memory). */
  function knownPtr(ip: string): string | null | undefined {
    // a busy month's cold start asks for 20-30k IPs before any PTR name is known
    if (memo.size === 0) return undefined;
    const known = memo.get(ptrCacheKey(ip));
    return known && fresh(known) ? known.confirmed : undefined;
  }

  async function ptrOf(ip: string, useDns: boolean): Promise<string | null> {
    const key = ptrCacheKey(ip);
    const known = knownPtr(ip);
    if (known !== undefined) return known;
    if (!useDns) return null;
    const cached = await store.getState<PtrCacheEntry>(key).catch(() => undefined);
    if (cached && fresh(cached)) {
      remember(key, cached);
      return cached.confirmed;
    }
    if (timeoutMs <= 0) return null;
    const found = await withDeadline(forwardConfirmedPtr(ip, reverse, resolve), timeoutMs, null);
    if (!found) return null; // timed out or no server: not cached, so a later ask may still find the name
    const entry: PtrCacheEntry = { names: found.names, confirmed: found.confirmed, at: now().toISOString() };
    remember(key, entry);
    await store.setState(key, entry, found.confirmed ? PTR_CACHE_TTL_MS : PTR_NEGATIVE_TTL_MS).catch(() => undefined);
    return found.confirmed;
  }

  /** `value`: the address's number when it is a canonical IPv4 address (canonicalIpv4Value), else -1. */
  function identityOf(address: string, value: number, ptr: string | null, hints?: IdentifyHints): SenderIdentity {
    const network = value >= 0 && asn.ipv4 ? asn.ipv4(value) : asn(address);
    const known: KnownSender | null =
      (value >= 0 ? senderByIpv4(value) : senderByRange(address)) ??
      (ptr ? senderByPtr(ptr) : null) ??
      (hints ? (senderByDomains(hints.dkimDomains) ?? senderByDomains(hints.spfDomains)) : null);
    if (known) return identityLiteral(network, ptr, known.id, known.name, 'known', known.id, known.forwarder);
    const organisation = ptr ? (getDomain(ptr) ?? ptr) : null;
    if (organisation) return identityLiteral(network, ptr, organisation, organisation, 'ptr', null, false);
    if (network.asn !== null) {
      const name = network.asName ? `AS${network.asn} ${network.asName}` : `AS${network.asn}`;
      return identityLiteral(network, ptr, `AS${network.asn}`, name, 'asn', null, false);
    }
    return identityLiteral(network, ptr, address, address, 'ip', null, false);
  }

  /** The address as the store keys it, with its IPv4 number (-1: not canonical IPv4). */
  const addressOf = (ip: string): [string, number] => {
    const value = canonicalIpv4Value(ip);
    return [value >= 0 ? ip : (parseIp(ip)?.toString() ?? ip), value];
  };

  const identify: Identify = async (ip, hints, options) => {
    const [address, value] = addressOf(ip);
    const ptr = await ptrOf(address, options?.dns !== false);
    // what identityOf gives without a PTR name (an identity made with one has it)
    if (ptr === null && options?.offline && options.offline.ptr === null) return options.offline;
    return identityOf(address, value, ptr, hints);
  };
  identify.offline = (ip, hints) => {
    // the common case first, without the pair: a month's cold start names 20-30k addresses this way
    const value = canonicalIpv4Value(ip);
    if (value >= 0) return identityOf(ip, value, knownPtr(ip) ?? null, hints);
    const [address] = addressOf(ip);
    return identityOf(address, -1, knownPtr(address) ?? null, hints);
  };
  let dayCache: DayIdentityCache | null | undefined;
  identify.offlineCache = () => {
    // a PTR name known in memory changes offline's answer for its IP
    if (memo.size > 0) return null;
    if (dayCache === undefined) {
      const dir = cache && asn.version ? (cache.dir === undefined ? defaultRangeCacheDir() : cache.dir) : null;
      dayCache = dir
        ? fileIdentityCache(dir, [cache!.scope, asn.version!(), knownSendersVersion(), codeVersion()].join('\n'))
        : null;
    }
    return dayCache;
  };
  return identify;
}

/**
 * The identification code itself, so that a changed build (or source file) does not reuse entries
 * made by another: a bundled chunk's name carries a hash of its code, a source file its mtime.
 */
function codeVersion(): string {
  try {
    const stat = statSync(fileURLToPath(import.meta.url));
    return `code ${import.meta.url} ${stat.size} ${Math.trunc(stat.mtimeMs)}`;
  } catch {
    return `code ${import.meta.url}`;
  }
}

let knownVersion: string | undefined;
/** The known senders' list as a hash: identities name them. */
function knownSendersVersion(): string {
  return (knownVersion ??= `known ${textHash(JSON.stringify(knownSenders))}`);
}
