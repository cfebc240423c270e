// IPv4 ranges loaded once into typed arrays: bulk classification of thousands of IPs needs
// microsecond lookups, which a search over the file on disk cannot give. About 2 MiB per table.

import { readFileSync } from 'node:fs';

export class Ipv4RangeTable {
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;
  /** index into `values` for each row */
  private readonly valueIndex: Uint32Array;
  private readonly values: string[];

  /** Reads "start,end,rest" lines; `rest` (the text after the second comma) is kept as the value. */
  constructor(path: string) {
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    this.starts = new Uint32Array(lines.length);
    this.ends = new Uint32Array(lines.length);
    this.valueIndex = new Uint32Array(lines.length);
    this.values = [];
    const seen = new Map<string, number>();
    let count = 0;
    for (const line of lines) {
      const first = line.indexOf(',');
      const second = line.indexOf(',', first + 1);
      if (first < 0 || second < 0) continue;
      const rest = line.slice(second + 1).replace(/\r$/, '');
      let index = seen.get(rest);
      if (index === undefined) {
        index = this.values.push(rest) - 1;
        seen.set(rest, index);
      }
      this.starts[count] = Number(line.slice(0, first));
      this.ends[count] = Number(line.slice(first + 1, second));
      this.valueIndex[count] = index;
      count++;
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
