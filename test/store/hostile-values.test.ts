// Values a hostile or broken report can carry, straight into the store (the reader refuses most
// of them first; the store must defend itself too). The same suite on SQLite, Redis and PostgreSQL.

import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend, openStore, InvalidReportError } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { dayRange } from '../../src/store/days.ts';
import { summary } from '../../src/insight/summary.ts';
import { ipInsight } from '../../src/insight/ip.ts';
import { allFixtures, type BackendFixture } from './backends.ts';
import { aggregate, record, tls } from './factories.ts';

const fixtures = allFixtures();
// lower case: the store lower-cases IPs, header From domains and dispositions
const DATA_KEYS = ['__proto__', 'constructor', 'prototype'];

const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

function prototypeIsClean() {
  // nothing was added to Object.prototype, and a fresh object inherits nothing new
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
  const probe: Record<string, unknown> = {};
  for (const key in probe) throw new Error(`Object.prototype gained ${key}`);
  expect(probe.sources).toBeUndefined();
  expect(probe['192.0.2.1']).toBeUndefined();
}

describe.each(fixtures)('hostile values on $name', (fixture: BackendFixture) => {
  beforeAll(() => fixture.start(), 120_000);
  afterAll(() => fixture.stop());

  const open = async (): Promise<{ store: ReportStore; url: string; namespace: string }> => {
    const target = fixture.fresh();
    return { store: await openStore(target.url, { namespace: target.namespace }), ...target };
  };

  it('keeps __proto__, constructor and toString as plain data keys', async () => {
    const { store } = await open();
    try {
      const report = aggregate({
        reportId: 'proto',
        org: 'toString',
        begin: '2024-03-10T00:00:00Z',
        end: '2024-03-10T23:59:59Z',
        records: DATA_KEYS.map((key, index) =>
          record(key, index + 1, { headerFrom: key, disposition: key, reasons: [key] }),
        ),
      });
      expect(await store.ingest(report, 'test')).toBe('new');
      await store.flush();
      prototypeIsClean();

      const [day] = await store.days('example.org', '2024-03-10', '2024-03-10');
      const part = Object.values(day!.reports)[0]!;
      expect(part.sources.map((source) => source.ip).sort()).toEqual([...DATA_KEYS].sort());
      for (const source of part.sources) {
        const count = DATA_KEYS.indexOf(source.ip) + 1;
        expect(Object.hasOwn(source.headerFrom, source.ip)).toBe(true);
        expect(source.headerFrom[source.ip]).toBe(count);
        expect(source.dispositions[source.ip]).toBe(count);
      }

      for (const [index, key] of DATA_KEYS.entries()) {
        const entries = await store.ipEntries(key, '2024-03-01', '2024-03-31');
        expect(entries).toHaveLength(1);
        expect(entries[0]!.messages).toBe(index + 1);
        expect(entries[0]!.orgName).toBe('toString');
        const insight = ipInsight({
          ip: key,
          entries,
          identity: null,
          mark: null,
          window: { from: '2024-03-01', to: '2024-03-31' },
        });
        expect(insight.messages).toBe(index + 1);
        expect(insight.reporters).toEqual(['toString']);
      }
      // a domain named like a prototype key asks for nothing that exists
      expect(await store.days('constructor', '2024-03-01', '2024-03-31')).toEqual([]);
      expect(await store.ipEntries('192.0.2.1', '2024-03-01', '2024-03-31')).toEqual([]);

      const shown = summary({ days: [day!], window: { from: '2024-03-10', to: '2024-03-10' } });
      const dispositions = shown.domains[0]!.dispositions;
      expect(Object.keys(dispositions).sort()).toEqual([...DATA_KEYS].sort());
      expect(dispositions.constructor).toBe(2);
      expect(dispositions.prototype).toBe(3);
      expect(shown.messages).toBe(6);
      expect(shown.domains[0]!.reporters).toBe(1);
      prototypeIsClean();
    } finally {
      await store.close();
    }
  });

  it('stores and lists a mark on __proto__ and removes it again', async () => {
    const { store } = await open();
    try {
      for (const subject of ['__proto__', 'constructor'])
        await store.setMark({ subject, verdict: 'mine', by: 'owner', at: '2024-03-10T00:00:00Z' });
      const marks = await store.marks();
      expect(Object.keys(marks).sort()).toEqual(['__proto__', 'constructor']);
      expect(marks['__proto__']!.verdict).toBe('mine');
      await store.clearMark('__proto__');
      expect(Object.keys(await store.marks())).toEqual(['constructor']);
      await store.clearMark('toString');
      expect(Object.keys(await store.marks())).toEqual(['constructor']);
      prototypeIsClean();
    } finally {
      await store.close();
    }
  });

  it('refuses reports dated in the year 10000 or before 1970, and counts that are not safe integers', async () => {
    const { store } = await open();
    try {
      const far = aggregate({
        reportId: 'far',
        begin: new Date(253402300800000).toISOString(),
        end: new Date(253402300800000 + 86_399_000).toISOString(),
        records: [record('192.0.2.1', 1)],
      });
      await expect(store.ingest(far, 'test')).rejects.toThrow(InvalidReportError);
      await expect(store.ingest(far, 'test')).rejects.toThrow(/outside 1970-01-01 \.\. 2199-12-31/);
      const old = aggregate({
        reportId: 'old',
        begin: '1969-12-31T00:00:00Z',
        end: '1969-12-31T23:59:59Z',
        records: [record('192.0.2.1', 1)],
      });
      await expect(store.ingest(old, 'test')).rejects.toThrow(InvalidReportError);
      for (const count of [Number(`1${'0'.repeat(400)}`), 2 ** 53, -1, 1.5, Number.NaN]) {
        const report = aggregate({
          reportId: `count-${count}`,
          begin: '2024-03-10T00:00:00Z',
          end: '2024-03-10T23:59:59Z',
          records: [record('192.0.2.1', count)],
        });
        await expect(store.ingest(report, 'test')).rejects.toThrow(/is not a whole number of messages/);
      }
      const tlsReport = tls({ begin: '2024-03-10T00:00:00Z', end: '2024-03-10T23:59:59Z', successful: Infinity });
      await expect(store.ingest(tlsReport, 'test')).rejects.toThrow(/is not a whole number/);
      // nothing of it reached the store
      expect(await store.domains()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('prunes and queries an older store whose catalog holds year-10000 days, and ends', async () => {
    const target = fixture.fresh();
    const backend = await openBackend(target.url, target.namespace, console as never);
    await backend.setMany([
      {
        key: 'catalog',
        value: {
          domains: {
            'example.org': { firstDay: '2024-03-10', lastDay: '+010000-01' },
            'poison.example': { firstDay: '+010000-01', lastDay: '+010000-01' },
          },
          failureDomains: {},
          tlsDomains: {},
          logFirstDay: '2024-03-10',
          logLastDay: '+010000-01',
          ipMonths: ['2024-03', '+01000'],
        },
      },
    ]);
    await backend.close();
    const store = await openStore(target.url, { namespace: target.namespace });
    try {
      expect(await store.domains()).toEqual([]);
      const pruned = await store.prune(30, new Date('2026-12-01T00:00:00Z'));
      expect(pruned.deletedKeys).toBeGreaterThanOrEqual(0);
      expect(await store.days(null, '2024-01-01', '9999-12-31')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('keeps report-level text out of the per-IP index (1 MB org name, 3,000 IPs)', async () => {
    const { store, url } = await open();
    try {
      const records = Array.from({ length: 3000 }, (_, index) =>
        record(`10.${Math.floor(index / 250)}.${index % 250}.1`, 1),
      );
      const report = aggregate({
        reportId: 'big-org',
        org: 'x'.repeat(1024 * 1024),
        begin: '2024-03-10T00:00:00Z',
        end: '2024-03-10T23:59:59Z',
        records,
      });
      expect(await store.ingest(report, 'test')).toBe('new');
      await store.flush();
      const [entry] = await store.ipEntries('10.0.0.1', '2024-03-10', '2024-03-10');
      expect(entry!.orgName.length).toBeLessThanOrEqual(256);
      expect(entry!.orgName.startsWith('xxx')).toBe(true);
      const [day] = await store.days('example.org', '2024-03-10', '2024-03-10');
      expect(Object.values(day!.reports)[0]!.orgName.length).toBeLessThanOrEqual(256);
      if (fixture.name === 'sqlite') {
        // the whole store: a few MB for 3,000 rows, not 3,000 copies of the org name (3 GB)
        const path = url.slice('sqlite://'.length);
        const size = statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);
        expect(size).toBeLessThan(20 * 1024 * 1024);
      }
    } finally {
      await store.close();
    }
  });
});

describe('day arithmetic', () => {
  it('ends at the last day JavaScript dates can name as YYYY-MM-DD and refuses what lies beyond', () => {
    expect(dayRange('9999-12-30', '9999-12-31')).toEqual(['9999-12-30', '9999-12-31']);
    expect(() => dayRange('9999-12-30', '+010000-01-01')).toThrow(RangeError);
    expect(dayRange('2024-03-02', '2024-03-01')).toEqual([]);
  });
});
