// Dedupe keys and document keys, as pure functions. A report's key is a short stable hash of the
// normalised tuple that identifies it, so the same report re-sent (or re-read after a crash) maps
// to the same key, while a sender's report id reused for another domain does not.

import type * as Crypto from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { AggregateReport, FailureReport, Report, TlsReport } from '../model.ts';

/**
 * Hash buckets of the IP index per UTC day (64: a report touches at most 64 index documents a day,
 * and a day with 50,000 records keeps them about 400 KB each). The index is sharded by day, not by month: a month
 * shard grows all month and every batch rewrote nearly all of it (measured: a 5,000-report backlog
 * spent most of its time rewriting month buckets); a day shard is written about once, when that
 * day's reports arrive, and an `ip` query reads one small document per day of its window.
 */
export const IP_BUCKETS = 64;

function normaliseName(value: string | null | undefined): string {
  return (value ?? '').trim().replace(/\s+/g, ' ').toLowerCase();
}

export function normaliseDomain(value: string | null | undefined): string {
  return (value ?? '').trim().toLowerCase().replace(/\.+$/, '');
}

// A dotted quad without leading zeros is its own canonical text: most rows skip the parse.
const CANONICAL_IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Recent other answers (IPv6): a report repeats its sources, and ingest asks for each one
// several times (day split, IP bucket). Bounded: cleared when full.
const MAX_REMEMBERED = 4096;
const remembered = new Map<string, string>();

/** Canonical text of an IP address (IPv4-mapped IPv6 becomes IPv4); other text is trimmed and lower-cased. */
export function normaliseIp(value: string): string {
  if (CANONICAL_IPV4.test(value)) return value;
  const known = remembered.get(value);
  if (known !== undefined) return known;
  const text = value.trim();
  let canonical: string;
  try {
    canonical = ipaddr.process(text).toString();
  } catch {
    canonical = text.toLowerCase();
  }
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(value, canonical);
  return canonical;
}

/** Epoch seconds as text, so "2024-01-01T00:00:00Z" and "2024-01-01T00:00:00.000Z" agree. */
function normaliseInstant(iso: string | null | undefined): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso.trim() : String(Math.floor(ms / 1000));
}

/** node:crypto, loaded on first use: a command that only reads the store does not pay its load (~10 ms). */
let crypto: typeof Crypto | undefined;

function hashTuple(parts: string[]): string {
  crypto ??= process.getBuiltinModule('node:crypto');
  // JSON keeps the tuple unambiguous (no separator can collide with content).
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

export function aggregateKey(
  report: Pick<AggregateReport, 'orgName' | 'reportId' | 'policy' | 'begin' | 'end'>,
): string {
  return hashTuple([
    'aggregate',
    normaliseName(report.orgName),
    report.reportId.trim(),
    normaliseDomain(report.policy.domain),
    normaliseInstant(report.begin),
    normaliseInstant(report.end),
  ]);
}

export function tlsKey(report: Pick<TlsReport, 'orgName' | 'reportId' | 'begin' | 'end'>): string {
  return hashTuple([
    'tls',
    normaliseName(report.orgName),
    report.reportId.trim(),
    normaliseInstant(report.begin),
    normaliseInstant(report.end),
  ]);
}

export function failureKey(
  report: Pick<FailureReport, 'sourceIp' | 'arrivalDate' | 'reportedDomain' | 'messageId' | 'subject'>,
): string {
  const messageId = report.messageId?.trim().replace(/^<|>$/g, '') || null;
  const identity = messageId !== null ? `id:${messageId}` : `subject:${(report.subject ?? '').trim()}`;
  return hashTuple([
    'failure',
    report.sourceIp ? normaliseIp(report.sourceIp) : '',
    normaliseInstant(report.arrivalDate),
    normaliseDomain(report.reportedDomain),
    identity,
  ]);
}

export function reportKey(report: Report): string {
  switch (report.kind) {
    case 'aggregate':
      return aggregateKey(report);
    case 'tls':
      return tlsKey(report);
    case 'failure':
      return failureKey(report);
  }
}

/** FNV-1a (32 bit) of the canonical IP text, modulo the bucket count: stable across processes. */
export function ipBucket(ip: string): number {
  return canonicalIpBucket(normaliseIp(ip));
}

/** ipBucket of an IP already in its canonical text (normaliseIp's output, as the store's rows hold). */
export function canonicalIpBucket(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % IP_BUCKETS;
}

export const docKeys = {
  report: (key: string) => `rep:${key}`,
  day: (domain: string, date: string) => `agg:${domain}:${date}`,
  /** the day document's summary (summary.ts), written with it */
  summary: (domain: string, date: string) => `sum:${domain}:${date}`,
  ipBucket: (day: string, bucket: number) => `ipx:${day}:${bucket}`,
  failureDay: (domain: string, date: string) => `fail:${domain}:${date}`,
  tlsDay: (domain: string, date: string) => `tls:${domain}:${date}`,
  /** ingest log of one UTC day: an index of chunk keys, one chunk written per flush (append-only) */
  logIndex: (date: string) => `logidx:${date}`,
  logChunk: (date: string, chunk: string) => `log:${date}:${chunk}`,
  catalog: 'catalog',
  marks: 'marks',
  ptr: (ip: string) => `ptr:${normaliseIp(ip)}`,
  state: (name: string) => `state:${name}`,
} as const;

/** Key of one IP index entry inside its IP's map: one report part of one domain on one day. */
export function ipEntryKey(domain: string, date: string, key: string): string {
  return `${domain}|${date}|${key}`;
}
