// IPv4 ranges loaded once into typed arrays: bulk classification of thousands of IPs needs
// microsecond lookups, which a search over the file on disk cannot give. About 2 MiB per table.
// Parsing the CSV takes over 100 ms, so the parsed table is also kept as a prepared binary file
// (cachedIpv4Table): a later process maps it back into typed arrays in a few milliseconds.

import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** "DMRT" + layout version 2 */
const MAGIC = 0x32_54_52_44;
const HEADER = 24;

interface TableParts {
  starts: Uint32Array;
  ends: Uint32Array;
  valueIndex: Uint32Array;
  blob: Buffer;
  offsets: Uint32Array;
}

export class Ipv4RangeTable {
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;
  /** index into `values` for each row */
  private readonly valueIndex: Uint32Array;
  /** the values (of a prepared table: those decoded so far) */
  private readonly values: string[];

  /** prepared tables: the values as UTF-8 text, decoded on lookup (offsets of each value, then the end) */
  private readonly blob: Buffer | null = null;
  private readonly offsets: Uint32Array | null = null;

  /**
   * A table parsed from a CSV file (the path), or the parts of a prepared one (fromBinary).
   * The CSV holds "start,end,rest" lines; `rest` (the text after the second comma) is kept as the
   * value. Parsed from bytes: rows sharing a leading number in `rest` (the ASN) share one decoded
   * string, so the 400,000 rows cost a few thousand string allocations, not a million.
   */
  constructor(path: string);
  constructor(parts: TableParts);
  constructor(source: string | TableParts) {
    if (typeof source !== 'string') {
      this.starts = source.starts;
      this.ends = source.ends;
      this.valueIndex = source.valueIndex;
      // filled as values are first decoded
      this.values = new Array<string>(source.offsets.length - 1);
      this.blob = source.blob;
      this.offsets = source.offsets;
      return;
    }
    const bytes = readFileSync(source);
    let lines = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) lines++;
    this.starts = new Uint32Array(lines + 1);
    this.ends = new Uint32Array(lines + 1);
    this.valueIndex = new Uint32Array(lines + 1);
    this.values = [];
    const byNumber = new Map<number, number>();
    const byText = new Map<string, number>();
    let count = 0;
    let position = 0;
    while (position < bytes.length) {
      let eol = bytes.indexOf(0x0a, position);
      if (eol < 0) eol = bytes.length;
      const lineEnd = eol > position && bytes[eol - 1] === 0x0d ? eol - 1 : eol;
      let cursor = position;
      let first = 0;
      while (cursor < lineEnd && bytes[cursor] !== 0x2c) first = first * 10 + (bytes[cursor++]! - 48);
      const firstComma = cursor++;
      let second = 0;
      while (cursor < lineEnd && bytes[cursor] !== 0x2c) second = second * 10 + (bytes[cursor++]! - 48);
      const restStart = cursor + 1;
      if (firstComma > position && cursor < lineEnd) {
        let leading = 0;
        let digits = 0;
        for (let i = restStart; i < lineEnd && bytes[i]! >= 48 && bytes[i]! <= 57; i++, digits++)
          leading = leading * 10 + (bytes[i]! - 48);
        let index = digits > 0 ? byNumber.get(leading) : undefined;
        if (index === undefined) {
          const text = bytes.toString('utf8', restStart, lineEnd);
          index = digits > 0 ? undefined : byText.get(text);
          if (index === undefined) {
            index = this.values.push(text) - 1;
            if (digits > 0) byNumber.set(leading, index);
            else byText.set(text, index);
          }
        }
        this.starts[count] = first;
        this.ends[count] = second;
        this.valueIndex[count] = index;
        count++;
      }
      position = eol + 1;
    }
    this.starts = this.starts.subarray(0, count);
    this.ends = this.ends.subarray(0, count);
    this.valueIndex = this.valueIndex.subarray(0, count);
  }

  /**
   * The prepared form: a header (magic, row count, value count, CRC-32 of all that follows the
   * header, byte length of the identity), the identity text (what the table was built from, padded
   * to 4 bytes), the row arrays, the value offsets and the values' UTF-8 text.
   */
  toBinary(identity: string): Buffer {
    const id = Buffer.from(identity, 'utf8');
    const texts = this.values.map((value) => Buffer.from(value, 'utf8'));
    const rows = this.starts.length;
    const idPadded = Math.ceil(id.length / 4) * 4;
    const offsets = new Uint32Array(texts.length + 1);
    texts.forEach((text, index) => (offsets[index + 1] = offsets[index]! + text.length));
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(rows, 4);
    header.writeUInt32LE(texts.length, 8);
    header.writeUInt32LE(id.length, 16);
    const bytes = (array: Uint32Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
    const body = Buffer.concat([
      id,
      Buffer.alloc(idPadded - id.length),
      bytes(this.starts),
      bytes(this.ends),
      bytes(this.valueIndex),
      bytes(offsets),
      ...texts,
    ]);
    header.writeUInt32LE(crc32(body), 12);
    return Buffer.concat([header, body]);
  }

  /** The table of a prepared file, or null when it is damaged, cut off or built from another identity. */
  static fromBinary(bytes: Buffer, identity: string): Ipv4RangeTable | null {
    if (bytes.length < HEADER || bytes.readUInt32LE(0) !== MAGIC) return null;
    const rows = bytes.readUInt32LE(4);
    const count = bytes.readUInt32LE(8);
    const idLength = bytes.readUInt32LE(16);
    const idPadded = Math.ceil(idLength / 4) * 4;
    const arraysEnd = HEADER + idPadded + rows * 12 + (count + 1) * 4;
    if (bytes.length < arraysEnd) return null;
    if (crc32(bytes.subarray(HEADER)) !== bytes.readUInt32LE(12)) return null;
    if (bytes.toString('utf8', HEADER, HEADER + idLength) !== identity) return null;
    // typed arrays need 4-byte alignment: a buffer that does not start on one is copied
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(new Uint8Array(bytes));
    const words = new Uint32Array(aligned.buffer, aligned.byteOffset + HEADER + idPadded, rows * 3 + count + 1);
    const offsets = words.subarray(rows * 3);
    const blob = aligned.subarray(arraysEnd);
    if (offsets[count] !== blob.length) return null;
    // the checksum vouches for the rest; value indexes and offsets are bounded again on lookup
    const valueIndex = words.subarray(rows * 2, rows * 3);
    return new Ipv4RangeTable({
      starts: words.subarray(0, rows),
      ends: words.subarray(rows, rows * 2),
      valueIndex,
      blob,
      offsets,
    });
  }

  /** How many distinct values the table holds: value indexes run from 0 to this, exclusive. */
  get valueCount(): number {
    return this.offsets ? this.offsets.length - 1 : this.values.length;
  }

  /**
   * The index of the value of the range containing `value`, or -1: no allocation, so thousands of
   * addresses can be looked up and their results kept per value rather than per address.
   */
  indexOf(value: number): number {
    const starts = this.starts;
    let low = 0;
    let high = starts.length - 1;
    let best = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (starts[middle]! <= value) {
        best = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (best < 0 || value > this.ends[best]!) return -1;
    const index = this.valueIndex[best]!;
    // a prepared table's rows are checked here rather than all at load, which a one-shot command pays
    return index < this.valueCount ? index : -1;
  }

  /** The raw text of the value at `index` (from indexOf), decoded once. */
  valueAt(index: number): string | null {
    const { blob, offsets } = this;
    if (!blob || !offsets) return this.values[index] ?? null;
    let text = this.values[index];
    if (text === undefined) {
      const start = offsets[index]!;
      const end = offsets[index + 1]!;
      if (!(start <= end && end <= blob.length)) return null;
      this.values[index] = text = blob.toString('utf8', start, end);
    }
    return text;
  }

  /** The raw value text of the range containing `value`, if any. */
  find(value: number): string | null {
    const index = this.indexOf(value);
    return index < 0 ? null : this.valueAt(index);
  }
}

export interface CachedTable {
  table: Ipv4RangeTable;
  /** 'cache': read from the prepared file; 'csv': parsed (and the prepared file written when possible) */
  from: 'cache' | 'csv';
}

/**
 * The table of a CSV file through its prepared binary copy in `cacheDir`: used when its identity
 * (the data package's name and version, the CSV's size and modification time) matches and its
 * checksum holds; otherwise the CSV is parsed and the copy (re)written, atomically (a temporary
 * file renamed into place). A cache that cannot be written only costs the parse.
 */
export function cachedIpv4Table(csvPath: string, version: string, cacheDir: string | null): CachedTable {
  const stat = statSync(csvPath);
  const identity = `${version} ${stat.size} ${Math.trunc(stat.mtimeMs)}`;
  const name = csvPath.replace(/^.*[\\/]/, '').replace(/\.csv$/, '');
  const file = cacheDir ? join(cacheDir, `${name}.ranges`) : null;
  if (file) {
    try {
      const table = Ipv4RangeTable.fromBinary(readFileSync(file), identity);
      if (table) return { table, from: 'cache' };
    } catch {
      // missing or unreadable: built below
    }
  }
  const table = new Ipv4RangeTable(csvPath);
  if (file) {
    // node:crypto is loaded only here: its load costs a one-shot command about 10 ms
    const temporary = `${file}.${process.pid}-${process.getBuiltinModule('node:crypto').randomBytes(4).toString('hex')}.tmp`;
    try {
      mkdirSync(cacheDir!, { recursive: true, mode: 0o700 });
      writeFileSync(temporary, table.toBinary(identity), { mode: 0o600 });
      renameSync(temporary, file);
    } catch {
      try {
        rmSync(temporary, { force: true });
      } catch {
        // the folder itself is unusable: nothing was written
      }
    }
  }
  return { table, from: 'csv' };
}
