// Decompression with hard limits: never inflate past the cap, so a bomb costs milliseconds and a
// megabyte, not the machine.

import { promisify } from 'node:util';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { ReportReadError, partSource } from './errors.ts';

const gunzipAsync = promisify(zlib.gunzip);
const inflateRawAsync = promisify(zlib.inflateRaw);

export async function gunzipCapped(bytes: Uint8Array, source: string, maxBytes: number): Promise<Buffer> {
  try {
    return await gunzipAsync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    if (isTooLarge(error)) throw tooLarge(source, maxBytes, error);
    // Node reads bytes after a gzip member as the next member and fails on anything else (a trailing
    // CRLF from a mail gateway, padding): inflate the first member alone instead.
    const body = gzipBodyOffset(bytes);
    if (body === null)
      throw new ReportReadError('bad-gzip', source, `not valid gzip data (${describe(error)})`, { cause: error });
    try {
      return await inflateRawAsync(bytes.subarray(body), { maxOutputLength: maxBytes });
    } catch (retryError) {
      if (isTooLarge(retryError)) throw tooLarge(source, maxBytes, retryError);
      throw new ReportReadError('bad-gzip', source, `corrupt or truncated gzip data (${describe(error)})`, {
        cause: error,
      });
    }
  }
}

// A gzip part this small (most report attachments) is inflated in one synchronous call: a fifth
// of the CPU of zlib's stream, which pays for every chunk. Its output is capped well below maxBytes;
// what does not fit, or fails, is left to the streamed path (and its errors).
const SMALL_GZIP_BYTES = 256 * 1024;
const SMALL_GZIP_INFLATED = 8 * 1024 * 1024;

/** A small gzip part inflated in one call, or null when it is larger, inflates past the cap or fails. */
export function gunzipSmall(bytes: Uint8Array, maxBytes: number): Buffer | null {
  if (bytes.byteLength > SMALL_GZIP_BYTES) return null;
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: Math.min(maxBytes, SMALL_GZIP_INFLATED) });
  } catch {
    return null;
  }
}

/** Offset of the deflate data after the gzip header (RFC 1952), or null when the header is broken. */
function gzipBodyOffset(bytes: Uint8Array): number | null {
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8) return null;
  const flags = bytes[3]!;
  let offset = 10;
  if (flags & 4) offset += 2 + (bytes[offset]! | (bytes[offset + 1]! << 8)); // FEXTRA
  if (flags & 8) offset = skipZeroTerminated(bytes, offset); // FNAME
  if (flags & 16) offset = skipZeroTerminated(bytes, offset); // FCOMMENT
  if (flags & 2) offset += 2; // FHCRC
  return offset < bytes.length ? offset : null;
}

function skipZeroTerminated(bytes: Uint8Array, offset: number): number {
  while (offset < bytes.length && bytes[offset] !== 0) offset++;
  return offset + 1;
}

export interface ZipEntryContent {
  name: string;
  bytes: Buffer;
}

export interface ZipLimits {
  maxBytes: number;
  maxEntries: number;
}

/**
 * The files in a zip, inflated one by one. Declared sizes are checked before inflating, and the real
 * inflated bytes are counted too (declared sizes can lie); the cap holds for all entries together.
 * Entries that are refused come back as errors; the others are still returned.
 */
export async function unzipCapped(
  bytes: Uint8Array,
  source: string,
  limits: ZipLimits,
): Promise<{ entries: ZipEntryContent[]; errors: ReportReadError[] }> {
  const entries: ZipEntryContent[] = [];
  const errors = await forEachZipEntry(bytes, source, limits, async (name, entry) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of entry.stream()) {
      chunks.push(chunk);
      size += chunk.length;
    }
    entries.push({ name, bytes: Buffer.concat(chunks, size) });
  });
  return { entries, errors };
}

/** One file of a zip, to be read as a stream (again, if need be) within its share of the cap. */
export interface ZipEntryReader {
  /** its inflated bytes; a ReportReadError (too-large, bad-zip) when they break a bound */
  stream(): AsyncIterable<Buffer>;
}

/**
 * The files of a zip, handed to `consume` one by one as streams, with the bounds of unzipCapped:
 * the cap holds for all entries together (counted on what is inflated, not what is declared).
 * The errors of refused entries are returned; a consumer's own errors other than these are thrown.
 */
export async function forEachZipEntry(
  input: ZipInput,
  source: string,
  limits: ZipLimits,
  consume: (name: string, entry: ZipEntryReader) => Promise<void>,
): Promise<ReportReadError[]> {
  const zip = await openZip(input, source);
  try {
    // a file read from its path: the cap holds for the archive too (it may have grown since it was measured)
    if (!(input instanceof Uint8Array) && zip.fileSize > input.maxBytes)
      throw new ReportReadError('too-large', source, `${zip.fileSize} bytes, over the cap of ${input.maxBytes} bytes`);
    if (zip.entryCount > limits.maxEntries) {
      throw new ReportReadError(
        'too-many-entries',
        source,
        `zip holds ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`,
      );
    }
    const errors: ReportReadError[] = [];
    let total = 0;
    for (;;) {
      const entry = await nextEntry(zip, source);
      if (!entry) break;
      if (entry.fileName.endsWith('/')) continue;
      const entrySource = partSource(source, entry.fileName);
      if (total + entry.uncompressedSize > limits.maxBytes) {
        errors.push(
          new ReportReadError(
            'too-large',
            entrySource,
            `zip entry declares ${entry.uncompressedSize} bytes uncompressed, over the cap of ${limits.maxBytes} bytes`,
          ),
        );
        continue;
      }
      const budget = limits.maxBytes - total;
      // what the entry's last full read inflated: counted against the cap of the ones after it
      let read = 0;
      try {
        await consume(entry.fileName, {
          stream: () => entryChunks(zip, entry, entrySource, budget, (size) => (read = size)),
        });
        total += read;
      } catch (error) {
        if (!(error instanceof ReportReadError)) throw error;
        errors.push(error);
        if (error.code === 'bad-zip') break; // the rest of the archive cannot be trusted either
      }
    }
    return errors;
  } finally {
    zip.close();
  }
}

/**
 * A zip in hand, or a zip file read from disk where its entries are (the archive is never held
 * whole), at most `maxBytes` long.
 */
export type ZipInput = Uint8Array | { path: string; maxBytes: number };

function openZip(input: ZipInput, source: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, zip?: yauzl.ZipFile) => {
      if (error || !zip)
        reject(
          new ReportReadError('bad-zip', source, `not a readable zip archive (${describe(error)})`, { cause: error }),
        );
      else resolve(zip);
    };
    // closed by forEachZipEntry, once, whatever was read of it
    const options = { lazyEntries: true, validateEntrySizes: true, strictFileNames: false, autoClose: false };
    if (input instanceof Uint8Array)
      yauzl.fromBuffer(Buffer.from(input.buffer, input.byteOffset, input.byteLength), options, done);
    else yauzl.open(input.path, options, done);
  });
}

function nextEntry(zip: yauzl.ZipFile, source: string): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const onEntry = (entry: yauzl.Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new ReportReadError('bad-zip', source, `corrupt zip directory (${describe(error)})`, { cause: error }));
    };
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

// A deflated entry this small (most report attachments) is inflated in one synchronous call, as a
// small gzip part is: yauzl's stream pays zlib's stream cost for every chunk. Its declared size
// bounds the output, and an entry that does not inflate to exactly that is read by the stream,
// which refuses it as before.
const SMALL_ZIP_COMPRESSED = 256 * 1024;
const SMALL_ZIP_INFLATED = 1024 * 1024;
const ZIP_SLICE = 16 * 1024;

/** A small deflated entry inflated in one call, or null when it is larger, or does not inflate to its declared size. */
async function inflateSmallEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, budget: number): Promise<Buffer | null> {
  const size = entry.uncompressedSize;
  if (entry.compressionMethod !== 8 || entry.isEncrypted() || entry.compressedSize > SMALL_ZIP_COMPRESSED) return null;
  if (size === 0 || size > SMALL_ZIP_INFLATED || size > budget) return null;
  try {
    const raw = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
      zip.openReadStream(entry, { decodeFileData: false }, (error, opened) => {
        if (error || !opened) reject(error ?? new Error('no stream'));
        else resolve(opened);
      });
    });
    const chunks: Buffer[] = [];
    for await (const chunk of raw as AsyncIterable<Buffer>) chunks.push(chunk);
    const inflated = zlib.inflateRawSync(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), {
      maxOutputLength: size,
    });
    return inflated.length === size ? inflated : null;
  } catch {
    return null;
  }
}

/** An entry's inflated bytes, at most `budget` of them; `done` learns how many once all are read. */
async function* entryChunks(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  source: string,
  budget: number,
  done: (size: number) => void,
): AsyncGenerator<Buffer> {
  const small = await inflateSmallEntry(zip, entry, budget);
  if (small) {
    for (let at = 0; at < small.length; at += ZIP_SLICE) yield small.subarray(at, at + ZIP_SLICE);
    done(small.length);
    return;
  }
  const stream = await new Promise<NodeJS.ReadableStream & { destroy(): void }>((resolve, reject) => {
    zip.openReadStream(entry, (error, opened) => {
      if (error || !opened)
        reject(new ReportReadError('bad-zip', source, `cannot open zip entry (${describe(error)})`, { cause: error }));
      else resolve(opened);
    });
  });
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > budget)
        throw new ReportReadError('too-large', source, `zip entry inflates past the cap of ${budget} bytes`);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof ReportReadError) throw error;
    throw new ReportReadError('bad-zip', source, `corrupt zip entry (${describe(error)})`, { cause: error });
  } finally {
    stream.destroy();
  }
  done(size);
}

/**
 * Inflates a gzip stream, at most `maxBytes` of it: past the cap, the error gunzipCapped gives.
 * Any other failure (corrupt data, bytes after the member) comes out as the zlib error, for the
 * caller to read the whole input with gunzipCapped instead, which repairs what it can.
 */
export async function* gunzipChunks(
  chunks: AsyncIterable<Uint8Array>,
  source: string,
  maxBytes: number,
): AsyncGenerator<Buffer> {
  const gunzip = zlib.createGunzip();
  const input = Readable.from(chunks, { objectMode: false });
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  let size = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge(source, maxBytes, null);
      yield chunk;
    }
  } finally {
    input.unpipe(gunzip);
    input.destroy();
    gunzip.destroy();
  }
}

function isTooLarge(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_BUFFER_TOO_LARGE';
}

function tooLarge(source: string, maxBytes: number, cause: unknown): ReportReadError {
  return new ReportReadError(
    'too-large',
    source,
    `gzip data inflates past the cap of ${maxBytes} bytes (decompression bomb?)`,
    { cause },
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
