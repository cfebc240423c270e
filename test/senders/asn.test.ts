import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAsnLookup } from '../../src/senders/asn.ts';
import { RangeFile } from '../../src/senders/range-file.ts';
import { Ipv4RangeTable } from '../../src/senders/range-table.ts';
import { canonicalIpv4Value, senderByIpv4, senderByRange } from '../../src/senders/match.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmarc-ranges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 10 ranges of 100 addresses with gaps of 50 between them: range k covers [150k, 150k+99]
const lines = Array.from({ length: 10 }, (_, k) => `${150 * k},${150 * k + 99},${64500 + k},"Net ${k}, Inc."`);
const csv = join(dir, 'ranges.csv');
writeFileSync(csv, `${lines.join('\n')}\n`);

describe('range lookups over a sorted CSV', () => {
  it('finds the containing range at its edges and nothing in the gaps, on disk and in memory', () => {
    const file = new RangeFile(csv);
    const table = new Ipv4RangeTable(csv);
    for (let k = 0; k < 10; k++) {
      for (const value of [150 * k, 150 * k + 50, 150 * k + 99]) {
        expect(file.find(BigInt(value))?.fields).toEqual([String(64500 + k), `Net ${k}, Inc.`]);
        expect(table.find(value)).toBe(`${64500 + k},"Net ${k}, Inc."`);
      }
      expect(file.find(BigInt(150 * k + 120))).toBeNull();
      expect(table.find(150 * k + 120)).toBeNull();
    }
    expect(file.find(10_000n)).toBeNull();
    file.close();
  });
});

describe('the packaged ASN data', () => {
  const lookup = createAsnLookup();
  it('names the network and country of well-known addresses, IPv4, IPv6 and IPv4-mapped', () => {
    expect(lookup('8.8.8.8')).toEqual({ asn: 15169, asName: 'Google LLC', country: 'US' });
    expect(lookup('::ffff:8.8.8.8').asn).toBe(15169);
    expect(lookup('2a00:1450:4864:20::42a').asn).toBe(15169);
    // a name with a comma inside quotes
    expect(lookup('1.1.1.1').asName).toBe('Cloudflare, Inc.');
  });
  it('knows nothing of documentation ranges and non-addresses', () => {
    expect(lookup('192.0.2.1')).toEqual({ asn: null, asName: null, country: null });
    expect(lookup('not-an-ip')).toEqual({ asn: null, asName: null, country: null });
  });
});

describe('IPv4 addresses as numbers', () => {
  it('reads canonical dotted quads only; other spellings are left to the full parser', () => {
    expect(canonicalIpv4Value('0.0.0.0')).toBe(0);
    expect(canonicalIpv4Value('8.8.8.8')).toBe(134744072);
    expect(canonicalIpv4Value('255.255.255.255')).toBe(4294967295);
    expect(canonicalIpv4Value('10.0.200.1')).toBe(167823361);
    for (const other of [
      '08.8.8.8',
      '8.8.8.00',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '1..2.3',
      '1.2.3.',
      ' 1.2.3.4',
      '::1',
      '',
    ])
      expect(canonicalIpv4Value(other)).toBe(-1);
  });

  it('finds the same known-sender range by number as by text', () => {
    for (const ip of ['209.85.220.41', '40.107.1.1', '192.0.2.1', '54.240.63.255', '54.240.64.0'])
      expect(senderByIpv4(canonicalIpv4Value(ip))).toBe(senderByRange(ip));
  });

  it('gives the same network by number as by text, and for another spelling of the address', () => {
    const lookup = createAsnLookup();
    expect(lookup.ipv4?.(canonicalIpv4Value('8.8.8.8'))).toEqual(lookup('8.8.8.8'));
    expect(lookup('008.008.008.008')).toEqual(lookup('8.8.8.8'));
    expect(lookup('::ffff:1.1.1.1')).toEqual(lookup('1.1.1.1'));
    // addresses of one network share the answer
    expect(lookup('8.8.4.4')).toBe(lookup('8.8.8.8'));
  });

  it('looks a table value up by index, decoding each once', () => {
    const table = new Ipv4RangeTable(csv);
    expect(table.valueCount).toBe(10);
    const index = table.indexOf(150 * 3 + 7);
    expect(table.valueAt(index)).toBe('64503,"Net 3, Inc."');
    expect(table.indexOf(150 * 3 + 120)).toBe(-1);
    const prepared = Ipv4RangeTable.fromBinary(table.toBinary('id'), 'id')!;
    expect(prepared.indexOf(150 * 3 + 7)).toBe(index);
    expect(prepared.valueAt(index)).toBe('64503,"Net 3, Inc."');
    expect(prepared.valueAt(index)).toBe(prepared.valueAt(index));
  });
});
