// The per-day summary of one policy domain: what `ready`, the digest, `date`, `sources` and
// `summary` read, so that their cost follows the number of sources, not the number of reports.
// It is a pure function of the day document (every report part's head, and one merged row per
// source IP), written in the same atomic write as the day document itself: it is exact and, like
// the day document, idempotent (a report applied twice overwrites its part, and the summary is
// computed again from the parts).
//
// Stored compactly: rows are arrays and every count-map key lives once in a string table, so a
// busy day's summary parses several times faster than its objects would, and no data key (an IP,
// a header From) ever becomes an object key.

import type { DayDoc, DayReportPart, SourceStat, StoredDayDoc, StoredDayReportPart } from './types.ts';
import { sourceCounter, sourceIp, sourceMap, type StoredSourceRow } from './source-rows.ts';
import { dict, own } from './dict.ts';
import { SOURCE_COUNTERS, SOURCE_MAPS, emptySourceStat } from './days.ts';

/** A report part without its source rows. */
export type DayReportHead = Omit<DayReportPart, 'sources'>;

/** A source's figures of one day, over every report part, with the first ingestion that showed it. */
export interface SummarySource extends SourceStat {
  /** the earliest ingestedAt of the parts that hold this IP (the digest's "seen before") */
  firstIngestedAt: string;
}

export interface DaySummary {
  domain: string;
  date: string;
  /** every report part of the day, in the day document's order */
  reports: DayReportHead[];
  /** one row per source IP, ordered by IP */
  sources: SummarySource[];
}

/** Layout version of the stored summary (a change rebuilds every summary on open). */
export const SUMMARY_VERSION = 2;

const COUNTERS = SOURCE_COUNTERS;
const MAPS = SOURCE_MAPS;

/**
 * As stored, in columns: one IP per row; per row ROW_WIDTH numbers (the COUNTERS, the index of
 * its first report head, its number of pairs); and every row's (key index * 5 + map index, count)
 * pairs one row after the other. Flat number arrays parse into one large object each, which the
 * young-generation collector never copies (rows as arrays made tens of thousands of small ones).
 */
export interface StoredDaySummary {
  v: number;
  domain: string;
  date: string;
  reports: DayReportHead[];
  keys: string[];
  ips: string[];
  counts: number[];
  pairs: number[];
}

function addInto(into: SourceStat, from: StoredSourceRow): void {
  COUNTERS.forEach((field, index) => (into[field] += sourceCounter(from, index)));
  MAPS.forEach((field, index) => {
    const target = into[field];
    const source = sourceMap(from, index);
    if (source == null) return;
    for (const key of Object.keys(source)) target[key] = (own(target, key) ?? 0) + (own(source, key) ?? 0);
  });
}

/** One source row of a DaySummaryBuilder: its counters and (key index * 5 + map index) -> count. */
interface BuilderRow {
  ip: string;
  counts: number[];
  firstIngestedAt: string;
  pairs: Map<number, number>;
}

/**
 * A day's summary built part by part, straight in its stored form: what encodeSummary(summariseDay)
 * gives for a whole day document (the same decoded summary), kept up to date by the writer as
 * reports are added to the day, so that a flush does not summarise the whole day again. A part
 * added twice (a report applied again) is not for this builder: the writer starts afresh then.
 */
export class DaySummaryBuilder {
  private readonly heads: DayReportHead[] = [];
  private readonly rows = new Map<string, BuilderRow>();
  private readonly keys: string[] = [];
  private readonly keyIndex = new Map<string, number>();
  /** `key@ingestedAt` of each part added, in order: which day document this summarises */
  private readonly parts: string[] = [];

  constructor(
    readonly domain: string,
    readonly date: string,
  ) {}

  /** The summary of a day document's parts, in the document's order. */
  static of(doc: StoredDayDoc): DaySummaryBuilder {
    const builder = new DaySummaryBuilder(doc.domain, doc.date);
    for (const reportKey of Object.keys(doc.reports ?? {})) {
      const part = own(doc.reports, reportKey);
      if (part) builder.add(reportKey, part);
    }
    return builder;
  }

  /** Adds one report part (under its key in the day document), as summariseDay adds it. */
  add(reportKey: string, part: StoredDayReportPart): void {
    const { sources, ...head } = part;
    this.heads.push(head);
    this.parts.push(`${reportKey}@${part.ingestedAt}`);
    for (const source of sources ?? []) {
      const ip = sourceIp(source);
      let row = this.rows.get(ip);
      if (!row) {
        row = { ip, counts: COUNTERS.map(() => 0), firstIngestedAt: part.ingestedAt, pairs: new Map() };
        this.rows.set(ip, row);
      } else if (part.ingestedAt < row.firstIngestedAt) row.firstIngestedAt = part.ingestedAt;
      const { counts, pairs } = row;
      for (let c = 0; c < COUNTERS.length; c++) counts[c]! += sourceCounter(source, c);
      for (let m = 0; m < MAPS.length; m++) {
        const map = sourceMap(source, m);
        if (map == null) continue;
        for (const key of Object.keys(map)) {
          let at = this.keyIndex.get(key);
          if (at === undefined) this.keyIndex.set(key, (at = this.keys.push(key) - 1));
          const code = at * MAPS.length + m;
          pairs.set(code, (pairs.get(code) ?? 0) + (own(map, key) ?? 0));
        }
      }
    }
  }

  /** Source rows held (what the builder's memory follows). */
  get size(): number {
    return this.rows.size;
  }

  /**
   * Whether this is the summary of that day document: the same parts, each ingested at the same
   * moment, in the same order (a part is never changed under its key and ingestedAt).
   */
  summarises(doc: StoredDayDoc | undefined): boolean {
    const keys = doc ? Object.keys(doc.reports ?? {}) : [];
    let at = 0;
    for (const reportKey of keys) {
      const part = own(doc!.reports, reportKey);
      if (!part) continue;
      if (this.parts[at] !== `${reportKey}@${part.ingestedAt}`) return false;
      at += 1;
    }
    return at === this.parts.length;
  }

  /** The summary as stored (decodeSummary reads it as it reads encodeSummary's). */
  stored(): StoredDaySummary {
    const headIndex = new Map<string, number>();
    this.heads.forEach((head, position) => {
      if (!headIndex.has(head.ingestedAt)) headIndex.set(head.ingestedAt, position);
    });
    const rows = [...this.rows.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
    const ips: string[] = [];
    const counts: number[] = [];
    const pairs: number[] = [];
    for (const row of rows) {
      ips.push(row.ip);
      for (const count of row.counts) counts.push(count);
      counts.push(headIndex.get(row.firstIngestedAt) ?? 0, row.pairs.size);
      for (const [code, count] of row.pairs) pairs.push(code, count);
    }
    return {
      v: SUMMARY_VERSION,
      domain: this.domain,
      date: this.date,
      reports: [...this.heads],
      keys: [...this.keys],
      ips,
      counts,
      pairs,
    };
  }
}

/** The summary of a day document (the definition the stored one must always equal). */
export function summariseDay(doc: StoredDayDoc): DaySummary {
  const reports: DayReportHead[] = [];
  const rows = new Map<string, SummarySource>();
  for (const reportKey of Object.keys(doc.reports ?? {})) {
    const part = own(doc.reports, reportKey);
    if (!part) continue;
    const { sources, ...head } = part;
    reports.push(head);
    for (const source of sources ?? []) {
      const ip = sourceIp(source);
      let row = rows.get(ip);
      if (!row) rows.set(ip, (row = { ...emptySourceStat(ip), firstIngestedAt: part.ingestedAt }));
      else if (part.ingestedAt < row.firstIngestedAt) row.firstIngestedAt = part.ingestedAt;
      addInto(row, source);
    }
  }
  const sources = [...rows.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  return { domain: doc.domain, date: doc.date, reports, sources };
}

export function encodeSummary(summary: DaySummary): StoredDaySummary {
  const keys: string[] = [];
  const index = new Map<string, number>();
  const headIndex = new Map<string, number>();
  summary.reports.forEach((head, position) => {
    if (!headIndex.has(head.ingestedAt)) headIndex.set(head.ingestedAt, position);
  });
  const ips: string[] = [];
  const counts: number[] = [];
  const pairs: number[] = [];
  for (const source of summary.sources) {
    ips.push(source.ip);
    for (const field of COUNTERS) counts.push(source[field]);
    counts.push(headIndex.get(source.firstIngestedAt) ?? 0);
    const start = pairs.length;
    MAPS.forEach((field, mapIndex) => {
      const map = source[field];
      for (const key of Object.keys(map)) {
        let at = index.get(key);
        if (at === undefined) index.set(key, (at = keys.push(key) - 1));
        pairs.push(at * MAPS.length + mapIndex, own(map, key) ?? 0);
      }
    });
    counts.push((pairs.length - start) / 2);
  }
  return {
    v: SUMMARY_VERSION,
    domain: summary.domain,
    date: summary.date,
    reports: summary.reports,
    keys,
    ips,
    counts,
    pairs,
  };
}

/** Whether a stored value is a summary of the current layout. */
export function isStoredSummary(value: unknown): value is StoredDaySummary {
  const doc = value as StoredDaySummary | null | undefined;
  return (
    doc != null &&
    doc.v === SUMMARY_VERSION &&
    Array.isArray(doc.reports) &&
    Array.isArray(doc.keys) &&
    Array.isArray(doc.ips) &&
    Array.isArray(doc.counts) &&
    Array.isArray(doc.pairs)
  );
}

/** The shared empty count map of decoded rows (rows are read-only: insight copies before adding). */
const NO_COUNTS: Record<string, number> = Object.freeze(dict<number>());

/** Numbers per row in `counts`: the counters, then the first head's index, then the pair count. */
export const ROW_WIDTH = COUNTERS.length + 2;
export const ROW_FIRST_AT = COUNTERS.length;
export const ROW_PAIR_COUNT = COUNTERS.length + 1;
/** The count maps of a row, in the order of a pair's map index. */
export const ROW_MAPS = MAPS;

/**
 * The key index and map index of a stored pair code, or -1 when the code is not one (stored data
 * is not trusted: a negative or fractional code, or one past the string table, is skipped).
 */
export function pairKey(code: unknown, keyCount: number): number {
  const value = Number(code);
  if (!Number.isInteger(value) || value < 0) return -1;
  return ((value / MAPS.length) | 0) < keyCount ? value : -1;
}

/** A stored count as a number (a stored value that is none counts 0). */
export const rowNumber = (value: unknown): number => Number(value) || 0;

const offsets = new WeakMap<StoredDaySummary, Int32Array>();

/**
 * Where each row's pairs start in `pairs` (entry r), and where the last ends (entry rows): from
 * the stored pair counts, clamped to the pairs there are.
 */
export function pairOffsets(stored: StoredDaySummary): Int32Array {
  let starts = offsets.get(stored);
  if (starts) return starts;
  const rows = stored.ips.length;
  starts = new Int32Array(rows + 1);
  let at = 0;
  for (let row = 0; row < rows; row++) {
    starts[row] = at;
    const count = Math.floor(rowNumber(stored.counts[row * ROW_WIDTH + ROW_PAIR_COUNT]));
    if (count > 0) at = Math.min(stored.pairs.length & ~1, at + 2 * count);
  }
  starts[rows] = at;
  offsets.set(stored, starts);
  return starts;
}

function decodeRows(stored: StoredDaySummary): SummarySource[] {
  const { keys, reports, counts, pairs } = stored;
  const width = MAPS.length;
  const starts = pairOffsets(stored);
  const sources: SummarySource[] = [];
  for (let row = 0; row < stored.ips.length; row++) {
    const maps: Array<Record<string, number>> = [NO_COUNTS, NO_COUNTS, NO_COUNTS, NO_COUNTS, NO_COUNTS];
    for (let at = starts[row]!; at < starts[row + 1]!; at += 2) {
      const code = pairKey(pairs[at], keys.length);
      if (code < 0) continue;
      const key = String(keys[(code / width) | 0]);
      const field = code % width;
      if (maps[field] === NO_COUNTS) maps[field] = dict<number>();
      // a key twice in one row (never written so) counts twice, as the grouping counts it
      maps[field]![key] = (maps[field]![key] ?? 0) + rowNumber(pairs[at + 1]);
    }
    const base = row * ROW_WIDTH;
    sources.push({
      ip: String(stored.ips[row]),
      messages: rowNumber(counts[base]),
      dmarcPass: rowNumber(counts[base + 1]),
      spfPass: rowNumber(counts[base + 2]),
      dkimPass: rowNumber(counts[base + 3]),
      spfAligned: rowNumber(counts[base + 4]),
      dkimAligned: rowNumber(counts[base + 5]),
      spfUnalignedPass: rowNumber(counts[base + 6]),
      dkimUnalignedPass: rowNumber(counts[base + 7]),
      dispositions: maps[0]!,
      reasons: maps[1]!,
      headerFrom: maps[2]!,
      spf: maps[3]!,
      dkim: maps[4]!,
      firstIngestedAt: headIngestedAt(reports, counts[base + ROW_FIRST_AT]),
    });
  }
  return sources;
}

/** Adds one stored row's counters and count maps to `into`, as addInto adds a source, without
 * decoding the row into a source of its own. */
export function addSummaryRow(into: SourceStat, stored: StoredDaySummary, row: number): SourceStat {
  const base = row * ROW_WIDTH;
  for (let c = 0; c < COUNTERS.length; c++) into[COUNTERS[c]!] += rowNumber(stored.counts[base + c]);
  const { keys, pairs } = stored;
  const starts = pairOffsets(stored);
  for (let at = starts[row]!; at < starts[row + 1]!; at += 2) {
    const code = pairKey(pairs[at], keys.length);
    if (code < 0) continue;
    const map = into[MAPS[code % MAPS.length]!];
    const key = String(keys[(code / MAPS.length) | 0]);
    map[key] = (own(map, key) ?? 0) + rowNumber(pairs[at + 1]);
  }
  return into;
}

/** The ingestedAt of the report head a row's first-ingestion index names (the first head if none). */
export function headIngestedAt(reports: readonly DayReportHead[], index: unknown): string {
  return reports[index as number]?.ingestedAt ?? reports[0]?.ingestedAt ?? '';
}

/** The stored form behind a summary: decoded ones keep theirs, others are encoded once. */
const storedOf = new WeakMap<DaySummary, StoredDaySummary>();

/**
 * A stored summary as insight reads it. The rows stay as stored: `sources` builds the row objects
 * (and their count maps) on first use only, so the window queries, which read the rows through
 * summaryRows, allocate nothing per row.
 */
export function decodeSummary(stored: StoredDaySummary): DaySummary {
  let sources: SummarySource[] | null = null;
  const summary: DaySummary = {
    domain: stored.domain,
    date: stored.date,
    // a list of its own: the stored document may be shared with other reads (summary-cache.ts)
    reports: [...stored.reports],
    get sources() {
      return (sources ??= decodeRows(stored));
    },
  };
  storedOf.set(summary, stored);
  return summary;
}

/** Whether a day is a summary (its reports are a list) rather than a day document (keyed parts). */
export function isDaySummary(day: DayData): day is DaySummary {
  return Array.isArray(day.reports);
}

/** The compact rows of a day (see StoredDaySummary): as read from the store, or encoded once. */
export function summaryRows(day: DayData): StoredDaySummary {
  const summary = asSummary(day);
  let stored = storedOf.get(summary);
  if (!stored) storedOf.set(summary, (stored = encodeSummary(summary)));
  return stored;
}

/** A day as the insight functions read it: a summary, or a day document (summarised once). */
export type DayData = DayDoc | DaySummary;

const summarised = new WeakMap<DayDoc, DaySummary>();

export function asSummary(day: DayData): DaySummary {
  if (isDaySummary(day)) return day;
  const doc = day as DayDoc;
  let summary = summarised.get(doc);
  if (!summary) summarised.set(doc, (summary = summariseDay(doc)));
  return summary;
}

/** Per-source figures in one prototype-free map (tests and tools comparing layouts). */
export function sourcesByIp(summary: DaySummary): Record<string, SummarySource> {
  const byIp = dict<SummarySource>();
  for (const source of summary.sources) byIp[source.ip] = source;
  return byIp;
}
