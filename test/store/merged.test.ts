// Merging records as they are read (src/store/merge.ts): what the store keeps of a merged report
// must be what it keeps of the report with its records, figure for figure: the contributions
// (day parts, IP index rows, dedupe marker) on generated and corpus reports, the refusals of bad
// counts, and the stored documents after the bot's own ingest path (files by path, read in the
// worker) against the whole-record path.

import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { randomAggregateReport } from '../../src/generate/random.ts';
import { aggregateXml } from '../../src/generate/xml.ts';
import { ingestInput } from '../../src/ingest/pipeline.ts';
import type { AggregateReport, Report } from '../../src/model.ts';
import { closeBoundedReader } from '../../src/reader/bounded.ts';
import { readReportFile, readReports } from '../../src/reader/index.ts';
import { contributionOf } from '../../src/store/contributions.ts';
import { normaliseIp, openStore } from '../../src/store/index.ts';
import { MergingSink, isMerged, openMergingSink } from '../../src/store/merge.ts';
import { listInputs } from '../../src/sources/files.ts';
import { sourcesOfReport } from '../../src/alerts/detect.ts';

const corpus = join(import.meta.dirname, '../fixtures/corpus');
const now = new Date('2026-06-01T00:00:00Z');
const at = '2026-06-01T12:00:00.000Z';
const dir = mkdtempSync(join(tmpdir(), 'dmarc-merged-'));
afterAll(async () => {
  await closeBoundedReader();
  rmSync(dir, { recursive: true, force: true });
});

function corpusFiles(from = corpus): string[] {
  return readdirSync(from)
    .sort()
    .flatMap((name) => {
      const path = join(from, name);
      return statSync(path).isDirectory() ? corpusFiles(path) : name.endsWith('.md') ? [] : [path];
    });
}

/** Two days and a bit, records with reasons and two signatures: shares split over three days. */
function generated(records: number, seed: string): AggregateReport {
  const report = randomAggregateReport({ seed, records, days: 2, overrideShare: 0.3, begin: '2026-03-01T07:30:00Z' });
  report.end = '2026-03-03T09:10:00.000Z';
  report.records.forEach((record, index) => {
    if (index % 4 === 0)
      record.authResults.dkim.push({ domain: 'mcsv.net', selector: 'k2', result: 'pass', humanResult: 'ok' });
  });
  return report;
}

/** The outcome of a read with the records, and of the same read merged. */
async function bothReads(bytes: Uint8Array, source: string): Promise<Array<[Report, Report]>> {
  const whole = await readReports(bytes, { source, now });
  const merged = await readReports(bytes, { source, now }, openMergingSink);
  expect(merged.reports.length).toBe(whole.reports.length);
  return whole.reports.map((report, index) => [report, merged.reports[index]!]);
}

function contribution(report: Report): unknown {
  try {
    return contributionOf(report, 'src', at);
  } catch (error) {
    return String(error);
  }
}

describe('merged reports in the store', () => {
  it('contribute exactly what their records contribute, on generated and corpus reports', async () => {
    const inputs: Array<[string, Uint8Array]> = [
      ['generated.xml', Buffer.from(aggregateXml(generated(2_345, 'merge-1')))],
      ['one-day.xml.gz', gzipSync(aggregateXml(randomAggregateReport({ seed: 'merge-2', records: 700 })))],
      ...corpusFiles().map((path): [string, Uint8Array] => [path, readFileSync(path)]),
    ];
    let compared = 0;
    for (const [source, bytes] of inputs) {
      for (const [whole, merged] of await bothReads(bytes, source)) {
        if (whole.kind !== 'aggregate' || merged.kind !== 'aggregate') {
          expect(merged).toEqual(whole);
          continue;
        }
        expect(isMerged(merged), source).toBe(true);
        expect(merged.records).toEqual([]);
        if (isMerged(merged)) expect(merged.merged.records).toBe(whole.records.length);
        expect(contribution(merged), source).toEqual(contribution(whole));
        expect(sourcesOfReport(merged), source).toEqual(sourcesOfReport(whole));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(15);
  });

  it('key rows by the canonical IP however the report writes it (parsed once, by the reader)', async () => {
    const written = [
      '2001:DB8:0:0:0:0:0:1',
      '2001:db8::1',
      '::FFFF:192.0.2.7',
      '::ffff:c000:207',
      '192.0.2.7',
      '2001:0db8:0000:0000:0001:0000:0000:0001',
      'fe80:0:0:0:0:0:0:a',
    ];
    const report = generated(written.length * 3, 'merge-ips');
    report.records.forEach((record, index) => (record.sourceIp = written[index % written.length]!));
    const [[whole, merged]] = (await bothReads(Buffer.from(aggregateXml(report)), 'ips.xml')) as [[Report, Report]];
    expect(contribution(merged)).toEqual(contribution(whole));
    if (merged.kind !== 'aggregate' || !isMerged(merged)) throw new Error('not merged');
    const ips = [...new Set(merged.merged.splits.flatMap((split) => split.sources.map((stat) => stat.ip)))].sort();
    expect(ips).toEqual(['192.0.2.7', '2001:db8::1', '2001:db8::1:0:0:1', 'fe80::a']);
    expect(ips.map(normaliseIp)).toEqual(ips);
  });

  it('keep data keys as data: "__proto__" and "constructor" are counted, nothing is inherited', async () => {
    const report = generated(40, 'merge-keys');
    report.records.forEach((record, index) => {
      record.sourceIp = '192.0.2.9';
      record.identifiers.headerFrom = ['__proto__', 'constructor', 'tostring'][index % 3]!;
      record.authResults.spf = [{ domain: '__proto__', scope: 'mfrom', result: 'pass' }];
    });
    const [[whole, merged]] = (await bothReads(Buffer.from(aggregateXml(report)), 'keys.xml')) as [[Report, Report]];
    expect(contribution(merged)).toEqual(contribution(whole));
    if (merged.kind !== 'aggregate' || !isMerged(merged)) throw new Error('not merged');
    const stat = merged.merged.splits[0]!.sources[0]!;
    expect(Object.keys(stat.headerFrom).sort()).toEqual(['__proto__', 'constructor', 'tostring']);
    expect(Object.hasOwn(stat.headerFrom, '__proto__')).toBe(true);
    for (const map of [stat.headerFrom, stat.spf, stat.reasons]) {
      expect('toString' in map).toBe(false);
      expect('hasOwnProperty' in map).toBe(false);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('are refused for the counts the store refuses, with the same words', () => {
    const base = generated(30, 'merge-counts');
    const variants: Array<(report: AggregateReport) => void> = [
      (report) => (report.records[4]!.count = -1),
      (report) => (report.records[7]!.count = 1.5),
      (report) => {
        report.records[2]!.count = 2 ** 52;
        report.records[3]!.count = 2 ** 52;
      },
      (report) => {
        report.records[2]!.count = 2 ** 52;
        report.records[3]!.count = 2 ** 52;
        report.records[20]!.count = -3;
      },
    ];
    for (const change of variants) {
      const report = structuredClone(base);
      change(report);
      const sink = new MergingSink(report);
      for (let from = 0; from < report.records.length; from += 7) sink.add(report.records.slice(from, from + 7));
      const merged = { ...report, records: [], merged: sink.merged() };
      expect(contribution(merged)).toEqual(contribution(report));
      expect(String(contribution(report))).toMatch(/InvalidReportError/);
    }
  });

  it('stores the same documents through the bot ingest path as the whole-record path', async () => {
    const files: string[] = [];
    const reports = [generated(3_000, 'merge-e2e-1'), randomAggregateReport({ seed: 'merge-e2e-2', records: 400 })];
    reports.forEach((report, index) => {
      const path = join(dir, `report-${index}.xml${index === 1 ? '.gz' : ''}`);
      const xml = aggregateXml(report);
      writeFileSync(path, index === 1 ? gzipSync(xml) : xml);
      files.push(path);
    });
    const stores = [];
    for (const mode of ['merged', 'records'] as const) {
      const store = await openStore(`sqlite://${join(dir, `${mode}.sqlite`)}`);
      for await (const input of listInputs(files, { byPath: mode === 'merged' })) {
        if (mode === 'merged') expect(input.path).toBe(input.source);
        const result = await ingestInput(input, {
          store,
          now: () => now,
          // the whole-record path: the reader on this thread, records in the report
          ...(mode === 'records' ? { read: (bytes, options) => readReports(bytes, { ...options, now }) } : {}),
        });
        expect(result.errors).toEqual([]);
        expect(result.new).toBe(1);
      }
      await store.flush();
      stores.push(store);
    }
    const [merged, records] = stores;
    const days = await records!.days(null, '2026-01-01', '2026-12-31');
    expect(days.length).toBeGreaterThanOrEqual(3);
    expect(await merged!.days(null, '2026-01-01', '2026-12-31')).toEqual(days);
    const ips = [...new Set(reports.flatMap((report) => report.records.slice(0, 40).map((r) => r.sourceIp)))];
    for (const ip of ips)
      expect(await merged!.ipEntries(ip, '2026-01-01', '2026-12-31')).toEqual(
        await records!.ipEntries(ip, '2026-01-01', '2026-12-31'),
      );
    for (const store of stores) await store.close();
  });

  it('holds one row per source and day, whatever the number of records', async () => {
    // 4,000 records from a handful of sources: the merged report is the size of the sources
    const report = randomAggregateReport({ seed: 'merge-few', records: 4_000 });
    const ips = ['192.0.2.1', '192.0.2.2', '2001:db8::7'];
    report.records.forEach((record, index) => (record.sourceIp = ips[index % ips.length]!));
    const path = join(dir, 'few.xml');
    writeFileSync(path, aggregateXml(report));
    const outcome = await readReportFile(path, { source: path, now }, openMergingSink);
    const merged = outcome.reports[0]!;
    expect(merged.kind === 'aggregate' && isMerged(merged)).toBe(true);
    if (merged.kind !== 'aggregate' || !isMerged(merged)) return;
    expect(merged.merged.records).toBe(4_000);
    expect(merged.merged.splits.flatMap((split) => split.sources.map((stat) => stat.ip)).sort()).toEqual(
      ['192.0.2.1', '192.0.2.2', '2001:db8::7'].sort(),
    );
  });
});
