// Network owner (ASN number and name) and the AS's registration country, from the offline
// @ip-location-db/asn and @ip-location-db/asn-country CSV files shipped as npm packages. Nothing is
// downloaded; files are opened on first use only. Missing files mean "unknown", not an error.
// The IPv4 tables are read through a prepared binary copy in a cache folder (range-table.ts).

import { readFileSync, statSync } from 'node:fs';
import { defaultCacheDir } from '../cache-dir.ts';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RangeFile, splitCsv } from './range-file.ts';
import { cachedIpv4Table } from './range-table.ts';
import { canonicalIpv4Value, ipv4Octets, parseIp } from './match.ts';

export interface AsnInfo {
  asn: number | null;
  asName: string | null;
  country: string | null;
}

/** An address's network; `ipv4` takes an IPv4 address as its number (canonicalIpv4Value). */
export type AsnLookup = ((ip: string) => AsnInfo) & {
  ipv4?: (value: number) => AsnInfo;
  /** what the answers are made from (the data packages and their files): changes when they do */
  version?: () => string;
};

const none: AsnInfo = { asn: null, asName: null, country: null };

function ipToNumber(ip: string): { family: 4 | 6; value: bigint | number } | null {
  const octets = ipv4Octets(ip);
  if (octets)
    return { family: 4, value: ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]! };
  const parsed = parseIp(ip);
  if (!parsed) return null;
  const bytes = parsed.toByteArray();
  if (parsed.kind() === 'ipv4') return { family: 4, value: Number(bytes.reduce((sum, byte) => sum * 256 + byte, 0)) };
  return { family: 6, value: bytes.reduce((sum, byte) => (sum << 8n) | BigInt(byte), 0n) };
}

function packageDir(name: string): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function packageVersion(dir: string | null): string {
  try {
    const manifest = JSON.parse(readFileSync(join(dir ?? '', 'package.json'), 'utf8')) as {
      name?: unknown;
      version?: unknown;
    };
    return `${String(manifest.name)}@${String(manifest.version)}`;
  } catch {
    return 'unknown';
  }
}

/**
 * Where the prepared tables are kept: the user's cache folder, else a private folder in the
 * temporary directory (the service's home is read-only; its /tmp is its own). Null: no cache.
 */
export const defaultRangeCacheDir = defaultCacheDir;

function opener<T>(dir: string | null, file: string, open: (path: string) => T): () => T | null {
  let opened: T | null | undefined;
  return () => {
    if (opened === undefined) {
      try {
        opened = dir ? open(join(dir, file)) : null;
      } catch {
        opened = null;
      }
    }
    return opened;
  };
}

export interface AsnLookupOptions {
  /** the folder of the prepared tables; null: parse the CSV files every time (default: defaultRangeCacheDir) */
  cacheDir?: string | null;
}

/** An ASN lookup over the packaged data, for bulk classification: IPv6 answers are memoised (bounded). */
export function createAsnLookup(options: AsnLookupOptions = {}): AsnLookup {
  const asnDir = packageDir('@ip-location-db/asn');
  const countryDir = packageDir('@ip-location-db/asn-country');
  let cacheDir: string | null | undefined = options.cacheDir;
  const table = (dir: string | null) => (path: string) =>
    cachedIpv4Table(path, packageVersion(dir), (cacheDir ??= defaultRangeCacheDir())).table;
  const files = {
    asn4: opener(asnDir, 'asn-ipv4-num.csv', table(asnDir)),
    asn6: opener(asnDir, 'asn-ipv6-num.csv', (path) => new RangeFile(path)),
    country4: opener(countryDir, 'asn-country-ipv4-num.csv', table(countryDir)),
    country6: opener(countryDir, 'asn-country-ipv6-num.csv', (path) => new RangeFile(path)),
  };
  const infoOf = (asnFields: string[] | null, countryFields: string[] | null): AsnInfo => {
    const asn = asnFields?.[0] ? Number(asnFields[0]) : null;
    return {
      asn: asn !== null && Number.isFinite(asn) ? asn : null,
      asName: asnFields?.slice(1).join(',').trim() || null,
      country: countryFields?.[0]?.trim() || null,
    };
  };
  // IPv4: one answer per pair of table values (network, country), not per address. A busy month
  // has tens of thousands of addresses in a few thousand networks: each costs two binary searches
  // over typed arrays and a map read, and allocates nothing.
  const byValues = new Map<number, AsnInfo>();
  const ipv4 = (value: number): AsnInfo => {
    const asnTable = files.asn4();
    const countryTable = files.country4();
    const asnIndex = asnTable ? asnTable.indexOf(value) : -1;
    const countryIndex = countryTable ? countryTable.indexOf(value) : -1;
    if (asnIndex < 0 && countryIndex < 0) return none;
    const key = (asnIndex + 1) * ((countryTable?.valueCount ?? 0) + 1) + countryIndex + 1;
    let info = byValues.get(key);
    if (!info) {
      const asnText = asnIndex < 0 ? null : asnTable!.valueAt(asnIndex);
      const countryText = countryIndex < 0 ? null : countryTable!.valueAt(countryIndex);
      info = infoOf(asnText === null ? null : splitCsv(asnText), countryText === null ? null : [countryText]);
      byValues.set(key, info);
    }
    return info;
  };
  const memo = new Map<string, AsnInfo>();
  const lookup: AsnLookup = (ip) => {
    const canonical = canonicalIpv4Value(ip);
    if (canonical >= 0) return ipv4(canonical);
    const cached = memo.get(ip);
    if (cached) return cached;
    const number = ipToNumber(ip);
    if (!number) return none;
    if (typeof number.value === 'number') return ipv4(number.value);
    const info = infoOf(
      files.asn6()?.find(number.value)?.fields ?? null,
      files.country6()?.find(number.value)?.fields ?? null,
    );
    if (memo.size >= 100_000) memo.clear();
    memo.set(ip, info);
    return info;
  };
  lookup.ipv4 = ipv4;
  lookup.version = () => {
    const file = (dir: string | null, name: string) => {
      try {
        const stat = statSync(join(dir ?? '', name));
        return `${name} ${stat.size} ${Math.trunc(stat.mtimeMs)}`;
      } catch {
        return `${name} none`;
      }
    };
    return [
      packageVersion(asnDir),
      file(asnDir, 'asn-ipv4-num.csv'),
      file(asnDir, 'asn-ipv6-num.csv'),
      packageVersion(countryDir),
      file(countryDir, 'asn-country-ipv4-num.csv'),
      file(countryDir, 'asn-country-ipv6-num.csv'),
    ].join('\n');
  };
  return lookup;
}

let shared: AsnLookup | undefined;
/** One process-wide lookup, so the block cache is shared. */
export function defaultAsnLookup(): AsnLookup {
  shared ??= createAsnLookup();
  return shared;
}
