// Offline identities of a stored day's rows, kept in a local file per day between processes: a
// one-shot `ask ready` would otherwise identify the window's 20-30k IPs again (and load the range
// tables to do it) on every start. It is a derived cache, rebuilt from the store when missing: an
// entry is used only when its scope (the store, the program, the range data and the known
// senders) and the day it was made from (its report parts, every row's IP and the string table)
// are the same as the day's now; anything else, a torn or
// corrupt file included, is simply not used.

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DayIdentityCache, SenderIdentity } from '../insight/types.ts';
import type { StoredDaySummary } from '../store/summary.ts';
import { fnv1a32 } from '../text/fnv1a.ts';

/** Layout of an entry; also part of its scope (a change of the layout leaves old files unused). */
const FORMAT = 1;

// Entries not written again for this long are removed: an old program's or data version's folder
// is never read again, nor are days long out of every window (a removed entry is only rebuilt).
const STALE_MS = 30 * 24 * 3_600_000;

/** Removes what in `folder` was last written more than STALE_MS ago (its files, or its folders whole). */
function pruneStale(folder: string, now: number): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    try {
      const path = join(folder, name);
      if (now - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another process removed it first, or it is not ours to remove
    }
  }
}

/** FNV-1a (32 bit) of a text, as 8 hex digits: names a scope's folder (the scope itself is in each file). */
export function textHash(text: string): string {
  return fnv1a32(text).toString(16).padStart(8, '0');
}

/**
 * The day's report parts (a summary is a function of its day's parts, and a part, once stored, is
 * named by its report key and ingestion instant) and the sizes of its number columns, as one text.
 * The IPs and the string table are compared whole. Not a checksum of the numbers: a cold loop over
 * a busy month's columns cost about as much as identifying its IPs.
 */
function partsSignature(day: StoredDaySummary): string {
  let text = `${day.counts.length} ${day.pairs.length}`;
  for (const head of day.reports) text += `\n${head.reportKey}@${head.ingestedAt}`;
  return text;
}

/** An identity as stored: its fields in identityLiteral's order; key and name null when they are the row's IP. */
type StoredIdentity = [
  ptr: string | null,
  asn: number | null,
  asName: string | null,
  country: string | null,
  key: string | null,
  name: string | null,
  by: SenderIdentity['by'],
  service: string | null,
  forwarder: boolean,
];

interface Entry {
  format: number;
  scope: string;
  domain: string;
  date: string;
  parts: string;
  ips: string[];
  keys: string[];
  identities: StoredIdentity[];
  /** per row, its identity's index */
  rows: number[];
}

const BY = new Set<unknown>(['known', 'ptr', 'asn', 'ip']);
const textOrNull = (value: unknown) => value === null || typeof value === 'string';

function validIdentity(value: unknown): value is StoredIdentity {
  if (!Array.isArray(value) || value.length !== 9) return false;
  const [ptr, asn, asName, country, key, name, by, service, forwarder] = value as unknown[];
  return (
    textOrNull(ptr) &&
    (asn === null || typeof asn === 'number') &&
    textOrNull(asName) &&
    textOrNull(country) &&
    textOrNull(key) &&
    textOrNull(name) &&
    BY.has(by) &&
    textOrNull(service) &&
    typeof forwarder === 'boolean'
  );
}

function sameTexts(stored: unknown, texts: readonly unknown[]): boolean {
  if (!Array.isArray(stored) || stored.length !== texts.length) return false;
  for (let at = 0; at < texts.length; at++) if (stored[at] !== String(texts[at])) return false;
  return true;
}

/** The cache in `dir`, for one scope (a text naming the store, the program and the data versions). */
export function fileIdentityCache(dir: string, scope: string): DayIdentityCache {
  const scopes = join(dir, 'identities');
  const folder = join(scopes, textHash(scope));
  let pruned = false;
  const fileOf = (day: StoredDaySummary) =>
    join(folder, `${encodeURIComponent(day.domain)}_${encodeURIComponent(day.date)}.json`);

  return {
    read(day) {
      let entry: Entry;
      try {
        entry = JSON.parse(readFileSync(fileOf(day), 'utf8')) as Entry;
      } catch {
        return null;
      }
      if (
        typeof entry !== 'object' ||
        entry === null ||
        entry.format !== FORMAT ||
        entry.scope !== scope ||
        entry.domain !== day.domain ||
        entry.date !== day.date ||
        !sameTexts(entry.ips, day.ips) ||
        !sameTexts(entry.keys, day.keys) ||
        entry.parts !== partsSignature(day)
      )
        return null;
      const { identities, rows } = entry;
      if (!Array.isArray(identities) || !identities.every(validIdentity)) return null;
      if (!Array.isArray(rows) || rows.length !== day.ips.length) return null;
      for (const index of rows) if (!Number.isInteger(index) || index < 0 || index >= identities.length) return null;
      // made when asked: a window needs each IP's identity once, from the first day that has it
      return (row) => {
        const stored = identities[rows[row]!]!;
        const ip = String(day.ips[row]);
        // one literal, in identityLiteral's order: every identity shares one hidden class
        return {
          ptr: stored[0],
          asn: stored[1],
          asName: stored[2],
          country: stored[3],
          key: stored[4] ?? ip,
          name: stored[5] ?? ip,
          by: stored[6],
          service: stored[7],
          forwarder: stored[8],
        };
      };
    },

    write(day, rowIdentities) {
      const identities: StoredIdentity[] = [];
      const indexOf = new Map<string, number>();
      const rows: number[] = [];
      for (let row = 0; row < rowIdentities.length; row++) {
        const identity = rowIdentities[row]!;
        const ip = String(day.ips[row]);
        const stored: StoredIdentity = [
          identity.ptr,
          identity.asn,
          identity.asName,
          identity.country,
          identity.key === ip ? null : identity.key,
          identity.name === ip ? null : identity.name,
          identity.by,
          identity.service,
          identity.forwarder,
        ];
        const text = JSON.stringify(stored);
        let index = indexOf.get(text);
        if (index === undefined) indexOf.set(text, (index = identities.push(stored) - 1));
        rows.push(index);
      }
      const entry: Entry = {
        format: FORMAT,
        scope,
        domain: day.domain,
        date: day.date,
        parts: partsSignature(day),
        ips: day.ips.map(String),
        keys: day.keys.map(String),
        identities,
        rows,
      };
      const file = fileOf(day);
      const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
      try {
        mkdirSync(folder, { recursive: true, mode: 0o700 });
        writeFileSync(temporary, JSON.stringify(entry), { mode: 0o600 });
        renameSync(temporary, file);
        if (!pruned) {
          // once a process, after a write: a folder written into is fresh, old scopes' are not
          pruned = true;
          const now = Date.now();
          pruneStale(scopes, now);
          pruneStale(folder, now);
        }
      } catch {
        // a cache that cannot be written is only slower
        try {
          rmSync(temporary, { force: true });
        } catch {
          // the folder itself is unusable
        }
      }
    },
  };
}
