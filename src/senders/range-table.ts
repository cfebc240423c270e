// IPv4 ranges loaded once into typed arrays: bulk classification of thousands of IPs needs
// microsecond lookups, which a search over the file on disk cannot give. About 2 MiB per table.

import { readFileSync } from 'node:fs';

export class Ipv4RangeTable {
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;
  /** index into `values` for each row */
  private readonly valueIndex: Uint32Array;
  private readonly values: string[];

  /**
   * Reads "start,end,rest" lines; `rest` (the text after the second comma) is kept as the value.
   * Parsed from bytes: rows sharing a leading number in `rest` (the ASN) share one decoded string,
   * so the 400,000 rows cost a few thousand string allocations, not a million.
   */
  constructor(path: string) {
    const bytes = readFileSync(path);
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

  /** The raw value text of the range containing `value`, if any. */
  find(value: number): string | null {
    let low = 0;
    let high = this.starts.length - 1;
    let best = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.starts[middle]! <= value) {
        best = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (best < 0 || value > this.ends[best]!) return null;
    return this.values[this.valueIndex[best]!]!;
  }
}
