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

export interface DateInsightInput {
  date: string;
  days: readonly DayData[];
  /** optional names for the listed sources */
  identities?: Record<string, SenderIdentity>;
  /** how many top / failing sources to list per domain (default 5) */
  limit?: number;
  /**
   * per domain, the class of each IP (classifyIps over the readiness window ending that day); or
   * asked per domain for the IPs whose class is read: the listed top sources and every failing one
   */
  classes?: ReadonlyMap<string, IpClasses> | ((domain: string, ips: readonly string[]) => IpClasses);
}

/** One IP's figures of the day: the counters lists sort by, and the rows to build its figures from. */
interface DayFigures {
  ip: string;
  messages: number;
  dmarcPass: number;
  rows: Array<{ stored: StoredDaySummary; row: number }>;
}

export function dateInsight({ date, days, identities = {}, limit = 5, classes }: DateInsightInput): DateInsight {
  const reportKeys = new Set<string>();
  const domains = new Map<string, { reports: DateDomain['reports']; bySource: Map<string, DayFigures> }>();

  for (const day of days) {
    if (day.date !== date) continue;
    const doc = asSummary(day);
    let domain = domains.get(doc.domain);
    if (!domain) domains.set(doc.domain, (domain = { reports: [], bySource: new Map() }));
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
    // only the counters of every source; the whole figures of the few listed (see toSource)
    const stored = summaryRows(day);
    for (let row = 0; row < stored.ips.length; row++) {
      const ip = String(stored.ips[row]);
      let figures = domain.bySource.get(ip);
      if (!figures) domain.bySource.set(ip, (figures = { ip, messages: 0, dmarcPass: 0, rows: [] }));
      figures.messages += rowNumber(stored.counts[row * ROW_WIDTH]);
      figures.dmarcPass += rowNumber(stored.counts[row * ROW_WIDTH + 1]);
      figures.rows.push({ stored, row });
    }
  }

  const result: DateDomain[] = [];
  for (const [name, { reports, bySource }] of domains) {
    let messages = 0;
    let dmarcPass = 0;
    for (const stat of bySource.values()) {
      messages += stat.messages;
      dmarcPass += stat.dmarcPass;
    }
    const stats = [...bySource.values()];
    const byIp = (a: DayFigures, b: DayFigures) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
    const top = stats.sort((a, b) => b.messages - a.messages || byIp(a, b)).slice(0, limit);
    const failing = stats.filter((stat) => stat.messages > stat.dmarcPass);
    const domainClasses =
      typeof classes === 'function'
        ? classes(name, [...new Set([...top, ...failing].map((stat) => stat.ip))])
        : classes?.get(name);
    const toSource = (figures: DayFigures): DateSource => {
      const stat = emptyStat(figures.ip);
      for (const { stored, row } of figures.rows) addSummaryRow(stat, stored, row);
      const identity = own(identities, stat.ip);
      const sourceClass = domainClasses?.get(stat.ip)?.class ?? null;
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
    const rank = (stat: DayFigures) => {
      const sourceClass = domainClasses?.get(stat.ip)?.class;
      return sourceClass ? classRank(sourceClass) : 99;
    };
    const topSources = top.map(toSource);
    // What needs action first: by class, then failing volume.
    const failingSources = failing
      .sort((a, b) => rank(a) - rank(b) || b.messages - b.dmarcPass - (a.messages - a.dmarcPass) || byIp(a, b))
      .slice(0, limit)
      .map(toSource);
    reports.sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.orgName < b.orgName ? -1 : 1));
    result.push({
      domain: name,
      reports,
      messages,
      dmarcPass,
      dmarcFail: messages - dmarcPass,
      passRate: rate(dmarcPass, messages),
      topSources,
      topSourcesTotal: { count: stats.length, messages },
      failingSources,
      failingSourcesTotal: {
        count: failing.length,
        messages: failing.reduce((sum, stat) => sum + stat.messages - stat.dmarcPass, 0),
      },
    });
  }
  result.sort((a, b) => b.messages - a.messages || (a.domain < b.domain ? -1 : 1));

  const messages = result.reduce((sum, domain) => sum + domain.messages, 0);
  const dmarcPass = result.reduce((sum, domain) => sum + domain.dmarcPass, 0);
  return { date, reports: reportKeys.size, messages, dmarcPass, dmarcFail: messages - dmarcPass, domains: result };
}
