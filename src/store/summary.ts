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

import type { DayDoc, DayReportPart, SourceStat } from './types.ts';
import { dict, own } from './dict.ts';
import { emptySourceStat } from './days.ts';

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
export const SUMMARY_VERSION = 1;

const COUNTERS = [
  'messages',
  'dmarcPass',
  'spfPass',
  'dkimPass',
  'spfAligned',
  'dkimAligned',
  'spfUnalignedPass',
  'dkimUnalignedPass',
] as const;
const MAPS = ['dispositions', 'reasons', 'headerFrom', 'spf', 'dkim'] as const;

/** As stored: [ip, ...COUNTERS, index of the first report head, (key index * 5 + map index, count)*] */
type StoredRow = (string | number)[];

export interface StoredDaySummary {
  v: number;
  domain: string;
  date: string;
  reports: DayReportHead[];
  keys: string[];
  rows: StoredRow[];
}

function addInto(into: SourceStat, from: SourceStat): void {
  for (const field of COUNTERS) into[field] += Number(from[field] ?? 0);
  for (const field of MAPS) {
    const target = into[field];
    const source = from[field];
    if (source == null) continue;
    for (const key of Object.keys(source)) target[key] = (own(target, key) ?? 0) + (own(source, key) ?? 0);
  }
}

/** The summary of a day document (the definition the stored one must always equal). */
export function summariseDay(doc: DayDoc): DaySummary {
  const reports: DayReportHead[] = [];
  const rows = new Map<string, SummarySource>();
  for (const reportKey of Object.keys(doc.reports ?? {})) {
    const part = own(doc.reports, reportKey);
    if (!part) continue;
    const { sources, ...head } = part;
    reports.push(head);
    for (const source of sources ?? []) {
      let row = rows.get(source.ip);
      if (!row) rows.set(source.ip, (row = { ...emptySourceStat(source.ip), firstIngestedAt: part.ingestedAt }));
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
  const rows = summary.sources.map((source) => {
    const row: StoredRow = [source.ip];
    for (const field of COUNTERS) row.push(source[field]);
    row.push(headIndex.get(source.firstIngestedAt) ?? 0);
    MAPS.forEach((field, mapIndex) => {
      const counts = source[field];
      for (const key of Object.keys(counts)) {
        let at = index.get(key);
        if (at === undefined) index.set(key, (at = keys.push(key) - 1));
        row.push(at * MAPS.length + mapIndex, own(counts, key) ?? 0);
      }
    });
    return row;
  });
  return { v: SUMMARY_VERSION, domain: summary.domain, date: summary.date, reports: summary.reports, keys, rows };
}

/** Whether a stored value is a summary of the current layout. */
export function isStoredSummary(value: unknown): value is StoredDaySummary {
  const doc = value as StoredDaySummary | null | undefined;
  return (
    doc != null &&
    doc.v === SUMMARY_VERSION &&
    Array.isArray(doc.reports) &&
    Array.isArray(doc.keys) &&
    Array.isArray(doc.rows)
  );
}

/** The shared empty count map of decoded rows (rows are read-only: insight copies before adding). */
const NO_COUNTS: Record<string, number> = Object.freeze(dict<number>());

export function decodeSummary(stored: StoredDaySummary): DaySummary {
  const { keys, reports } = stored;
  const width = MAPS.length;
  const firstAt = COUNTERS.length + 1;
  const sources: SummarySource[] = new Array(stored.rows.length);
  for (let index = 0; index < stored.rows.length; index++) {
    const row = stored.rows[index]!;
    const maps: Array<Record<string, number>> = [NO_COUNTS, NO_COUNTS, NO_COUNTS, NO_COUNTS, NO_COUNTS];
    for (let at = firstAt + 1; at + 1 < row.length; at += 2) {
      const code = row[at] as number;
      const key = keys[(code / width) | 0];
      const field = code % width;
      if (key === undefined) continue;
      if (maps[field] === NO_COUNTS) maps[field] = dict<number>();
      maps[field]![key] = Number(row[at + 1]) || 0;
    }
    sources[index] = {
      ip: String(row[0]),
      messages: Number(row[1]) || 0,
      dmarcPass: Number(row[2]) || 0,
      spfPass: Number(row[3]) || 0,
      dkimPass: Number(row[4]) || 0,
      spfAligned: Number(row[5]) || 0,
      dkimAligned: Number(row[6]) || 0,
      spfUnalignedPass: Number(row[7]) || 0,
      dkimUnalignedPass: Number(row[8]) || 0,
      dispositions: maps[0]!,
      reasons: maps[1]!,
      headerFrom: maps[2]!,
      spf: maps[3]!,
      dkim: maps[4]!,
      firstIngestedAt: reports[row[firstAt] as number]?.ingestedAt ?? reports[0]?.ingestedAt ?? '',
    };
  }
  return { domain: stored.domain, date: stored.date, reports, sources };
}

/** A day as the insight functions read it: a summary, or a day document (summarised once). */
export type DayData = DayDoc | DaySummary;

const summarised = new WeakMap<DayDoc, DaySummary>();

export function asSummary(day: DayData): DaySummary {
  if (Array.isArray((day as DaySummary).sources)) return day as DaySummary;
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
