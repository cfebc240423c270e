// An aggregate report's records merged as they are read: what the store keeps of a report is one
// row per source IP and UTC day (days.ts), so a sink that adds each batch of records to those rows
// holds memory in proportion to the report's distinct sources, not to its records. The merged
// report carries these rows instead of its records; contributionOf (contributions.ts) places them
// exactly as it places the rows it splits from records itself.

import type { AggregateRecord, AggregateReport } from '../model.ts';
import type { OpenReportSink } from '../reader/index.ts';
import { DaySplitter, emptySourceStat, type DaySplit } from './days.ts';
import type { SourceStat } from './types.ts';
import { ownString } from '../text/own-string.ts';

export interface MergedRecords {
  /** records merged (skipped ones are in the report's notes, as without merging) */
  records: number;
  /** the rows of splitAggregate(report); empty when the report's date range cannot be placed */
  splits: DaySplit[];
  /** why the store refuses the records (a count that is no whole number, counts past 2^53) */
  problem: string | null;
}

/** An aggregate report whose `records` are empty: `merged` holds what the store needs of them. */
export type MergedAggregateReport = AggregateReport & { merged: MergedRecords };

export function isMerged(report: AggregateReport): report is MergedAggregateReport {
  const merged = (report as Partial<MergedAggregateReport>).merged;
  return typeof merged === 'object' && merged !== null && Array.isArray(merged.splits);
}

// the store's own bounds on a range (contributions.ts checkRange): past them it refuses the report
// before it looks at a record, so a merge would be wasted (and a 1970..2100 range costly)
const MAX_RANGE_DAYS = 366;

// Maps without any property on their prototype chain (as Object.create(null), so data keys stay
// data), built from a constructor so that V8 keeps them in its fast shape instead of a dictionary:
// a row's five maps then cost about 430 bytes instead of 1,160 (measured on 20,865 rows), and the
// rows are what a merged read holds.
function BareMap(): void {}
BareMap.prototype = Object.create(null) as object;
const bareMap = <T>(): Record<string, T> => new (BareMap as unknown as new () => Record<string, T>)();

// A row's IP is made its own flat string (ownString): as read, it is a slice (or a concatenation of
// one) of the parsed batch's text, and a row held to the end of the report kept that whole text
// alive (2.6 MB of batch texts and 4 MB in all on the 100k-record bench report).
function compactStat(ip: string): SourceStat {
  return {
    ...emptySourceStat(ownString(ip)),
    dispositions: bareMap(),
    reasons: bareMap(),
    headerFrom: bareMap(),
    spf: bareMap(),
    dkim: bareMap(),
  };
}

/** The sink of one report: add the record batches, then `merged()`. */
export class MergingSink {
  private readonly splitter: DaySplitter | null;
  private records = 0;
  private total = 0;
  private problem: string | null = null;

  /**
   * `canonicalIps`: the records are the reader's, whose sourceIp is already the store's canonical
   * text (src/net/ip.ts), so the rows are keyed by it without parsing each address again.
   */
  constructor(head: Pick<AggregateReport, 'begin' | 'end'>, { canonicalIps = false } = {}) {
    const begin = Date.parse(head.begin);
    const end = Date.parse(head.end);
    const placeable =
      Number.isFinite(begin) && Number.isFinite(end) && Math.abs(end - begin) / 86_400_000 <= MAX_RANGE_DAYS;
    this.splitter = placeable ? new DaySplitter(head.begin, head.end, compactStat, canonicalIps) : null;
  }

  add(records: readonly AggregateRecord[]): void {
    for (const record of records) {
      this.records++;
      if (this.problem !== null) continue;
      // the check contributions.ts makes of every record, with its wording
      const count: unknown = record.count;
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
        const shown = String(count);
        this.problem = `record ${this.records}: count ${shown.length <= 40 ? shown : `${shown.slice(0, 39)}…`} is not a whole number of messages`;
      } else this.total += count;
    }
    if (this.problem === null) this.splitter?.add(records);
  }

  /** Source rows held (one per source IP and day): what the sink's memory follows. */
  get sources(): number {
    return this.splitter?.sources ?? 0;
  }

  merged(): MergedRecords {
    // as contributions.ts: a count that is no whole number first, the sum only once all are
    const problem = this.problem ?? (Number.isSafeInteger(this.total) ? null : 'the message counts add up past 2^53');
    return { records: this.records, splits: problem === null ? (this.splitter?.splits() ?? []) : [], problem };
  }
}

/**
 * The reader's sink for merged reads (readReports / readReportFile with a sink): each aggregate
 * report it ends carries its rows as `merged` (a MergedAggregateReport).
 */
export const openMergingSink: OpenReportSink = (head) => {
  const sink = new MergingSink(head, { canonicalIps: true });
  return {
    add: (records) => sink.add(records),
    end: (report) => {
      (report as MergedAggregateReport).merged = sink.merged();
    },
  };
};

/** Per source IP over all days of a merged report: what the alerter reads of a report's records. */
export function mergedSources(merged: MergedRecords): Map<string, SourceStat[]> {
  const byIp = new Map<string, SourceStat[]>();
  for (const split of merged.splits)
    for (const stat of split.sources) {
      const list = byIp.get(stat.ip);
      if (list) list.push(stat);
      else byIp.set(stat.ip, [stat]);
    }
  return byIp;
}
