// The report reader: raw bytes of a file or mail in, every report found out, and a named error for
// every part that held none or was refused. One bad part never hides the good ones next to it.

import { open, readFile } from 'node:fs/promises';
import type { AggregateRecord, AggregateReport, Report } from '../model.ts';
import { parseAggregateChunks, parseAggregateXml, type RecordSink } from './aggregate.ts';
import { forEachZipEntry, gunzipCapped, gunzipChunks, gunzipSmall, unzipCapped, type ZipInput } from './containers.ts';
import { ReportReadError, partSource, type ReadErrorCode } from './errors.ts';
import { decodeUnicodeBom } from './encoding.ts';
import type { PartOutcome } from './mail.ts';
import { defaultMimeLimits } from './mime.ts';
import { sniff, type ContentKind } from './sniff.ts';
import { parseJsonReport } from './tls.ts';

export { ReportReadError, type ReadErrorCode } from './errors.ts';
export { parseAggregateXml, type RecordSink } from './aggregate.ts';
export { parseJsonReport } from './tls.ts';
export { computeAlignment, isAligned, organizationalDomain } from './alignment.ts';
export { sniff, type ContentKind } from './sniff.ts';

export interface ReadOptions {
  /** names the input in errors: a path, `path#3` for a message in an mbox, an IMAP uid */
  source: string;
  /** cap on decompressed bytes per attachment or file; default 64 MiB */
  maxBytes?: number;
  /** most entries a zip may hold; default 100 */
  maxZipEntries?: number;
  /** most MIME parts a mail may hold; default 100 */
  maxMimeParts?: number;
  /** deepest MIME nesting (multiparts, attached messages); default 8 */
  maxMimeDepth?: number;
  /** largest header block of a mail or a part; default 64 KiB */
  maxHeaderBytes?: number;
  /** the clock dates are checked against; default the current time */
  now?: Date;
  /** parse aggregate XML as one tree, never as a frame and record batches (slower; for checks) */
  wholeDocumentXml?: boolean;
  /** false: parse every aggregate record, none built from an earlier one of its report (for checks) */
  recordMemo?: boolean;
}

export interface ReadOutcome {
  reports: Report[];
  errors: ReportReadError[];
}

/**
 * Where a read with a sink puts each aggregate report: its records batch by batch, then the report
 * itself (its `records` left empty). A sink that is opened and never ended is dropped: the read
 * started over for that report (the reports it ends are the ones a read without a sink gives).
 */
export interface ReportSink extends RecordSink {
  end(report: AggregateReport, records: number): void;
}
/** Opens the sink of one aggregate report; `head` is the report without records, notes or version. */
export type OpenReportSink = (head: AggregateReport) => ReportSink;

export const defaultMaxBytes = 64 * 1024 * 1024;
export const defaultMaxZipEntries = 100;
// mail > zip > gzip > xml is three; anything deeper is a trick, not a report
const maxNesting = 6;

/**
 * Every report of one input. With `openSink`, aggregate XML is read as a stream (from the bytes,
 * inflated gzip and zip entries), and each aggregate report's records go to its sink instead of
 * into the report: memory follows a batch of records, not the report.
 */
export async function readReports(
  bytes: Uint8Array,
  options: ReadOptions,
  openSink?: OpenReportSink,
): Promise<ReadOutcome> {
  return new Reading(options, openSink).readPart(bytes, options.source, 0);
}

/**
 * Every report of one file, read as a stream where it can be (plain or gzip aggregate XML): the
 * file is never held whole then, nor its text, nor its records (they go to the sinks). A zip is
 * read from the file entry by entry, each entry streamed. Other files (mail, JSON) are read whole,
 * within the same caps.
 */
export async function readReportFile(
  path: string,
  options: ReadOptions,
  openSink: OpenReportSink,
): Promise<ReadOutcome> {
  const reading = new Reading(options, openSink);
  const source = options.source;
  let size: number;
  let head: Buffer;
  const handle = await open(path, 'r');
  try {
    size = (await handle.stat()).size;
    head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  // the cap before a byte is parsed, as for bytes in hand
  const kind = sniff(head);
  const cap = kind === 'mail' ? Math.floor(reading.maxBytes * 1.4) : reading.maxBytes;
  if (size > cap)
    return {
      reports: [],
      errors: [new ReportReadError('too-large', source, `${size} bytes, over the cap of ${cap} bytes`)],
    };
  // a zip is read where it lies: its entries are streamed from the file, the archive never held
  if (kind === 'zip' && decodeUnicodeBom(head) === null) return reading.readZipFile(path, cap, source, head);
  return reading.readStream(fileChunks(path, cap, source), source, 0, () => readFile(path));
}

// what content detection looks at: the first characters and the first line of a mail
const HEAD_BYTES = 4096;
// bytes decoded and scanned at once: a chunk's text lives until its records are parsed, and what
// is alive when the young generation is collected is promoted (16 KB, as zlib's own chunks; 64 KB
// cost 15 MB more peak RSS on a 100k-record file)
const STREAM_CHUNK = 16 * 1024;

async function* fileChunks(path: string, cap: number, source: string): AsyncGenerator<Buffer> {
  const { createReadStream } = await import('node:fs');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: STREAM_CHUNK }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    // the file grew after its size was checked
    if (size > cap) throw new ReportReadError('too-large', source, `over the cap of ${cap} bytes`);
    yield chunk;
  }
}

/** An error of the bytes' source (a zip entry, a file), not of their content: it ends the part. */
class SourceFailure {
  constructor(readonly error: unknown) {}
}

async function* marked(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* chunks;
  } catch (error) {
    throw new SourceFailure(error);
  }
}

/** The head of a stream (at least `bytes` of it, or all there is) and a stream of all of it. */
async function peek(
  chunks: AsyncIterable<Uint8Array>,
  bytes: number,
): Promise<{ head: Buffer; all: AsyncIterable<Uint8Array>; close: () => Promise<void> }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const taken: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < bytes) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    taken.push(next.value);
    size += next.value.byteLength;
  }
  const head = Buffer.concat(taken);
  async function* all(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    if (done) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  // a stream left unread must still let go of its source (a file's descriptor)
  const close = async () => {
    if (!done) await iterator.return?.();
  };
  return { head, all: all(), close };
}

// records handed to a sink at once when a report was read whole
const SINK_BATCH = 1000;

class Reading {
  readonly maxBytes: number;
  private readonly limits: { maxBytes: number; maxEntries: number };
  private readonly now: Date;
  private readonly xmlOptions: { now: Date; wholeDocument: boolean; recordMemo: boolean };
  private readonly mailOptions: { now: Date; mime: { maxParts: number; maxDepth: number; maxHeaderBytes: number } };

  constructor(
    options: ReadOptions,
    private readonly openSink: OpenReportSink | undefined,
  ) {
    this.limits = {
      maxBytes: options.maxBytes ?? defaultMaxBytes,
      maxEntries: options.maxZipEntries ?? defaultMaxZipEntries,
    };
    this.maxBytes = this.limits.maxBytes;
    this.now = options.now ?? new Date();
    this.xmlOptions = {
      now: this.now,
      wholeDocument: options.wholeDocumentXml === true,
      recordMemo: options.recordMemo !== false,
    };
    this.mailOptions = {
      now: this.now,
      mime: {
        maxParts: options.maxMimeParts ?? defaultMimeLimits.maxParts,
        maxDepth: options.maxMimeDepth ?? defaultMimeLimits.maxDepth,
        maxHeaderBytes: options.maxHeaderBytes ?? defaultMimeLimits.maxHeaderBytes,
      },
    };
  }

  readPart = async (part: Uint8Array, source: string, depth: number, stream = true): Promise<PartOutcome> => {
    try {
      return await this.readOne(part, source, depth, stream);
    } catch (error) {
      return this.failed(error, source, part);
    }
  };

  private failed(error: unknown, source: string, part: Uint8Array): PartOutcome {
    if (error instanceof ReportReadError) return { reports: [], errors: [error] };
    // A library failing in a way we did not foresee must not stop the batch: name it and go on.
    const message = error instanceof Error ? error.message : String(error);
    return {
      reports: [],
      errors: [
        new ReportReadError(unexpectedCodes[sniff(part)], source, `unexpected failure while reading it (${message})`, {
          cause: error,
        }),
      ],
    };
  }

  /**
   * A part that arrives as a stream: aggregate XML (plain or in gzip) is read as it comes, anything
   * else is read whole (from `whole`, which gives all of its bytes again). Errors of the stream's
   * source (a zip entry past its cap) are thrown; all others are in the outcome.
   */
  readStream = async (
    chunks: AsyncIterable<Uint8Array>,
    source: string,
    depth: number,
    whole: () => Promise<Uint8Array>,
  ): Promise<PartOutcome> => {
    let head: Buffer = Buffer.alloc(0);
    try {
      if (depth > maxNesting)
        throw new ReportReadError('too-deep', source, `containers nested more than ${maxNesting} deep`);
      const peeked = await peek(marked(chunks), HEAD_BYTES);
      head = peeked.head;
      const kind = decodeUnicodeBom(head) === null && this.openSink ? sniff(head) : 'unknown';
      if (kind !== 'xml' && kind !== 'gzip') await peeked.close();
      if (kind === 'xml' && !this.xmlOptions.wholeDocument) {
        const streamed = await parseAggregateChunks(peeked.all, source, this.xmlOptions, this.openSink!);
        if (streamed) {
          streamed.sink.end(streamed.report, streamed.records);
          return { reports: [streamed.report], errors: [] };
        }
        await peeked.close();
        return await this.readPart(await whole(), source, depth, false);
      }
      if (kind === 'gzip') {
        try {
          return await this.readStream(gunzipChunks(peeked.all, source, this.maxBytes), source, depth + 1, () =>
            this.inflated(whole, source),
          );
        } catch (error) {
          if (error instanceof SourceFailure && error.error instanceof ReportReadError) throw error.error;
          if (!(error instanceof SourceFailure)) throw error;
          // corrupt or followed by other bytes: the whole read repairs what it can
          await peeked.close();
          return await this.readPart(await whole(), source, depth, false);
        }
      }
      return await this.readPart(await whole(), source, depth);
    } catch (error) {
      if (error instanceof SourceFailure) throw error.error instanceof ReportReadError ? error.error : error;
      return this.failed(error, source, head);
    }
  };

  private async inflated(whole: () => Promise<Uint8Array>, source: string): Promise<Uint8Array> {
    return gunzipCapped(await whole(), source, this.maxBytes);
  }

  /** A report read whole, handed to its sink as a streamed one would be. */
  private sunk(report: Report): Report {
    if (!this.openSink || report.kind !== 'aggregate') return report;
    const { records } = report;
    const sink = this.openSink({
      ...report,
      version: null,
      extraContactInfo: null,
      generator: null,
      records: [],
      errors: [],
    });
    for (let at = 0; at < records.length; at += SINK_BATCH) sink.add(records.slice(at, at + SINK_BATCH));
    const frame: AggregateReport = { ...report, records: [] as AggregateRecord[] };
    sink.end(frame, records.length);
    return frame;
  }

  private async readXml(part: Uint8Array, source: string, stream: boolean): Promise<PartOutcome> {
    if (stream && this.openSink && !this.xmlOptions.wholeDocument) {
      const streamed = await parseAggregateChunks(chunksOf(part), source, this.xmlOptions, this.openSink);
      if (streamed) {
        streamed.sink.end(streamed.report, streamed.records);
        return { reports: [streamed.report], errors: [] };
      }
    }
    return { reports: [this.sunk(parseAggregateXml(part, source, this.xmlOptions))], errors: [] };
  }

  /** A zip file read from its path (`head`, its first bytes, names it in an unforeseen failure). */
  readZipFile = async (path: string, maxBytes: number, source: string, head: Uint8Array): Promise<PartOutcome> => {
    try {
      return await this.readZip({ path, maxBytes }, source, 0);
    } catch (error) {
      return this.failed(error, source, head);
    }
  };

  private async readZip(part: ZipInput, source: string, depth: number): Promise<PartOutcome> {
    const outcome: PartOutcome = { reports: [], errors: [] };
    if (this.openSink) {
      let files = 0;
      // each entry streamed: inflated, it is read as it comes, not held
      const errors = await forEachZipEntry(part, source, this.limits, async (name, entry) => {
        files++;
        // an entry that breaks a bound or is corrupt is refused whole, as without a sink (then a
        // corrupt one ends the archive), however far its content was read and whichever read met it
        let failure: unknown = null;
        const stream = () => watched(entry.stream(), (error) => (failure ??= error));
        const inner = await this.readStream(stream(), partSource(source, name), depth + 1, () => collect(stream()));
        if (failure !== null) throw failure;
        outcome.reports.push(...inner.reports);
        outcome.errors.push(...inner.errors);
      });
      // as without a sink: the archive's own refusals first, then those of what the entries hold
      outcome.errors.unshift(...errors);
      if (files === 0 && errors.length === 0)
        outcome.errors.push(new ReportReadError('not-a-report', source, 'zip archive holds no files'));
      return outcome;
    }
    if (!(part instanceof Uint8Array)) throw new TypeError('a zip file is read from its path with a sink only');
    const { entries, errors } = await unzipCapped(part, source, this.limits);
    outcome.errors.push(...errors);
    for (const entry of entries) {
      const inner = await this.readPart(entry.bytes, partSource(source, entry.name), depth + 1);
      outcome.reports.push(...inner.reports);
      outcome.errors.push(...inner.errors);
    }
    if (entries.length === 0 && errors.length === 0)
      outcome.errors.push(new ReportReadError('not-a-report', source, 'zip archive holds no files'));
    return outcome;
  }

  private readOne = async (part: Uint8Array, source: string, depth: number, stream: boolean): Promise<PartOutcome> => {
    const limits = this.limits;
    const now = this.now;

    if (depth > maxNesting)
      throw new ReportReadError('too-deep', source, `containers nested more than ${maxNesting} deep`);
    // the cap holds for what is read, not only for what is inflated: a plain 70 MB XML is refused too
    // (a mail may be a third larger: base64 carries 3 bytes in 4)
    const cap = sniff(part) === 'mail' ? Math.floor(limits.maxBytes * 1.4) : limits.maxBytes;
    if (part.length > cap)
      throw new ReportReadError('too-large', source, `${part.length} bytes, over the cap of ${cap} bytes`);
    const decoded = decodeUnicodeBom(part);
    if (decoded !== null) return this.readText(decoded, source);
    const kind = sniff(part);
    switch (kind) {
      case 'empty':
        throw new ReportReadError(
          'empty',
          source,
          part.length === 0 ? 'empty input (0 bytes)' : 'input holds only whitespace',
        );
      case 'gzip':
        if (stream && this.openSink)
          return this.readStream(
            smallGunzipChunks(part, limits.maxBytes) ?? gunzipChunks(chunksOf(part), source, limits.maxBytes),
            source,
            depth + 1,
            () => gunzipCapped(part, source, limits.maxBytes),
          ).catch((error: unknown) => {
            // corrupt or followed by other bytes: the whole read repairs what it can
            if (error instanceof ReportReadError && error.code === 'too-large') throw error;
            return this.readPart(part, source, depth, false);
          });
        return this.readPart(await gunzipCapped(part, source, limits.maxBytes), source, depth + 1);
      case 'zip':
        return this.readZip(part, source, depth);
      case 'xml':
        return this.readXml(part, source, stream);
      case 'json':
        return {
          reports: [
            parseJsonReport(Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('utf8'), source, {
              now,
            }),
          ],
          errors: [],
        };
      case 'mail': {
        // mailparser and its dependencies cost more to load than a small XML report costs to read
        const { readMail } = await import('./mail.ts');
        return readMail(
          part,
          source,
          (inner, innerSource) => this.readPart(inner, innerSource, depth + 1),
          this.mailOptions,
        );
      }
      case 'unknown':
        throw new ReportReadError(
          'not-a-report',
          source,
          `not a report: neither XML, JSON, gzip, zip nor a mail message (starts with ${JSON.stringify(preview(part))})`,
        );
    }
  };

  /** A UTF-16/32 input, decoded: only XML and JSON reports are written that way. */
  private readText(text: string, source: string): PartOutcome {
    const start = text.trimStart()[0];
    if (start === '<') return { reports: [this.sunk(parseAggregateXml(text, source, this.xmlOptions))], errors: [] };
    if (start === '{' || start === '[')
      return { reports: [parseJsonReport(text, source, { now: this.now })], errors: [] };
    throw new ReportReadError('not-a-report', source, 'UTF-16/32 text that is neither XML nor JSON');
  }
}

/** A small gzip part inflated in one call, as a stream of slices; null when gunzipSmall declines it. */
function smallGunzipChunks(part: Uint8Array, maxBytes: number): AsyncGenerator<Uint8Array> | null {
  const inflated = gunzipSmall(part, maxBytes);
  return inflated && chunksOf(inflated);
}

/** Bytes in hand as a stream of slices (views, no copies). */
async function* chunksOf(bytes: Uint8Array, size = STREAM_CHUNK): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

/** The chunks, with their source's failure told to `failed` before it is thrown. */
async function* watched<T>(chunks: AsyncIterable<T>, failed: (error: unknown) => void): AsyncGenerator<T> {
  try {
    yield* chunks;
  } catch (error) {
    failed(error);
    throw error;
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

const unexpectedCodes: Record<ContentKind, ReadErrorCode> = {
  empty: 'empty',
  gzip: 'bad-gzip',
  zip: 'bad-zip',
  xml: 'bad-xml',
  json: 'bad-json',
  mail: 'bad-mail',
  unknown: 'not-a-report',
};

function preview(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 16)).toString('latin1');
}
