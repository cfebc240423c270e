// Parsed summaries remembered by their stored text: the same text gives the same document, any
// other text is parsed afresh, only summaries are kept, and a store's summaries stay exact when a
// day is written again between two reads.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openStore, summariseDay } from '../../src/store/index.ts';
import { encodeSummary } from '../../src/store/summary.ts';
import {
  clearParsedSummaries,
  MAX_BYTES,
  parseStored,
  parsedSummaryBytes,
  rememberedText,
} from '../../src/store/summary-cache.ts';
import { aggregate, generateReports, record } from './factories.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A stored summary's text as keyv writes it, with enough rows to be worth remembering. */
function storedText(messages: number, rows = 400): string {
  const sources = Array.from({ length: rows }, (_, index) => ({
    ip: `10.0.${index >> 8}.${index & 255}`,
    messages,
    dmarcPass: 0,
    spfPass: 0,
    dkimPass: 0,
    spfAligned: 0,
    dkimAligned: 0,
    spfUnalignedPass: 0,
    dkimUnalignedPass: 0,
    dispositions: { none: messages },
    reasons: {},
    headerFrom: { 'example.org': messages },
    spf: { 'example.org fail': messages },
    dkim: {},
    firstIngestedAt: '2024-05-02T00:00:00.000Z',
  }));
  const summary = { domain: 'example.org', date: '2024-05-01', reports: [], sources };
  return JSON.stringify({ value: encodeSummary(summary), expires: null });
}

describe('parsed summaries', () => {
  it('are the same document for the same text and parsed afresh for another', () => {
    clearParsedSummaries();
    const text = storedText(3);
    const first = parseStored(text);
    expect(first).toEqual(JSON.parse(text));
    // an equal text read again (a different string object) gives the remembered document
    expect(parseStored(`${text} `.trimEnd())).toBe(first);
    const changed = parseStored(storedText(4));
    expect(changed).not.toBe(first);
    expect(changed).toEqual(JSON.parse(storedText(4)));
  });

  it('keep nothing but summaries', () => {
    clearParsedSummaries();
    const big = JSON.stringify({ value: { domain: 'example.org', rows: 'x'.repeat(40_000) }, expires: null });
    expect(parseStored(big)).not.toBe(parseStored(big));
    const small = JSON.stringify({ value: { v: 2 }, expires: null });
    expect(parseStored(small)).not.toBe(parseStored(small));
  });

  it('hold at most their byte budget, the least recently used let go first', () => {
    clearParsedSummaries();
    const texts = Array.from({ length: 4 }, (_, index) => storedText(index + 1, 4000));
    const documents = texts.map((text) => parseStored(text));
    const bytes = parsedSummaryBytes();
    expect(bytes).toBeGreaterThan(0);
    // reading the first again makes it the most recently used
    expect(parseStored(texts[0]!)).toBe(documents[0]);
    // fill the budget with other days: the first read of each goes first, the newest stays
    const perText = bytes / texts.length;
    const more = Math.ceil(MAX_BYTES / perText);
    for (let index = 0; index < more; index++) parseStored(storedText(100 + index, 4000));
    expect(parsedSummaryBytes()).toBeLessThanOrEqual(MAX_BYTES);
    expect(parseStored(texts[1]!)).not.toBe(documents[1]);
    const last = storedText(100 + more - 1, 4000);
    expect(parseStored(last)).toBe(parseStored(last));
  });

  it('are let go when unused for a while', () => {
    vi.useFakeTimers();
    try {
      clearParsedSummaries();
      const text = storedText(5);
      const first = parseStored(text);
      vi.advanceTimersByTime(9 * 60_000);
      // a read pushes the release back
      expect(parseStored(text)).toBe(first);
      vi.advanceTimersByTime(9 * 60_000);
      expect(parseStored(text)).toBe(first);
      vi.advanceTimersByTime(11 * 60_000);
      expect(parsedSummaryBytes()).toBe(0);
      expect(parseStored(text)).not.toBe(first);
    } finally {
      clearParsedSummaries();
      vi.useRealTimers();
    }
  });

  it('a store reads a day written again between two reads with its new figures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'summary-cache-'));
    dirs.push(dir);
    const store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    for (const report of generateReports(30, 7)) await store.ingest(report, 'test');
    const before = await store.summaries(null, '2023-12-01', '2024-04-30');
    expect(await store.summaries(null, '2023-12-01', '2024-04-30')).toEqual(before);
    const day = before[before.length - 1]!;
    const extra = aggregate({
      domain: day.domain,
      reportId: 'one-more',
      begin: `${day.date}T00:00:00Z`,
      end: `${day.date}T23:59:59Z`,
      records: [record('203.0.113.9', 17, { dmarc: 'fail', headerFrom: day.domain })],
    });
    await store.ingest(extra, 'test');
    const after = await store.summaries(day.domain, day.date, day.date);
    const recomputed = (await store.days(day.domain, day.date, day.date)).map(summariseDay);
    expect(after).toEqual(recomputed);
    expect(after[0]!.sources.find((source) => source.ip === '203.0.113.9')?.messages).toBe(17);
    await store.close();
  });

  it('a store reads a remembered day that it wrote again itself, or that a plain connection changed, with its new figures (SQLite)', async () => {
    clearParsedSummaries();
    const dir = mkdtempSync(join(tmpdir(), 'summary-cache-'));
    dirs.push(dir);
    const file = join(dir, 'store.sqlite');
    const day = { domain: 'example.org', date: '2024-05-01' };
    const key = `dmarc:sum:${day.domain}:${day.date}`;
    const busy = (reportId: string, ips: number, count: number) =>
      aggregate({
        domain: day.domain,
        reportId,
        begin: `${day.date}T00:00:00Z`,
        end: `${day.date}T23:59:59Z`,
        records: Array.from({ length: ips }, (_, index) => record(`10.2.${index >> 8}.${index & 255}`, count)),
      });
    const store = await openStore(`sqlite://${file}`);
    await store.ingest(busy('first', 600, 2), 'test');
    await store.flush();
    const first = await store.summaries(day.domain, day.date, day.date);
    expect(await store.summaries(day.domain, day.date, day.date)).toEqual(first);
    expect(rememberedText(key)).toBeDefined();
    // written again by the same store (its own connection)
    await store.ingest(busy('second', 600, 3), 'test');
    await store.flush();
    const second = await store.summaries(day.domain, day.date, day.date);
    expect(second[0]!.sources.find((source) => source.ip === '10.2.0.1')?.messages).toBe(5);
    expect(second).toEqual((await store.days(day.domain, day.date, day.date)).map(summariseDay));
    expect(await store.summaries(day.domain, day.date, day.date)).toEqual(second);
    // changed by a connection that is no store: the same text with one count changed (same length)
    const stored = rememberedText(key)!;
    const changed = stored.replace('"10.2.0.1"', '"10.2.0.9"');
    expect(changed).not.toBe(stored);
    expect(changed.length).toBe(stored.length);
    const { default: sqlite3 } = await import('sqlite3');
    const other = new sqlite3.Database(file);
    await new Promise<void>((done, fail) =>
      other.run('UPDATE keyv SET value = ? WHERE key = ?', changed, key, (error: Error | null) =>
        error ? fail(error) : done(),
      ),
    );
    await new Promise<void>((done) => other.close(() => done()));
    const third = await store.summaries(day.domain, day.date, day.date);
    expect(third[0]!.sources.some((source) => source.ip === '10.2.0.9')).toBe(true);
    expect(third[0]!.sources.some((source) => source.ip === '10.2.0.1')).toBe(false);
    await store.close();
  });

  it('a store reads a remembered day that another connection wrote again with its new figures (SQLite)', async () => {
    clearParsedSummaries();
    const dir = mkdtempSync(join(tmpdir(), 'summary-cache-'));
    dirs.push(dir);
    const url = `sqlite://${join(dir, 'store.sqlite')}`;
    const day = { domain: 'example.org', date: '2024-05-01' };
    // a day busy enough that its summary text is remembered
    const busy = (reportId: string, ips: number, count: number) =>
      aggregate({
        domain: day.domain,
        reportId,
        begin: `${day.date}T00:00:00Z`,
        end: `${day.date}T23:59:59Z`,
        records: Array.from({ length: ips }, (_, index) =>
          record(`10.1.${index >> 8}.${index & 255}`, count, { dmarc: index % 2 ? 'pass' : 'fail' }),
        ),
      });
    const reader = await openStore(url);
    const writer = await openStore(url);
    await writer.ingest(busy('first', 600, 2), 'test');
    await writer.flush();
    const first = await reader.summaries(day.domain, day.date, day.date);
    expect(first[0]!.sources).toHaveLength(600);
    // read again unchanged: the same figures (answered with the remembered text)
    expect(await reader.summaries(day.domain, day.date, day.date)).toEqual(first);
    expect(rememberedText(`dmarc:sum:${day.domain}:${day.date}`)).toBeDefined();

    await writer.ingest(busy('second', 700, 5), 'test');
    await writer.flush();
    const after = await reader.summaries(day.domain, day.date, day.date);
    expect(after).toEqual((await writer.days(day.domain, day.date, day.date)).map(summariseDay));
    expect(after[0]!.sources).toHaveLength(700);
    expect(after[0]!.sources.find((source) => source.ip === '10.1.2.180')?.messages).toBe(5);
    expect(after[0]!.sources.find((source) => source.ip === '10.1.0.1')?.messages).toBe(7);
    await writer.close();
    await reader.close();
  });
});
