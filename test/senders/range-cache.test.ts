// The prepared binary copy of an IPv4 range table: written on first use, read afterwards, and
// rebuilt from the CSV when it is missing, damaged, cut off, or built from another package version.

import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAsnLookup } from '../../src/senders/asn.ts';
import { Ipv4RangeTable, cachedIpv4Table } from '../../src/senders/range-table.ts';

let dir = '';
let csv = '';
let cache = '';
const prepared = () => join(cache, 'asn-ipv4-num.ranges');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-ranges-'));
  csv = join(dir, 'asn-ipv4-num.csv');
  cache = join(dir, 'cache');
  writeFileSync(
    csv,
    [
      '16777216,16777471,13335,"Cloudflare, Inc."',
      '134744064,134744319,15169,Google LLC',
      '3221225984,3221226239,64496,Doc Net',
    ].join('\n') + '\n',
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The values the table finds for a few addresses inside, between and outside the ranges. */
function probe(table: Ipv4RangeTable): Array<string | null> {
  return [16777216, 16777300, 16777472, 134744072, 3221226000, 3221226240, 0, 4294967295].map((value) =>
    table.find(value),
  );
}

describe('cachedIpv4Table', () => {
  it('parses the CSV and writes the prepared copy when none exists, then reads the copy', () => {
    const first = cachedIpv4Table(csv, 'pkg@1.0.0', cache);
    expect(first.from).toBe('csv');
    expect(probe(first.table)).toEqual([
      '13335,"Cloudflare, Inc."',
      '13335,"Cloudflare, Inc."',
      null,
      '15169,Google LLC',
      '64496,Doc Net',
      null,
      null,
      null,
    ]);
    const second = cachedIpv4Table(csv, 'pkg@1.0.0', cache);
    expect(second.from).toBe('cache');
    expect(probe(second.table)).toEqual(probe(new Ipv4RangeTable(csv)));
  });

  it('rebuilds a damaged copy (a flipped byte fails the checksum) and a cut-off one', () => {
    cachedIpv4Table(csv, 'pkg@1.0.0', cache);
    const bytes = readFileSync(prepared());
    bytes[bytes.length - 3]! ^= 0xff;
    writeFileSync(prepared(), bytes);
    const damaged = cachedIpv4Table(csv, 'pkg@1.0.0', cache);
    expect(damaged.from).toBe('csv');
    expect(probe(damaged.table)).toEqual(probe(new Ipv4RangeTable(csv)));
    expect(cachedIpv4Table(csv, 'pkg@1.0.0', cache).from).toBe('cache');

    writeFileSync(prepared(), readFileSync(prepared()).subarray(0, 40));
    expect(cachedIpv4Table(csv, 'pkg@1.0.0', cache).from).toBe('csv');
    writeFileSync(prepared(), '');
    expect(cachedIpv4Table(csv, 'pkg@1.0.0', cache).from).toBe('csv');
    expect(cachedIpv4Table(csv, 'pkg@1.0.0', cache).from).toBe('cache');
  });

  it('finds nothing, rather than failing, where a copy with a matching checksum points past its values', () => {
    const table = new Ipv4RangeTable(csv);
    const bytes = table.toBinary('id');
    // the layout: a 24-byte header, the identity padded to 4 bytes, then starts, ends and value indexes of the 3 rows
    const firstValueIndex = 24 + 4 + 3 * 4 * 2;
    bytes.writeUInt32LE(7, firstValueIndex);
    bytes.writeUInt32LE(crc32(bytes.subarray(24)), 12);
    const bent = Ipv4RangeTable.fromBinary(bytes, 'id')!;
    expect(bent.find(16777300)).toBeNull();
    expect(bent.find(134744072)).toBe('15169,Google LLC');
  });

  it('rebuilds a copy made from another package version or another CSV file', () => {
    cachedIpv4Table(csv, 'pkg@1.0.0', cache);
    const upgraded = cachedIpv4Table(csv, 'pkg@1.0.1', cache);
    expect(upgraded.from).toBe('csv');
    expect(cachedIpv4Table(csv, 'pkg@1.0.1', cache).from).toBe('cache');

    // the data changed in place (same version): its size and time differ
    writeFileSync(csv, '16777216,16777471,64511,Renamed Net\n');
    utimesSync(csv, new Date(), new Date(Date.now() + 5_000));
    const changed = cachedIpv4Table(csv, 'pkg@1.0.1', cache);
    expect(changed.from).toBe('csv');
    expect(changed.table.find(16777300)).toBe('64511,Renamed Net');
  });

  it('works without a cache folder, and when the folder cannot be written', () => {
    expect(cachedIpv4Table(csv, 'pkg@1.0.0', null).from).toBe('csv');
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    const blocked = cachedIpv4Table(csv, 'pkg@1.0.0', join(dir, 'not-a-folder'));
    expect(blocked.from).toBe('csv');
    expect(probe(blocked.table)).toEqual(probe(new Ipv4RangeTable(csv)));
  });

  it('gives the ASN lookup the same answers from the prepared copy as from the CSV files', () => {
    const parsed = createAsnLookup({ cacheDir: null });
    const fromCopy = createAsnLookup({ cacheDir: cache });
    createAsnLookup({ cacheDir: cache })('8.8.8.8'); // writes the copies
    for (const ip of ['8.8.8.8', '1.1.1.1', '192.0.2.1', '203.0.113.9', '2001:4860:4860::8888'])
      expect(fromCopy(ip)).toEqual(parsed(ip));
  });
});
