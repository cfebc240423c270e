// The digest: what the reports received in [since, until) say, per policy domain. A report counts
// in the digest whose period holds its ingestion time, so consecutive digests (each `since` being
// the previous `until`) miss none and count none twice.

import type { DayDoc, IngestLogEntry, SourceStat, StoredFailure, StoredTlsPolicy } from '../store/types.ts';
import type {
  DigestData,
  DigestDomain,
  DigestSource,
  ListTotal,
  Readiness,
  SenderIdentity,
  SourceClass,
} from './types.ts';
import { classHint, classRank } from './classify.ts';
import { explainFailures } from './hints.ts';
import { addStat, emptyStat, rate, rows } from './stats.ts';
import { dict, own } from '../store/dict.ts';
import {
  addSummaryRow,
  headIngestedAt,
  isDaySummary,
  ROW_FIRST_AT,
  ROW_WIDTH,
  rowNumber,
  summaryRows,
  type DayData,
  type StoredDaySummary,
} from '../store/summary.ts';

export interface DigestInput {
  /** ISO times; the period is since (inclusive) to until (exclusive) */
  since: string;
  until: string;
  /** ingest log entries (any superset of the period; filtered here) */
  ingested: readonly IngestLogEntry[];
  /** day documents touched by the period's reports; parts of other reports are ignored */
  newDays: readonly DayDoc[];
  /**
   * days whose every report part is of this period, as summaries (their rows are the period's
   * figures on that day); a day is given here or in `newDays`, not in both
   */
  newSummaries?: readonly DayData[];
  /**
   * the 7 days before, for the average pass rate (parts of this period's reports are ignored: a
   * summary's figures lose those of this period's parts on that day, read from `newDays`)
   */
  previousDays: readonly DayData[];
  /** per policy domain, the IPs seen for the first time in this period */
  firstSeenIps: Record<string, readonly string[]>;
  failures: readonly StoredFailure[];
  tls: readonly StoredTlsPolicy[];
  readinessByDomain: Record<string, DigestReadiness>;
  /** per domain, the class of each IP over the readiness window (classifyIps) */
  classes?: ReadonlyMap<string, ReadonlyMap<string, { class: SourceClass }>>;
  identities: Record<string, SenderIdentity>;
  /** how many new / failing sources to list per domain (default 5) */
  limit?: number;
}

/** What the digest shows of a domain's readiness: the spoofing totals, or the sources to count them from. */
export type DigestReadiness = Pick<Readiness, 'verdict' | 'nextStep' | 'blockers' | 'window'> &
  ({ spoofing: { sources: number; messages: number } } | Pick<Readiness, 'sources'>);

/**
 * One source IP of the period: its volume, and where its figures are (report parts' sources, or
 * summary rows), merged into a SourceStat only for the sources the digest lists.
 */
interface PeriodSource {
  ip: string;
  messages: number;
  dmarcPass: number;
  from: Array<SourceStat | { stored: StoredDaySummary; row: number }>;
}

function periodStat(source: PeriodSource): SourceStat {
  const stat = emptyStat(source.ip);
  for (const part of source.from) {
    if ('stored' in part) addSummaryRow(stat, part.stored, part.row);
    else addStat(stat, part);
  }
  return stat;
}

interface DomainAcc {
  total: SourceStat;
  bySource: Map<string, PeriodSource>;
  reports: Set<string>;
  reporters: Record<string, number>;
  failureReports: number;
  tls: DigestDomain['tls'] & { reportKeys: Set<string>; types: Record<string, number> };
}

export function digestData(input: DigestInput): DigestData {
  const { since, until, identities, limit = 5 } = input;
  const from = Date.parse(since);
  const to = Date.parse(until);
  const inPeriod = (iso: string | null | undefined) => {
    if (!iso) return false;
    const time = Date.parse(iso);
    return time >= from && time < to;
  };

  const received = { aggregate: 0, failure: 0, tls: 0 };
  const periodKeys = new Set<string>();
  for (const entry of input.ingested) {
    if (!inPeriod(entry.ingestedAt) || periodKeys.has(entry.reportKey)) continue;
    periodKeys.add(entry.reportKey);
    received[entry.kind] += 1;
  }
  const inThisDigest = (reportKey: string, ingestedAt: string) => periodKeys.has(reportKey) || inPeriod(ingestedAt);

  const domains = new Map<string, DomainAcc>();
  const domainAcc = (name: string): DomainAcc => {
    let acc = domains.get(name);
    if (!acc) {
      acc = {
        total: emptyStat(),
        bySource: new Map(),
        reports: new Set(),
        reporters: dict(),
        failureReports: 0,
        tls: { reports: 0, successful: 0, failed: 0, failureTypes: [], reportKeys: new Set(), types: dict() },
      };
      domains.set(name, acc);
    }
    return acc;
  };

  for (const doc of input.newDays) {
    for (const reportKey in doc.reports) {
      const part = doc.reports[reportKey]!;
      if (!inThisDigest(reportKey, part.ingestedAt)) continue;
      const acc = domainAcc(doc.domain);
      acc.reports.add(reportKey);
      for (const source of part.sources) {
        addStat(acc.total, source);
        periodSource(acc, source.ip, source.messages, source.dmarcPass).from.push(source);
        acc.reporters[part.orgName] = (acc.reporters[part.orgName] ?? 0) + source.messages;
      }
    }
  }
  for (const day of input.newSummaries ?? []) {
    const stored = summaryRows(day);
    const acc = domainAcc(day.domain);
    for (const head of stored.reports) {
      acc.reports.add(head.reportKey);
      // a part's messages are its sources' (a part without sources has none, and no reporter line)
      if (head.messages > 0) acc.reporters[head.orgName] = (acc.reporters[head.orgName] ?? 0) + head.messages;
    }
    for (let row = 0; row < stored.ips.length; row++) {
      addSummaryRow(acc.total, stored, row);
      const base = row * ROW_WIDTH;
      const ip = String(stored.ips[row]);
      periodSource(acc, ip, rowNumber(stored.counts[base]), rowNumber(stored.counts[base + 1])).from.push({
        stored,
        row,
      });
    }
  }

  const previous = new Map<string, { messages: number; dmarcPass: number }>();
  const newDocs = new Map(input.newDays.map((doc) => [`${doc.domain}\u0000${doc.date}`, doc]));
  const wholeDays = new Set((input.newSummaries ?? []).map((day) => `${day.domain}\u0000${day.date}`));
  for (const day of input.previousDays) {
    // a day of this period's reports only adds nothing to the days before
    if (wholeDays.has(`${day.domain}\u0000${day.date}`)) continue;
    if (isDaySummary(day)) {
      const summary = day;
      const acc = previous.get(summary.domain) ?? { messages: 0, dmarcPass: 0 };
      const { ips, counts } = summaryRows(summary);
      for (let row = 0; row < ips.length; row++) {
        acc.messages += rowNumber(counts[row * ROW_WIDTH]);
        acc.dmarcPass += rowNumber(counts[row * ROW_WIDTH + 1]);
      }
      const doc = newDocs.get(`${summary.domain}\u0000${summary.date}`);
      const periodParts = doc
        ? Object.keys(doc.reports).filter((key) => inThisDigest(key, doc.reports[key]!.ingestedAt))
        : [];
      for (const key of periodParts) {
        for (const source of doc!.reports[key]!.sources) {
          acc.messages -= source.messages;
          acc.dmarcPass -= source.dmarcPass;
        }
      }
      previous.set(summary.domain, acc);
      continue;
    }
    const doc = day as DayDoc;
    for (const reportKey in doc.reports) {
      const part = doc.reports[reportKey]!;
      if (inThisDigest(reportKey, part.ingestedAt)) continue;
      const acc = previous.get(doc.domain) ?? { messages: 0, dmarcPass: 0 };
      for (const source of part.sources) {
        acc.messages += source.messages;
        acc.dmarcPass += source.dmarcPass;
      }
      previous.set(doc.domain, acc);
    }
  }

  const seenFailures = new Set<string>();
  for (const failure of input.failures) {
    if (!inPeriod(failure.ingestedAt) || seenFailures.has(failure.reportKey)) continue;
    seenFailures.add(failure.reportKey);
    domainAcc((failure.reportedDomain ?? 'unknown').toLowerCase()).failureReports += 1;
  }

  const seenTls = new Set<string>();
  for (const policy of input.tls) {
    const once = `${policy.reportKey}\u0000${policy.domain}\u0000${policy.type}\u0000${policy.strings.join(' ')}`;
    if (!inPeriod(policy.ingestedAt) || seenTls.has(once)) continue;
    seenTls.add(once);
    const tls = domainAcc(policy.domain.toLowerCase()).tls;
    tls.reportKeys.add(policy.reportKey);
    tls.successful += policy.successful;
    tls.failed += policy.failed;
    for (const failure of policy.failures)
      tls.types[failure.resultType] = (tls.types[failure.resultType] ?? 0) + failure.count;
  }

  const classOf = (domain: string, ip: string) => input.classes?.get(domain)?.get(ip)?.class ?? null;
  const toSource = (source: PeriodSource, domain: string): DigestSource => {
    const stat = periodStat(source);
    const identity = own(identities, stat.ip);
    const sourceClass = classOf(domain, stat.ip);
    const failureHint = explainFailures(stat, { forwarder: identity?.forwarder ?? false, domain });
    return {
      ip: stat.ip,
      class: sourceClass,
      sender: identity && identity.by !== 'ip' ? identity.name : null,
      messages: stat.messages,
      dmarcPass: stat.dmarcPass,
      dmarcFail: stat.messages - stat.dmarcPass,
      hint: sourceClass ? classHint(sourceClass, failureHint, stat.ip, domain) : failureHint,
    };
  };
  const byIp = (a: PeriodSource, b: PeriodSource) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
  // What needs action first: by class (unknown classes last), then failing volume.
  // Ranked once per source (the sorts below would otherwise look the class up per comparison).
  const ranks = new Map<PeriodSource, number>();
  const rank = (domain: string, stat: PeriodSource) => {
    let value = ranks.get(stat);
    if (value === undefined) {
      const sourceClass = classOf(domain, stat.ip);
      ranks.set(stat, (value = sourceClass ? classRank(sourceClass) : 99));
    }
    return value;
  };
  const totalOf = (list: PeriodSource[], count: (stat: PeriodSource) => number): ListTotal => ({
    count: list.length,
    messages: list.reduce((sum, stat) => sum + count(stat), 0),
  });

  const result: DigestDomain[] = [];
  for (const [name, acc] of domains) {
    const { total } = acc;
    const stats = [...acc.bySource.values()];
    const firstSeen = new Set(own(input.firstSeenIps, name) ?? []);
    const before = previous.get(name);
    const passRate = total.messages > 0 ? rate(total.dmarcPass, total.messages) : null;
    const previousPassRate = before && before.messages > 0 ? rate(before.dmarcPass, before.messages) : null;
    const readiness = input.readinessByDomain[name];
    const fresh = stats.filter((stat) => firstSeen.has(stat.ip));
    const failing = stats.filter((stat) => stat.messages > stat.dmarcPass);
    const spoofing = readiness ? spoofingOf(readiness) : null;
    result.push({
      domain: name,
      reports: acc.reports.size,
      messages: total.messages,
      dmarcPass: total.dmarcPass,
      dmarcFail: total.messages - total.dmarcPass,
      passRate,
      previousPassRate,
      passRateChange: passRate !== null && previousPassRate !== null ? passRate - previousPassRate : null,
      spfAlignedRate: total.messages > 0 ? rate(total.spfAligned, total.messages) : null,
      dkimAlignedRate: total.messages > 0 ? rate(total.dkimAligned, total.messages) : null,
      dispositions: total.dispositions,
      reporters: rows(acc.reporters),
      newSources: fresh
        .sort((a, b) => rank(name, a) - rank(name, b) || b.messages - a.messages || byIp(a, b))
        .slice(0, limit)
        .map((stat) => toSource(stat, name)),
      newSourcesTotal: totalOf(fresh, (stat) => stat.messages),
      failingSources: failing
        .sort(
          (a, b) =>
            rank(name, a) - rank(name, b) || b.messages - b.dmarcPass - (a.messages - a.dmarcPass) || byIp(a, b),
        )
        .slice(0, limit)
        .map((stat) => toSource(stat, name)),
      failingSourcesTotal: totalOf(failing, (stat) => stat.messages - stat.dmarcPass),
      failureReports: acc.failureReports,
      tls: {
        reports: acc.tls.reportKeys.size,
        successful: acc.tls.successful,
        failed: acc.tls.failed,
        failureTypes: rows(acc.tls.types),
      },
      readiness: readiness
        ? {
            verdict: readiness.verdict,
            nextStep: readiness.nextStep,
            blockers: readiness.blockers.filter((blocker) => blocker.blocks === 'quarantine').length,
            window: readiness.window,
          }
        : null,
      spoofing,
    });
  }
  result.sort((a, b) => b.messages - a.messages || (a.domain < b.domain ? -1 : 1));
  return { since, until, received, domains: result };
}

function periodSource(acc: DomainAcc, ip: string, messages: number, dmarcPass: number): PeriodSource {
  let source = acc.bySource.get(ip);
  if (!source) acc.bySource.set(ip, (source = { ip, messages: 0, dmarcPass: 0, from: [] }));
  source.messages += messages;
  source.dmarcPass += dmarcPass;
  return source;
}

function spoofingOf(readiness: DigestReadiness): { sources: number; messages: number } {
  if ('spoofing' in readiness) return readiness.spoofing;
  const spoofers = readiness.sources.filter((source) => source.class === 'spoofing');
  return {
    sources: spoofers.reduce((sum, source) => sum + source.ipCount, 0),
    messages: spoofers.reduce((sum, source) => sum + source.messages, 0),
  };
}

/**
 * newIpsByDomain over day summaries: the IPs of this period's parts (in the day documents
 * `periodDays`) that no summary row ingested before `since` shows for the domain.
 */
export function newIpsAgainstSummaries(
  periodDays: readonly DayDoc[],
  inPeriod: (reportKey: string) => boolean,
  summaries: readonly DayData[],
  /** ISO time as toISOString() writes it (compared as text, like the stored ingestedAt) */
  since: string,
  /** days whose every report part is of this period (digestData's newSummaries) */
  periodSummaries: readonly DayData[] = [],
): Record<string, string[]> {
  const current = new Map<string, Set<string>>();
  for (const doc of periodDays) {
    for (const reportKey in doc.reports) {
      if (!inPeriod(reportKey)) continue;
      let ips = current.get(doc.domain);
      if (!ips) current.set(doc.domain, (ips = new Set()));
      for (const source of doc.reports[reportKey]!.sources) ips.add(source.ip);
    }
  }
  for (const day of periodSummaries) {
    let ips = current.get(day.domain);
    if (!ips) current.set(day.domain, (ips = new Set()));
    for (const ip of summaryRows(day).ips) ips.add(String(ip));
  }
  // Only this period's IPs are looked up in the summaries' rows (a month of rows holds many more).
  const before = new Map<string, Set<string>>();
  for (const day of summaries) {
    const ips = current.get(day.domain);
    if (!ips) continue;
    let seen = before.get(day.domain);
    if (!seen) before.set(day.domain, (seen = new Set()));
    const stored = summaryRows(day);
    for (let row = 0; row < stored.ips.length; row++) {
      const ip = String(stored.ips[row]);
      if (
        ips.has(ip) &&
        !seen.has(ip) &&
        headIngestedAt(stored.reports, stored.counts[row * ROW_WIDTH + ROW_FIRST_AT]) < since
      )
        seen.add(ip);
    }
  }
  return freshIps(current, before);
}

/**
 * Per policy domain, the IPs of this period's reports that no earlier report shows for that domain
 * (within the given day documents). `inPeriod` / `earlier` tell a report key's side of the period.
 */
export function newIpsByDomain(
  days: readonly DayDoc[],
  inPeriod: (reportKey: string) => boolean,
  earlier: (reportKey: string) => boolean,
): Record<string, string[]> {
  const current = new Map<string, Set<string>>();
  const before = new Map<string, Set<string>>();
  for (const doc of days) {
    for (const reportKey in doc.reports) {
      const side = inPeriod(reportKey) ? current : earlier(reportKey) ? before : null;
      if (!side) continue;
      let ips = side.get(doc.domain);
      if (!ips) side.set(doc.domain, (ips = new Set()));
      for (const source of doc.reports[reportKey]!.sources) ips.add(source.ip);
    }
  }
  return freshIps(current, before);
}

/** Per domain, the IPs of `current` that `before` lacks, sorted; domains with none are left out. */
function freshIps(current: Map<string, Set<string>>, before: Map<string, Set<string>>): Record<string, string[]> {
  const result = dict<string[]>();
  for (const [domain, ips] of current) {
    const seen = before.get(domain);
    const fresh = [...ips].filter((ip) => !seen?.has(ip)).sort();
    if (fresh.length) result[domain] = fresh;
  }
  return result;
}
