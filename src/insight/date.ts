// `date <YYYY-MM-DD>`: per policy domain, the reports that cover one UTC day and what they say.

import {
  addSummaryRow,
  asSummary,
  ROW_WIDTH,
  rowNumber,
  summaryRows,
  type DayData,
  type StoredDaySummary,
} from '../store/summary.ts';
import type { DateDomain, DateInsight, DateSource, SenderIdentity, SourceClass } from './types.ts';
import { classHint, classRank } from './classify.ts';
import { explainFailures } from './hints.ts';
import { emptyStat, rate } from './stats.ts';
import { own } from '../store/dict.ts';

/** The classes of IPs of one domain, by IP. */
type IpClasses = ReadonlyMap<string, { class: SourceClass }>;

/**
 * The classes `date` reads of one domain's day: the rank (classRank) of every failing IP, which
 * orders the failing list, and the class of the few IPs listed. A rank can be known without the
 * class (a spoofing run of one-day senders ranks last whatever it is called).
 */
export interface DayClasses {
  rankOf(ip: string): number | undefined;
  /** the classes of the listed IPs (asked once, after the ranks) */
  classesOf(ips: readonly string[]): IpClasses;
}

export interface DateInsightInput {
  date: string;
  days: readonly DayData[];
  /**
   * optional names for the listed sources: by IP, or asked with the IP's first row of the day
   * (the summary and row index)
   */
  identities?:
    | Record<string, SenderIdentity>
    | ((ip: string, stored: StoredDaySummary, row: number) => SenderIdentity | undefined);
  /** how many top / failing sources to list per domain (default 5) */
  limit?: number;
  /**
   * per domain, the class of each IP (classifyIps over the readiness window ending that day); or
   * asked per domain with the day's failing IPs (ranked) and its top sources (of those, the
   * listed ones are asked their classes)
   */
  classes?:
    | ReadonlyMap<string, IpClasses>
    | ((domain: string, failing: readonly string[], top: readonly string[]) => DayClasses);
}

/** A domain's sources of the day: one per distinct IP, with the rows its figures come from. */
interface DaySources {
  ips: string[];
  messages: number[];
  dmarcPass: number[];
  /** per source, its rows; null while every source is the same row of the one stored day */
  rows: Array<Array<{ stored: StoredDaySummary; row: number }>> | null;
  stored: StoredDaySummary[];
}

/** The domain's sources over its stored days of the date (one, unless a store holds the day twice). */
function daySources(stored: StoredDaySummary[]): DaySources {
  const only = stored.length === 1 ? stored[0]! : null;
  if (only) {
    // one row per IP, ordered by IP, as written: no map, no object per row (stored data that is
    // not so is merged by IP)
    const rowCount = only.ips.length;
    const sources: DaySources = { ips: [], messages: [], dmarcPass: [], rows: null, stored };
    for (let row = 0; row < rowCount; row++) {
      const ip = String(only.ips[row]);
      if (row > 0 && !(sources.ips[row - 1]! < ip)) return merged(stored);
      sources.ips.push(ip);
      sources.messages.push(rowNumber(only.counts[row * ROW_WIDTH]));
      sources.dmarcPass.push(rowNumber(only.counts[row * ROW_WIDTH + 1]));
    }
    return sources;
  }
  return merged(stored);
}

/** daySources of several stored days of one domain (or rows that repeat an IP): merged by IP. */
function merged(stored: StoredDaySummary[]): DaySources {
  const sources: DaySources = { ips: [], messages: [], dmarcPass: [], rows: [], stored };
  const index = new Map<string, number>();
  for (const day of stored)
    for (let row = 0; row < day.ips.length; row++) {
      const ip = String(day.ips[row]);
      let at = index.get(ip);
      if (at === undefined) {
        index.set(ip, (at = sources.ips.push(ip) - 1));
        sources.messages.push(0);
        sources.dmarcPass.push(0);
        sources.rows!.push([]);
      }
      sources.messages[at]! += rowNumber(day.counts[row * ROW_WIDTH]);
      sources.dmarcPass[at]! += rowNumber(day.counts[row * ROW_WIDTH + 1]);
      sources.rows![at]!.push({ stored: day, row });
    }
  return sources;
}

/** The rows of source `at`. */
function rowsOf(sources: DaySources, at: number): Array<{ stored: StoredDaySummary; row: number }> {
  return sources.rows ? sources.rows[at]! : [{ stored: sources.stored[0]!, row: at }];
}

/**
 * The first `limit` of `count` candidates (the i-th is `candidate(i)`) in the order `before` (a
 * total order), without sorting them all.
 */
function firstOf(
  count: number,
  candidate: (index: number) => number,
  limit: number,
  before: (a: number, b: number) => boolean,
): number[] {
  const chosen: number[] = [];
  if (limit <= 0) return chosen;
  for (let index = 0; index < count; index++) {
    const next = candidate(index);
    if (chosen.length === limit && !before(next, chosen[limit - 1]!)) continue;
    let at = chosen.length === limit ? limit - 1 : chosen.length;
    while (at > 0 && before(next, chosen[at - 1]!)) {
      chosen[at] = chosen[at - 1]!;
      at -= 1;
    }
    chosen[at] = next;
  }
  return chosen;
}

export function dateInsight({ date, days, identities = {}, limit = 5, classes }: DateInsightInput): DateInsight {
  const reportKeys = new Set<string>();
  const domains = new Map<string, { reports: DateDomain['reports']; stored: StoredDaySummary[] }>();

  for (const day of days) {
    if (day.date !== date) continue;
    const doc = asSummary(day);
    let domain = domains.get(doc.domain);
    if (!domain) domains.set(doc.domain, (domain = { reports: [], stored: [] }));
    for (const part of doc.reports) {
      reportKeys.add(part.reportKey);
      domain.reports.push({
        orgName: part.orgName,
        reportId: part.reportId,
        begin: part.begin,
        end: part.end,
        messages: part.messages,
      });
    }
    domain.stored.push(summaryRows(day));
  }

  const identityOf =
    typeof identities === 'function' ? identities : (ip: string): SenderIdentity | undefined => own(identities, ip);
  const result: DateDomain[] = [];
  for (const [name, { reports, stored }] of domains) {
    // only the counters of every source; the whole figures of the few listed (see toSource)
    const sources = daySources(stored);
    const { ips } = sources;
    const count = ips.length;
    let messages = 0;
    let dmarcPass = 0;
    let failingMessages = 0;
    const failing: number[] = [];
    for (let at = 0; at < count; at++) {
      messages += sources.messages[at]!;
      dmarcPass += sources.dmarcPass[at]!;
      const fails = sources.messages[at]! - sources.dmarcPass[at]!;
      if (fails > 0) {
        failing.push(at);
        failingMessages += fails;
      }
    }
    const byIp = (a: number, b: number) => ips[a]! < ips[b]!;
    const top = firstOf(
      count,
      (at) => at,
      limit,
      (a, b) =>
        sources.messages[a] !== sources.messages[b] ? sources.messages[a]! > sources.messages[b]! : byIp(a, b),
    );
    let domainClasses: DayClasses | undefined;
    if (typeof classes === 'function')
      domainClasses = classes(
        name,
        failing.map((at) => ips[at]!),
        top.map((at) => ips[at]!),
      );
    else {
      const known = classes?.get(name);
      if (known)
        domainClasses = {
          rankOf: (ip) => {
            const sourceClass = known.get(ip)?.class;
            return sourceClass ? classRank(sourceClass) : undefined;
          },
          classesOf: () => known,
        };
    }
    // What needs action first: by class, then failing volume (each rank read once, not per comparison).
    const ranks = new Int32Array(count);
    for (const at of failing) ranks[at] = domainClasses?.rankOf(ips[at]!) ?? 99;
    const fails = (at: number) => sources.messages[at]! - sources.dmarcPass[at]!;
    const failingListed = firstOf(
      failing.length,
      (index) => failing[index]!,
      limit,
      (a, b) =>
        ranks[a] !== ranks[b] ? ranks[a]! < ranks[b]! : fails(a) !== fails(b) ? fails(a) > fails(b) : byIp(a, b),
    );
    const listedClasses = domainClasses?.classesOf([...new Set([...top, ...failingListed].map((at) => ips[at]!))]);
    const toSource = (at: number): DateSource => {
      const stat = emptyStat(ips[at]!);
      const rows = rowsOf(sources, at);
      for (const { stored: day, row } of rows) addSummaryRow(stat, day, row);
      const identity = identityOf(stat.ip, rows[0]!.stored, rows[0]!.row);
      const sourceClass = listedClasses?.get(stat.ip)?.class ?? null;
      const failureHint = explainFailures(stat, { forwarder: identity?.forwarder ?? false, domain: name });
      return {
        ip: stat.ip,
        class: sourceClass,
        sender: identity && identity.by !== 'ip' ? identity.name : null,
        messages: stat.messages,
        dmarcPass: stat.dmarcPass,
        dmarcFail: stat.messages - stat.dmarcPass,
        hint: sourceClass ? classHint(sourceClass, failureHint, stat.ip, name) : failureHint,
      };
    };
    reports.sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.orgName < b.orgName ? -1 : 1));
    result.push({
      domain: name,
      reports,
      messages,
      dmarcPass,
      dmarcFail: messages - dmarcPass,
      passRate: rate(dmarcPass, messages),
      topSources: top.map(toSource),
      topSourcesTotal: { count, messages },
      failingSources: failingListed.map(toSource),
      failingSourcesTotal: { count: failing.length, messages: failingMessages },
    });
  }
  result.sort((a, b) => b.messages - a.messages || (a.domain < b.domain ? -1 : 1));

  const messages = result.reduce((sum, domain) => sum + domain.messages, 0);
  const dmarcPass = result.reduce((sum, domain) => sum + domain.dmarcPass, 0);
  return { date, reports: reportKeys.size, messages, dmarcPass, dmarcFail: messages - dmarcPass, domains: result };
}
