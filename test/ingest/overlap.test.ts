// ingestOverlapped with the real reader (or one that delays it) and a real SQLite store: results
// in input order whatever order the reads finish in, the source pulled only a bounded way ahead,
// a stop that stores nothing read ahead, and the dedupe of many inputs in one lookup.

import { afterEach, describe, expect, it } from 'vitest';
import { readReports } from '../../src/reader/index.ts';
import { ingestOverlapped, type OverlapItem } from '../../src/ingest/overlap.ts';
import type { IngestDeps, ReadReports } from '../../src/ingest/pipeline.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { distinctAggregateXml } from '../support/mail.ts';
import { freshSqliteStore, storeTotals } from './totals.ts';

let store: ReportStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

/** A source of `count` distinct report files that records how far it was pulled and whether it was closed. */
function source(count: number, first = 0) {
  const state = { pulled: 0, closed: false };
  async function* items(): AsyncGenerator<OverlapItem<number>> {
    try {
      for (let n = first; n < first + count; n++) {
        state.pulled += 1;
        yield { key: n, input: { source: `file-${n}.xml`, bytes: distinctAggregateXml(n) } };
      }
    } finally {
      state.closed = true;
    }
  }
  return { items: items(), state };
}

/** The real reader, each read delayed so that later inputs finish first. */
const reversedReader: ReadReports = async (bytes, options) => {
  const n = Number(/file-(\d+)/.exec(options.source)?.[1] ?? 0);
  await new Promise((resolve) => setTimeout(resolve, 5 + (7 - (n % 8)) * 15));
  return readReports(bytes, options);
};

describe('ingestOverlapped', () => {
  it('stores and yields in input order while reads finish out of order, each report once', async () => {
    ({ store } = await freshSqliteStore());
    const finished: string[] = [];
    const read: ReadReports = async (bytes, options) => {
      const outcome = await reversedReader(bytes, options);
      finished.push(options.source);
      return outcome;
    };
    const { items } = source(16);
    const seen: number[] = [];
    for await (const { key, result } of ingestOverlapped(items, { store, read }, { reads: 4 })) {
      expect(result).toMatchObject({ source: `file-${key}.xml`, new: 1, duplicates: 0, errors: [] });
      seen.push(key);
    }
    expect(seen).toEqual(Array.from({ length: 16 }, (_, n) => n));
    // the reads really overlapped: they did not finish in input order
    expect(finished).not.toEqual(seen.map((n) => `file-${n}.xml`));
    expect((await storeTotals(store)).reports).toHaveLength(16);
  });

  it('pulls the source at most `ahead` inputs beyond the one stored, and a stop stores nothing read ahead', async () => {
    ({ store } = await freshSqliteStore());
    const { items, state } = source(40);
    const pulledAt: number[] = [];
    let stored = 0;
    for await (const { result } of ingestOverlapped(items, { store, read: reversedReader }, { reads: 3, ahead: 5 })) {
      stored += result.new;
      pulledAt.push(state.pulled);
      if (stored === 10) break;
    }
    // the consumer had taken k inputs; the window holds at most 5 more, one more may be in the pull
    pulledAt.forEach((pulled, index) => expect(pulled).toBeLessThanOrEqual(index + 1 + 5 + 1));
    expect(state.closed).toBe(true);
    expect(state.pulled).toBeLessThan(40);
    await store.flush();
    expect((await storeTotals(store)).reports).toHaveLength(10);
  });

  it('asks the store once for the dedupe of every input already read, and counts stored ones as duplicates', async () => {
    ({ store } = await freshSqliteStore());
    for await (const _ of ingestOverlapped(source(6).items, { store, read: readReports }));
    const real = store;
    const lookups: number[] = [];
    const counting: IngestDeps['store'] = {
      ingest: (...args) => real.ingest(...args),
      storedReports: (keys) => {
        lookups.push(keys.length);
        return real.storedReports(keys);
      },
    };
    // inputs 0..5 again (duplicates) and 6..11 (new), all read before the first is stored
    const items = (async function* () {
      for await (const item of source(12).items) yield item;
    })();
    const gate = new Promise<void>((resolve) => setTimeout(resolve, 300));
    const slowFirst: ReadReports = async (bytes, options) => {
      if (options.source === 'file-0.xml') await gate;
      return readReports(bytes, options);
    };
    const totals = { new: 0, duplicates: 0 };
    for await (const { result } of ingestOverlapped(
      items,
      { store: counting, read: slowFirst },
      { reads: 12, ahead: 12 },
    )) {
      totals.new += result.new;
      totals.duplicates += result.duplicates;
    }
    expect(totals).toEqual({ new: 6, duplicates: 6 });
    // one lookup answered the whole window that was read while the first input waited
    expect(lookups[0]).toBe(12);
    expect(lookups.length).toBeLessThan(3);
    expect((await storeTotals(store)).reports).toHaveLength(12);
  });
});
