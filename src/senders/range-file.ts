// Binary search over a sorted CSV of numeric IP ranges ("start,end,rest...") read straight from
// disk: no start-up cost, no big in-memory table. Blocks read are kept (bounded), so the upper
// levels of the search stay in memory after the first few lookups.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const BLOCK = 4096;
const MAX_BLOCKS = 2048; // 8 MiB per file at most

export interface RangeRow {
  start: bigint;
  end: bigint;
  /** the fields after start and end, CSV-unquoted */
  fields: string[];
}

export function splitCsv(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(current);
      current = '';
    } else current += char;
  }
  fields.push(current);
  return fields;
}

export class RangeFile {
  private readonly fd: number;
  private readonly size: number;
  private readonly blocks = new Map<number, Buffer>();

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  private block(index: number): Buffer {
    let block = this.blocks.get(index);
    if (!block) {
      const buffer = Buffer.alloc(BLOCK);
      const read = readSync(this.fd, buffer, 0, BLOCK, index * BLOCK);
      block = buffer.subarray(0, read);
      if (this.blocks.size >= MAX_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
      this.blocks.set(index, block);
    }
    return block;
  }

  private byteAt(position: number): number {
    return this.block(Math.floor(position / BLOCK))[position % BLOCK]!;
  }

  /** The first line that starts at or after `position`, with the offset of the line after it. */
  private lineFrom(position: number): { row: RangeRow; next: number } | null {
    let start = position;
    if (start > 0) {
      while (start <= this.size && this.byteAt(start - 1) !== 0x0a) start++;
    }
    if (start >= this.size) return null;
    let end = start;
    while (end < this.size && this.byteAt(end) !== 0x0a) end++;
    const bytes: number[] = [];
    for (let i = start; i < end; i++) bytes.push(this.byteAt(i));
    const line = Buffer.from(bytes).toString('utf8').replace(/\r$/, '');
    const [first, second, ...fields] = splitCsv(line);
    if (!first || !second || !/^\d+$/.test(first) || !/^\d+$/.test(second)) return null;
    return { row: { start: BigInt(first), end: BigInt(second), fields }, next: end + 1 };
  }

  /** The range that contains `value`, if any. */
  find(value: bigint): RangeRow | null {
    let low = 0;
    let high = this.size;
    let best: RangeRow | null = null;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const line = this.lineFrom(middle);
      if (line && line.row.start <= value) {
        best = line.row;
        low = line.next;
      } else {
        high = middle;
      }
    }
    return best && value <= best.end ? best : null;
  }

  close(): void {
    closeSync(this.fd);
  }
}
