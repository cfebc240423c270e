// UTC day attribution, as pure functions. A report is split over every UTC day its range touches
// (a noon-to-noon report over two days, a 97-hour one over five), each record's count shared pro
// rata to the seconds of overlap with largest-remainder rounding, so the day counts of a record add
// up exactly to its count. A day whose share rounds to no message still lists the report.

import type { AggregateRecord, AggregateReport } from '../model.ts';
import type { SourceStat } from './types.ts';
import { normaliseIp } from './keys.ts';
import { addDays, utcDay } from '../time/utc-day.ts';
import { bump, dict } from './dict.ts';

const DAY_MS = 86_400_000;

export { addDays, utcDay };

/**
 * The days the store accepts data for. The reader refuses implausible dates first; the store
 * defends itself too (older stores, other callers): past the year 9999 `toISOString()` gives
 * "+010000-...", and day arithmetic on such text never advances.
 */
export const FIRST_STORE_DAY = '1970-01-01';
export const LAST_STORE_DAY = '2199-12-31';
const FIRST_STORE_MS = Date.parse(`${FIRST_STORE_DAY}T00:00:00Z`);
const END_STORE_MS = Date.parse(`${LAST_STORE_DAY}T00:00:00Z`) + DAY_MS;

/** Whether an instant (ms) lies inside the store's window of days. */
export function inStoreWindow(ms: number): boolean {
  return Number.isFinite(ms) && ms >= FIRST_STORE_MS && ms < END_STORE_MS;
}

/** Whether a text is a YYYY-MM-DD day inside the store's window. */
export function isStoreDay(day: unknown): day is string {
  return typeof day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(day) && inStoreWindow(Date.parse(`${day}T00:00:00Z`));
}

function dayStartMs(day: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError(`not a UTC day YYYY-MM-DD: ${JSON.stringify(day)}`);
  return ms;
}

/** Every UTC day from..to inclusive (empty when from > to). Counts in milliseconds, so it always ends. */
export function dayRange(from: string, to: string): string[] {
  const days: string[] = [];
  const last = dayStartMs(to);
  for (let ms = dayStartMs(from); ms <= last; ms += DAY_MS) days.push(utcDay(ms));
  return days;
}

export function monthOf(day: string): string {
  return day.slice(0, 7);
}

/** Every month (YYYY-MM) that holds a day of from..to. */
export function monthRange(from: string, to: string): string[] {
  const months: string[] = [];
  let [year, month] = from.slice(0, 7).split('-').map(Number) as [number, number];
  const last = to.slice(0, 7);
  for (;;) {
    const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    if (text > last) break;
    months.push(text);
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return months;
}

/**
 * Splits `total` into integer parts proportional to `weights` (largest remainder method): the parts
 * add up exactly to `total`; ties go to the earlier weight.
 */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((acc, weight) => acc + weight, 0);
  if (weights.length === 0) return [];
  if (sum <= 0) return weights.map((_, index) => (index === 0 ? total : 0));
  const quotas = weights.map((weight) => (total * weight) / sum);
  const parts = quotas.map(Math.floor);
  let left = total - parts.reduce((acc, part) => acc + part, 0);
  const order = quotas
    .map((quota, index) => ({ index, remainder: quota - Math.floor(quota) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of order) {
    if (left <= 0) break;
    parts[index]! += 1;
    left -= 1;
  }
  return parts;
}

export interface DayShare {
  date: string;
  /** seconds of the report range on that day (weight of the split) */
  seconds: number;
}

/** The UTC days a report range is attributed to: every day it overlaps, with the seconds of overlap. */
export function attributionDays(begin: string, end: string): DayShare[] {
  const start = Date.parse(begin);
  const stop = Date.parse(end);
  if (Number.isNaN(start) || Number.isNaN(stop)) throw new Error(`invalid date range ${begin} .. ${end}`);
  const [from, to] = start <= stop ? [start, stop] : [stop, start];
  // An empty range (begin = end) still belongs to its day.
  if (to === from) return [{ date: utcDay(from), seconds: 0 }];
  const shares: DayShare[] = [];
  for (let dayStart = Math.floor(from / DAY_MS) * DAY_MS; dayStart < to; dayStart += DAY_MS) {
    const overlap = Math.min(to, dayStart + DAY_MS) - Math.max(from, dayStart);
    if (overlap > 0) shares.push({ date: utcDay(dayStart), seconds: overlap / 1000 });
  }
  return shares;
}

/** The UTC day of the middle of a range (TLS reports are not split). */
export function middleDay(begin: string, end: string): string {
  const start = Date.parse(begin);
  const stop = Date.parse(end);
  if (Number.isNaN(start) || Number.isNaN(stop)) throw new Error(`invalid date range ${begin} .. ${end}`);
  return utcDay((start + stop) / 2);
}

/** The counters and the maps of a source row (SourceStat), in their stored column order. */
export const SOURCE_COUNTERS = [
  'messages',
  'dmarcPass',
  'spfPass',
  'dkimPass',
  'spfAligned',
  'dkimAligned',
  'spfUnalignedPass',
  'dkimUnalignedPass',
] as const;
export const SOURCE_MAPS = ['dispositions', 'reasons', 'headerFrom', 'spf', 'dkim'] as const;

export function emptySourceStat(ip: string): SourceStat {
  return {
    ip,
    messages: 0,
    dmarcPass: 0,
    spfPass: 0,
    dkimPass: 0,
    spfAligned: 0,
    dkimAligned: 0,
    dispositions: dict(),
    reasons: dict(),
    headerFrom: dict(),
    spf: dict(),
    dkim: dict(),
    spfUnalignedPass: 0,
    dkimUnalignedPass: 0,
  };
}

/** Longest record-level key kept (header From, "domain selector result"): the reader caps first. */
const MAX_KEY = 300;
const key = (text: string) => (text.length <= MAX_KEY ? text : text.slice(0, MAX_KEY));

/** Adds `share` messages of one record to a source's figures. */
export function addRecordShare(stat: SourceStat, record: AggregateRecord, share: number): void {
  const isPass = (result: string) => result.trim().toLowerCase() === 'pass';
  stat.messages += share;
  if (record.dmarc === 'pass') stat.dmarcPass += share;
  if (isPass(record.evaluated.spf)) stat.spfPass += share;
  if (isPass(record.evaluated.dkim)) stat.dkimPass += share;
  if (record.alignment.spf) stat.spfAligned += share;
  if (record.alignment.dkim) stat.dkimAligned += share;
  if ((record.alignment.spfUnalignedPass?.length ?? 0) > 0) stat.spfUnalignedPass += share;
  if ((record.alignment.dkimUnalignedPass?.length ?? 0) > 0) stat.dkimUnalignedPass += share;
  bump(stat.dispositions, key(record.disposition.trim().toLowerCase() || 'none'), share);
  for (const type of new Set(record.reasons.map((reason) => key(reason.type.trim().toLowerCase()))))
    bump(stat.reasons, type, share);
  bump(stat.headerFrom, key(record.identifiers.headerFrom.trim().toLowerCase()), share);
  for (const spf of record.authResults.spf.slice(0, 20))
    bump(stat.spf, key(`${spf.domain.trim().toLowerCase()} ${spf.result.trim().toLowerCase()}`), share);
  for (const dkim of record.authResults.dkim.slice(0, 20))
    bump(
      stat.dkim,
      key(`${dkim.domain.trim().toLowerCase()} ${dkim.selector?.trim() || '-'} ${dkim.result.trim().toLowerCase()}`),
      share,
    );
}

export interface DaySplit {
  date: string;
  messages: number;
  /** one entry per source IP, ordered by IP */
  sources: SourceStat[];
}

/**
 * An aggregate report's records attributed to UTC days: each record's count is apportioned over
 * the report's days, then the shares of one IP on one day are merged into one SourceStat. A day
 * that receives no message keeps the report with no sources (the report does cover that day).
 */
export function splitAggregate(report: Pick<AggregateReport, 'begin' | 'end' | 'records'>): DaySplit[] {
  const splitter = new DaySplitter(report.begin, report.end);
  splitter.add(report.records);
  return splitter.splits();
}

/**
 * splitAggregate record by record, for records that arrive in batches: what it holds is one
 * SourceStat per source IP and day, however many records there are. Each record's shares depend
 * on that record alone, so the splits are the same as those of all records at once.
 */
export class DaySplitter {
  private readonly days: DayShare[];
  private readonly weights: number[];
  private readonly byDay: Array<Map<string, SourceStat>>;

  constructor(
    begin: string,
    end: string,
    /** a source's empty row (the rows' maps may be any prototype-free objects) */
    private readonly newStat: (ip: string) => SourceStat = emptySourceStat,
    /**
     * records whose sourceIp is already canonical (the reader's normalizeIp gives normaliseIp's
     * text): the address is not parsed a second time
     */
    private readonly canonicalIps = false,
  ) {
    this.days = attributionDays(begin, end);
    this.weights = this.days.map((day) => day.seconds);
    this.byDay = this.days.map(() => new Map());
  }

  add(records: readonly AggregateRecord[]): void {
    const { days, weights, byDay } = this;
    for (const record of records) {
      const count = Math.max(0, Math.trunc(record.count));
      const shares = days.length === 1 ? [count] : apportion(count, weights);
      const ip = this.canonicalIps ? record.sourceIp : normaliseIp(record.sourceIp);
      shares.forEach((share, index) => {
        if (share === 0) return;
        const sources = byDay[index]!;
        let stat = sources.get(ip);
        // keyed by the row's own IP text, which newStat may have copied out of the record's
        if (!stat) sources.set((stat = this.newStat(ip)).ip, stat);
        addRecordShare(stat, record, share);
      });
    }
  }

  /** SourceStats held: one per source IP and day. */
  get sources(): number {
    return this.byDay.reduce((sum, sources) => sum + sources.size, 0);
  }

  splits(): DaySplit[] {
    return this.days.map((day, index) => {
      const list = [...this.byDay[index]!.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
      return { date: day.date, messages: list.reduce((acc, stat) => acc + stat.messages, 0), sources: list };
    });
  }
}
