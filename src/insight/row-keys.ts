// The sender-group key of every row of a stored day, as small integers, remembered per stored day:
// `ip` and `date` scan a whole readiness window (40-60k rows on a busy domain) for the rows of a few
// sender groups, and an identity lookup and a key lookup by string per row cost most of that scan;
// with the keys as numbers in a column, a row is tested by one array read.

import type { SenderIdentity } from './types.ts';
import { ROW_WIDTH, rowNumber, type StoredDaySummary } from '../store/summary.ts';

/** What classifySome reads of the key columns (see KeyColumns.of). */
export interface RowKeys {
  /**
   * Per row of the day: the key id of its IP's identity times 2, plus 1 when that key is not the
   * IP itself (only such an IP can be marked apart from its group); -1 for a row without messages.
   */
  column(day: StoredDaySummary): Int32Array;
  /** the id of a key, if some row has it */
  id(key: string): number | undefined;
  key(id: number): string;
  /** ids given so far (every id is below this) */
  readonly size: number;
  /** the identity the rows' identity lookup gives this IP, when it is already known */
  known(ip: string): SenderIdentity | undefined;
}

/** Key ids past this many are all forgotten at the start of the next query (one id per distinct key). */
const MAX_KEYS = 200_000;

/**
 * The key columns of one identity memo. A column holds the keys the memo gave the day's IPs when
 * it was filled: it is good as long as no remembered identity changed its key and nothing was
 * forgotten (`invalidate`), which a generation number tells.
 */
export class KeyColumns {
  private generation = 0;
  private ids = new Map<string, number>();
  private keys: string[] = [];
  private columns = new WeakMap<StoredDaySummary, { generation: number; column: Int32Array }>();

  /** Every column is stale: a remembered identity got another key, or identities were forgotten. */
  invalidate(): void {
    this.generation += 1;
  }

  /**
   * The row keys of one query: columns filled with `identityOf` (which must give one identity per
   * IP, the memo's, whatever the row) and `known` the memo's lookup.
   */
  of(
    identityOf: (ip: string, day: StoredDaySummary, row: number) => SenderIdentity | undefined,
    known: (ip: string) => SenderIdentity | undefined,
  ): RowKeys {
    // between queries only: a column filled earlier in this query keeps its ids
    if (this.keys.length > MAX_KEYS) {
      this.ids = new Map();
      this.keys = [];
      this.invalidate();
    }
    const size = () => this.keys.length;
    return {
      column: (day) => this.column(day, identityOf),
      id: (key) => this.ids.get(key),
      key: (id) => this.keys[id]!,
      get size() {
        return size();
      },
      known,
    };
  }

  private column(
    day: StoredDaySummary,
    identityOf: (ip: string, day: StoredDaySummary, row: number) => SenderIdentity | undefined,
  ): Int32Array {
    const cached = this.columns.get(day);
    if (cached && cached.generation === this.generation) return cached.column;
    const generation = this.generation;
    const column = new Int32Array(day.ips.length);
    for (let row = 0; row < column.length; row++) {
      if (rowNumber(day.counts[row * ROW_WIDTH]) <= 0) {
        column[row] = -1;
        continue;
      }
      const ip = String(day.ips[row]);
      const key = identityOf(ip, day, row)?.key ?? ip;
      let id = this.ids.get(key);
      if (id === undefined) this.ids.set(key, (id = this.keys.push(key) - 1));
      column[row] = id * 2 + (key === ip ? 0 : 1);
    }
    // kept only if nothing was forgotten while it was filled
    if (generation === this.generation) this.columns.set(day, { generation, column });
    return column;
  }
}
