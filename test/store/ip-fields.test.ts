// One member of stored documents (the SQLite backend's getFields, which `ip` reads its IP index
// buckets with): the same member the whole document holds, absent when the document or the member
// is, for IPv4, IPv6 and data names such as "__proto__"; names that a JSON path would need escaped
// are read through the whole document.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { openBackend, openStore } from '../../src/store/index.ts';
import { ipBucket } from '../../src/store/keys.ts';
import { aggregate, record } from './factories.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function sqliteUrl(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-ip-fields-'));
  dirs.push(dir);
  return `sqlite://${join(dir, 'store.sqlite')}`;
}

describe('getFields on SQLite', () => {
  it('reads the member each document holds, and nothing for an absent document or member', async () => {
    const backend = await openBackend(sqliteUrl(), 'dmarc', pino({ level: 'silent' }));
    const docs: Record<string, Record<string, unknown>> = {
      a: { '192.0.2.1': { r1: [1, 2, { none: 1 }] }, '2001:db8::1': { r2: [3] }, other: 5 },
      b: { '192.0.2.1': { r3: [4, 0, 'text with "quotes" and \\ slash'] } },
      c: { __proto__: { r4: [6] }, constructor: [7] },
      d: { 'a"b': 8, 'x.y': { deep: [9] } },
    };
    // a key written as JSON text: JSON.parse keeps "__proto__" an own member
    docs.c = JSON.parse('{"__proto__":{"r4":[6]},"constructor":[7]}') as Record<string, unknown>;
    await backend.setMany(Object.entries(docs).map(([key, value]) => ({ key, value })));
    const keys = ['a', 'b', 'missing', 'c', 'd'];
    const whole = await backend.getMany<Record<string, unknown>>(keys);
    const member = (name: string) =>
      whole.map((doc) => (doc != null && Object.hasOwn(doc, name) ? doc[name] : undefined));
    expect(backend.getFields).toBeTypeOf('function');
    for (const name of [
      '192.0.2.1',
      '2001:db8::1',
      'other',
      '__proto__',
      'constructor',
      'a"b',
      'x.y',
      'none',
      'toString',
    ]) {
      const fields = await backend.getFields!(keys, name);
      expect(fields, name).toEqual(member(name));
    }
    expect(await backend.getFields!(keys, '192.0.2.1')).toEqual([
      { r1: [1, 2, { none: 1 }] },
      { r3: [4, 0, 'text with "quotes" and \\ slash'] },
      undefined,
      undefined,
      undefined,
    ]);
    // more keys than one statement reads
    const many = Array.from({ length: 600 }, (_, index) => (index % 3 === 0 ? 'a' : `none-${index}`));
    const fields = await backend.getFields!(many, 'other');
    expect(fields.filter((value) => value === 5).length).toBe(200);
    expect(fields.filter((value) => value === undefined).length).toBe(400);
    await backend.close();
  });

  it('gives ipEntries only the rows of the IP asked, out of a bucket shared with many', async () => {
    const url = sqliteUrl();
    const store = await openStore(url);
    const asked = '192.0.2.10';
    // IPs of the same day's bucket as the one asked about
    const neighbours: string[] = [];
    for (let index = 0; neighbours.length < 30; index++) {
      const ip = `198.51.${index >> 8}.${index & 255}`;
      if (ipBucket(ip) === ipBucket(asked)) neighbours.push(ip);
    }
    for (let report = 0; report < 3; report++)
      await store.ingest(
        aggregate({
          reportId: `r${report}`,
          org: `Org ${report}`,
          begin: '2024-03-10T00:00:00Z',
          end: '2024-03-10T23:59:59Z',
          records: [record(asked, 5 + report), ...neighbours.map((ip, index) => record(ip, index + 1))],
        }),
        'test',
      );
    const entries = await store.ipEntries(asked, '2024-03-01', '2024-03-31');
    // in report-key order: compared by count
    const rows = entries.map((entry) => [entry.ip, entry.date, entry.messages, entry.orgName] as const);
    expect([...rows].sort((a, b) => a[2] - b[2])).toEqual([
      [asked, '2024-03-10', 5, 'Org 0'],
      [asked, '2024-03-10', 6, 'Org 1'],
      [asked, '2024-03-10', 7, 'Org 2'],
    ]);
    expect((await store.ipEntries(neighbours[4]!, '2024-03-01', '2024-03-31')).map((entry) => entry.messages)).toEqual([
      5, 5, 5,
    ]);
    expect(await store.ipEntries('203.0.113.99', '2024-03-01', '2024-03-31')).toEqual([]);
    await store.close();
  });
});
