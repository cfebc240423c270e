// Reading with a sink (src/reader/index.ts readReports with openSink, readReportFile): aggregate
// XML is read as a stream and each report's records go to its sink batch by batch. The reports
// and errors must be exactly those of a read without a sink, for bytes and for files, on the
// corpus, on generated reports in any chunking, and on hostile containers.

import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/generate/prng.ts';
import { randomAggregateReport } from '../../src/generate/random.ts';
import { aggregateXml } from '../../src/generate/xml.ts';
import { zipFiles } from '../../src/generate/zip.ts';
import type { AggregateRecord, AggregateReport, Report } from '../../src/model.ts';
import { parseAggregateChunks } from '../../src/reader/aggregate.ts';
import {
  parseAggregateXml,
  readReportFile,
  readReports,
  type OpenReportSink,
  type ReadOutcome,
} from '../../src/reader/index.ts';

const corpus = join(import.meta.dirname, '../fixtures/corpus');
const now = new Date('2026-06-01T00:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'dmarc-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function corpusFiles(at = corpus): string[] {
  return readdirSync(at)
    .sort()
    .flatMap((name) => {
      const path = join(at, name);
      return statSync(path).isDirectory() ? corpusFiles(path) : name.endsWith('.md') ? [] : [path];
    });
}

/** A sink per report that keeps its records, and the largest batch it was handed. */
function collecting() {
  const ended = new Map<Report, AggregateRecord[]>();
  let opened = 0;
  let largestBatch = 0;
  const open: OpenReportSink = () => {
    opened++;
    const records: AggregateRecord[] = [];
    return {
      add: (batch) => {
        largestBatch = Math.max(largestBatch, batch.length);
        records.push(...batch);
      },
      end: (report, count) => {
        expect(count).toBe(records.length);
        expect(report.records).toEqual([]);
        ended.set(report, records);
      },
    };
  };
  /** The outcome with each aggregate report's records put back from its sink. */
  const rebuilt = (outcome: ReadOutcome) => ({
    reports: outcome.reports.map((report) =>
      report.kind === 'aggregate' ? { ...report, records: ended.get(report) ?? 'never ended' } : report,
    ),
    errors: outcome.errors.map((error) => `${error.code} ${error.source}: ${error.message}`),
  });
  return { open, rebuilt, stats: () => ({ opened, ended: ended.size, largestBatch }) };
}

function plain(outcome: ReadOutcome) {
  return { reports: outcome.reports, errors: outcome.errors.map((e) => `${e.code} ${e.source}: ${e.message}`) };
}

async function bothWays(bytes: Uint8Array, name: string) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const reference = plain(await readReports(bytes, { source: name, now }));
  const fromBytes = collecting();
  const viaBytes = fromBytes.rebuilt(await readReports(bytes, { source: name, now }, fromBytes.open));
  const fromFile = collecting();
  const viaFile = fromFile.rebuilt(await readReportFile(path, { source: name, now }, fromFile.open));
  return { reference, viaBytes, viaFile, bytesStats: fromBytes.stats(), fileStats: fromFile.stats() };
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

function generated(records: number, seed: string): AggregateReport {
  const report = randomAggregateReport({ seed, records, days: 2, overrideShare: 0.3 });
  report.generator = 'stream test 1.0';
  return report;
}

describe('reading with a sink', () => {
  it('gives the outcome of a read without one on every file of the corpus, from bytes and from the file', async () => {
    let aggregates = 0;
    for (const path of corpusFiles()) {
      const { reference, viaBytes, viaFile } = await bothWays(readFileSync(path), path.split('/').at(-1)!);
      expect(viaBytes, path).toEqual(reference);
      expect(viaFile, path).toEqual(reference);
      aggregates += reference.reports.filter((report) => report.kind === 'aggregate').length;
    }
    expect(aggregates).toBeGreaterThan(15);
  });

  it('streams a generated report in any chunking: the same report, never more than a batch at once', async () => {
    const report = generated(1_234, 'stream-chunks');
    for (const [index, options] of [{}, { indent: false }, { namespace2: true }].entries()) {
      const xml = Buffer.from(aggregateXml(report, options));
      const reference = parseAggregateXml(xml, 's.xml', { now });
      // one byte at a time once (every construct cut at every place), the rest in bigger chunks
      for (const size of [...(index === 0 ? [1] : []), 7, 333, 65_536, xml.length]) {
        const records: AggregateRecord[] = [];
        let largest = 0;
        const streamed = await parseAggregateChunks(chunked(xml, size), 's.xml', { now }, () => ({
          add: (batch: readonly AggregateRecord[]) => {
            largest = Math.max(largest, batch.length);
            records.push(...batch);
          },
        }));
        expect(streamed, `chunks of ${size}`).not.toBeNull();
        expect({ ...streamed!.report, records }).toEqual(reference);
        expect(streamed!.records).toBe(reference.records.length);
        expect(largest).toBeLessThanOrEqual(20);
      }
    }
  });

  it('streams a report with any text between its records: the same report as the whole read', async () => {
    const xml = aggregateXml(generated(300, 'stream-gaps'));
    let cut = 0;
    // between records: indentation of two kinds in turn, CRLF and tabs, comments, a text, nothing
    const gaps = ['\n  ', '\r\n\t', '', '<!-- same -->', '\n  <!-- one -->\n  ', ' \t '];
    const mixed = xml.replaceAll('</record>', () => `</record>${gaps[cut++ % gaps.length]!}`);
    const stray = xml.replace('</record>', '</record>text of the feedback');
    for (const input of [mixed, stray]) {
      const bytes = Buffer.from(input);
      const reference = parseAggregateXml(bytes, 's.xml', { now, wholeDocument: true });
      for (const size of [5, 4_096]) {
        const records: AggregateRecord[] = [];
        const streamed = await parseAggregateChunks(chunked(bytes, size), 's.xml', { now }, () => ({
          add: (batch: readonly AggregateRecord[]) => records.push(...batch),
        }));
        expect(streamed, `chunks of ${size}`).not.toBeNull();
        expect({ ...streamed!.report, records }).toEqual(reference);
      }
    }
  });

  it('streams plain, gzip and zip files and their bytes, with the outcome of the whole read', async () => {
    const xml = Buffer.from(aggregateXml(generated(600, 'stream-containers')));
    const second = Buffer.from(aggregateXml(generated(3, 'stream-containers-2')));
    const inputs: Array<[string, Buffer]> = [
      ['plain.xml', xml],
      ['report.xml.gz', gzipSync(xml)],
      // a mail gateway's CRLF after the gzip member: the stream fails at its end, the whole read repairs it
      ['trailing.xml.gz', Buffer.concat([gzipSync(xml), Buffer.from('\r\n')])],
      // small as gzip, but inflating past what the reader inflates in one call: streamed as before
      ['padded.xml.gz', gzipSync(Buffer.concat([xml, Buffer.alloc(9 * 1024 * 1024, 0x20)]))],
      [
        'two.zip',
        zipFiles([
          { name: 'a.xml', content: xml },
          { name: 'b.xml.gz', content: gzipSync(second) },
        ]),
      ],
    ];
    for (const [name, bytes] of inputs) {
      const { reference, viaBytes, viaFile, bytesStats, fileStats } = await bothWays(bytes, name);
      expect(viaBytes, name).toEqual(reference);
      expect(viaFile, name).toEqual(reference);
      expect(reference.errors, name).toEqual([]);
      // streamed, not read whole and handed over afterwards (that hands over 1000 at a time)
      if (name !== 'trailing.xml.gz') {
        expect(bytesStats.largestBatch, name).toBeLessThanOrEqual(20);
        expect(fileStats.largestBatch, name).toBeLessThanOrEqual(20);
      }
    }
  });

  it('reads a zip file entry by entry from the disk, with the outcome of the whole read and its bounds (a corrupt entry refused whole)', async () => {
    const big = Buffer.from(aggregateXml(generated(2_000, 'stream-zip-file')));
    const small = Buffer.from(aggregateXml(generated(30, 'stream-zip-file-2')));
    const archive = zipFiles([
      { name: 'big.xml', content: big },
      { name: 'dir/small.xml.gz', content: gzipSync(small) },
      { name: 'stored.xml', content: small, stored: true },
    ]);
    const many = zipFiles(Array.from({ length: 101 }, (_, index) => ({ name: `${index}.xml`, content: small })));
    const rng = createRng('stream-zip-file-fuzz');
    const mutated = Array.from({ length: 12 }, (_, round): [string, Buffer, number] => {
      const bytes = Buffer.from(archive);
      if (round % 2 === 0) bytes.fill(0x20, rng.int(0, bytes.length - 1), rng.int(0, bytes.length - 1));
      else for (let i = 0; i < 6; i++) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      return [`mutated-${round}.zip`, bytes, 64 * 1024 * 1024];
    });
    const cases: Array<[string, Buffer, number]> = [
      ['archive.zip', archive, 64 * 1024 * 1024],
      // the second entry no longer fits once the first is counted
      ['over-cap.zip', archive, big.length + 1000],
      ['archive-over-cap.zip', archive, archive.length - 1],
      ['too-many.zip', many, 64 * 1024 * 1024],
      ['truncated.zip', archive.subarray(0, Math.floor(archive.length / 2)), 64 * 1024 * 1024],
      ['empty.zip', zipFiles([]), 64 * 1024 * 1024],
      ...mutated,
    ];
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    for (const [name, bytes, maxBytes] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const reference = plain(await readReports(bytes, { source: name, now, maxBytes }));
      const bytesSink = collecting();
      const viaBytes = bytesSink.rebuilt(await readReports(bytes, { source: name, now, maxBytes }, bytesSink.open));
      const sink = collecting();
      const viaFile = sink.rebuilt(await readReportFile(path, { source: name, now, maxBytes }, sink.open));
      expect(viaBytes, name).toEqual(reference);
      expect(viaFile, name).toEqual(reference);
      if (name === 'archive.zip') {
        expect(reference.errors).toEqual([]);
        expect(reference.reports).toHaveLength(3);
        expect(sink.stats().largestBatch).toBeLessThanOrEqual(20);
      }
    }
    // every archive lets go of its file, read to the end or not (closed asynchronously)
    await expect.poll(openFiles).toBe(before);
  });

  it('keeps the caps and refusals of the whole read on hostile input', async () => {
    const xml = Buffer.from(aggregateXml(generated(400, 'stream-hostile')));
    const bomb = gzipSync(Buffer.alloc(3 * 1024 * 1024, 0x20));
    const cases: Array<[string, Buffer, number]> = [
      ['bomb.xml.gz', bomb, 1024 * 1024],
      ['big.xml', xml, 64 * 1024],
      ['big.xml.gz', gzipSync(xml), 64 * 1024],
      ['zip-over-cap.zip', zipFiles([{ name: 'a.xml', content: xml }]), 64 * 1024],
      ['truncated.xml', xml.subarray(0, Math.floor(xml.length / 2)), 64 * 1024 * 1024],
      ['corrupt.xml.gz', Buffer.concat([gzipSync(xml).subarray(0, 2000), Buffer.alloc(50, 7)]), 64 * 1024 * 1024],
      ['entity.xml', Buffer.from(xml.toString().replace('<feedback>', '<!-- <!ENTITY x "y"> --><feedback>')), 1e8],
      ['latin1.xml', Buffer.from(xml.toString().replace('UTF-8', 'ISO-8859-1'), 'latin1'), 1e8],
      ['bad-utf8.xml', Buffer.concat([xml.subarray(0, 3000), Buffer.from([0xff, 0xfe]), xml.subarray(3000)]), 1e8],
    ];
    for (const [name, bytes, maxBytes] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const reference = plain(await readReports(bytes, { source: name, now, maxBytes }));
      const sink = collecting();
      const viaBytes = sink.rebuilt(await readReports(bytes, { source: name, now, maxBytes }, sink.open));
      const fileSink = collecting();
      const viaFile = fileSink.rebuilt(await readReportFile(path, { source: name, now, maxBytes }, fileSink.open));
      expect(viaBytes, name).toEqual(reference);
      expect(viaFile, name).toEqual(reference);
    }
  });

  it('gives the outcome of a read without one on mutated inputs (fixed seed)', async () => {
    const rng = createRng('stream-fuzz-1');
    const sources = [
      ...corpusFiles().filter((path) => /\.(xml|gz|zip)$/.test(path)),
      // records past the first batches, so that a mutation can land after records were sunk
      join(dir, 'fuzz-generated.xml'),
    ];
    writeFileSync(sources.at(-1)!, aggregateXml(generated(120, 'stream-fuzz')));
    let inputs = 0;
    let withReports = 0;
    for (const path of sources) {
      const bytes = readFileSync(path);
      for (let round = 0; round < 6; round++) {
        const mutated = Buffer.from(bytes);
        const at = rng.int(0, Math.max(0, bytes.length - 1));
        switch (round % 3) {
          case 0:
            for (let i = rng.int(1, 8); i > 0 && mutated.length > 0; i--)
              mutated[rng.int(0, mutated.length - 1)] = rng.pick([0x3c, 0x3e, 0x2f, 0x22, 0x26, 0xff, 0x20]);
            break;
          case 1:
            mutated.fill(0x20, at, Math.min(mutated.length, at + rng.int(1, 60)));
            break;
          case 2:
            mutated.copyWithin(at, rng.int(0, Math.max(0, bytes.length - 1)), bytes.length);
            break;
        }
        const name = `${path.split('/').at(-1)!} #${round}`;
        const reference = plain(await readReports(mutated, { source: name, now }));
        const sink = collecting();
        const streamed = sink.rebuilt(await readReports(mutated, { source: name, now }, sink.open));
        expect(streamed, name).toEqual(reference);
        inputs++;
        if (reference.reports.length > 0) withReports++;
      }
    }
    // the mutations leave some inputs readable, so the sinks' reports are compared too
    expect(withReports).toBeGreaterThan(inputs / 5);
  });
});
