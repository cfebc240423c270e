import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAsnLookup } from '../../src/senders/asn.ts';
import { RangeFile } from '../../src/senders/range-file.ts';
import { Ipv4RangeTable } from '../../src/senders/range-table.ts';

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
