// What one report adds to the stored documents, as pure functions. Every contribution is a value
// under the report's own key inside a shared document, so applying it twice overwrites instead of
// adding (idempotent after a crash or a re-sent report); totals are computed on read.

import type { AggregateReport, FailureReport, Report, TlsReport } from '../model.ts';
import type {
  CatalogDoc,
  DayDoc,
  DayReportPart,
  IngestLogEntry,
  IpEntry,
  StoredFailure,
  StoredReport,
  StoredTlsPolicy,
} from './types.ts';
import { middleDay, monthOf, splitAggregate, utcDay } from './days.ts';
import { docKeys, ipBucket, ipEntryKey, normaliseDomain, reportKey } from './keys.ts';

export type DocPatch =
  | { kind: 'day'; key: string; domain: string; date: string; part: DayReportPart }
  | { kind: 'ip'; key: string; month: string; ip: string; entryKey: string; entry: IpEntry }
  | { kind: 'failure'; key: string; domain: string; date: string; field: string; value: StoredFailure }
  | { kind: 'tls'; key: string; domain: string; date: string; field: string; value: StoredTlsPolicy }
  | { kind: 'log'; key: string; date: string; field: string; value: IngestLogEntry };

export interface Contribution {
  reportKey: string;
  /** the dedupe marker, written after every patch */
  stored: StoredReport;
  patches: DocPatch[];
}

/** A clear error naming the report and the cause, for input the store cannot place. */
export class InvalidReportError extends Error {
  constructor(report: Report, cause: string) {
    const name =
      report.kind === 'failure'
        ? `failure report (source ${report.sourceIp ?? '?'}, arrival ${report.arrivalDate ?? '?'})`
        : `${report.kind} report ${JSON.stringify(report.reportId)} from ${JSON.stringify(report.orgName)}`;
    super(`${name}: ${cause}`);
    this.name = 'InvalidReportError';
  }
}

/** Longest date range the store accepts: a broken range (begin 1970) would be split over decades. */
export const MAX_RANGE_DAYS = 366;

function checkRange(report: AggregateReport | TlsReport): void {
  const begin = Date.parse(report.begin);
  const end = Date.parse(report.end);
  if (Number.isNaN(begin) || Number.isNaN(end))
    throw new InvalidReportError(
      report,
      `invalid date range ${JSON.stringify(report.begin)} .. ${JSON.stringify(report.end)}`,
    );
  const days = Math.abs(end - begin) / 86_400_000;
  if (days > MAX_RANGE_DAYS)
    throw new InvalidReportError(
      report,
      `date range ${report.begin} .. ${report.end} covers ${Math.round(days)} days (more than ${MAX_RANGE_DAYS})`,
    );
}

function aggregateContribution(report: AggregateReport, key: string, source: string, ingestedAt: string): Contribution {
  checkRange(report);
  const domain = normaliseDomain(report.policy.domain);
  if (!domain) throw new InvalidReportError(report, 'no policy domain');
  if (!report.reportId.trim()) throw new InvalidReportError(report, 'no report id');
  const splits = splitAggregate(report);
  const patches: DocPatch[] = [];
  for (const split of splits) {
    const part: DayReportPart = {
      reportKey: key,
      orgName: report.orgName,
      orgEmail: report.orgEmail,
      reportId: report.reportId,
      begin: report.begin,
      end: report.end,
      ingestedAt,
      policy: report.policy,
      messages: split.messages,
      sources: split.sources,
    };
    patches.push({ kind: 'day', key: docKeys.day(domain, split.date), domain, date: split.date, part });
    const month = monthOf(split.date);
    for (const stat of split.sources) {
      const entryKey = ipEntryKey(domain, split.date, key);
      patches.push({
        kind: 'ip',
        key: docKeys.ipBucket(split.date, ipBucket(stat.ip)),
        month,
        ip: stat.ip,
        entryKey,
        entry: { ...stat, domain, date: split.date, reportKey: key, orgName: report.orgName },
      });
    }
  }
  const days = splits.map((split) => split.date);
  const messages = splits.reduce((acc, split) => acc + split.messages, 0);
  const stored: StoredReport = {
    reportKey: key,
    kind: 'aggregate',
    ingestedAt,
    orgName: report.orgName,
    reportId: report.reportId,
    domains: [domain],
    begin: report.begin,
    end: report.end,
    messages,
    days,
    source,
  };
  return { reportKey: key, stored, patches };
}

/** The domain part of a header From value, which may be a bare domain or an address. */
function domainOf(value: string | null): string {
  if (!value) return '';
  const match = /@([^@>\s]+)>?\s*$/.exec(value);
  return normaliseDomain(match ? match[1] : value);
}

function failureContribution(report: FailureReport, key: string, source: string, ingestedAt: string): Contribution {
  // Without a reported domain, the header From domain says whose mail it was; '-' when neither.
  const domain = normaliseDomain(report.reportedDomain) || domainOf(report.headerFrom) || '-';
  // Arrival day; a report without a (valid) arrival date falls back to the day it was ingested.
  const arrival = report.arrivalDate && !Number.isNaN(Date.parse(report.arrivalDate)) ? report.arrivalDate : null;
  const date = utcDay(arrival ?? ingestedAt);
  const value: StoredFailure = { ...report, reportKey: key, ingestedAt };
  const stored: StoredReport = {
    reportKey: key,
    kind: 'failure',
    ingestedAt,
    orgName: report.reporter ?? null,
    reportId: report.messageId,
    domains: [domain],
    begin: arrival,
    end: arrival,
    messages: 1,
    days: [date],
    source,
  };
  return {
    reportKey: key,
    stored,
    patches: [{ kind: 'failure', key: docKeys.failureDay(domain, date), domain, date, field: key, value }],
  };
}

function tlsContribution(report: TlsReport, key: string, source: string, ingestedAt: string): Contribution {
  checkRange(report);
  const date = middleDay(report.begin, report.end);
  const patches: DocPatch[] = [];
  const domains = new Set<string>();
  let messages = 0;
  report.policies.forEach((policy, index) => {
    const domain = normaliseDomain(policy.domain);
    if (!domain) throw new InvalidReportError(report, `policy ${index + 1} has no policy domain`);
    domains.add(domain);
    messages += policy.successful + policy.failed;
    const value: StoredTlsPolicy = {
      ...policy,
      reportKey: key,
      orgName: report.orgName,
      reportId: report.reportId,
      begin: report.begin,
      end: report.end,
      ingestedAt,
    };
    // The policy's position keeps two policies of one report for the same domain (sts and tlsa) apart.
    patches.push({ kind: 'tls', key: docKeys.tlsDay(domain, date), domain, date, field: `${key}#${index}`, value });
  });
  const stored: StoredReport = {
    reportKey: key,
    kind: 'tls',
    ingestedAt,
    orgName: report.orgName,
    reportId: report.reportId,
    domains: [...domains].sort(),
    begin: report.begin,
    end: report.end,
    messages,
    days: [date],
    source,
  };
  return { reportKey: key, stored, patches };
}

/** Everything one report adds to the store; throws InvalidReportError for input it cannot place. */
export function contributionOf(report: Report, source: string, ingestedAt: string): Contribution {
  const key = reportKey(report);
  const contribution =
    report.kind === 'aggregate'
      ? aggregateContribution(report, key, source, ingestedAt)
      : report.kind === 'tls'
        ? tlsContribution(report, key, source, ingestedAt)
        : failureContribution(report, key, source, ingestedAt);
  const logDay = utcDay(ingestedAt);
  const { stored } = contribution;
  contribution.patches.push({
    kind: 'log',
    key: docKeys.logIndex(logDay),
    date: logDay,
    field: key,
    value: { reportKey: key, kind: stored.kind, ingestedAt, domains: stored.domains, days: stored.days },
  });
  return contribution;
}

/** Applies one patch to the current value of its document (undefined when absent); returns the new value. */
export function applyPatch(doc: unknown, patch: DocPatch): unknown {
  switch (patch.kind) {
    case 'day': {
      const day = (doc as DayDoc | undefined) ?? { domain: patch.domain, date: patch.date, reports: {} };
      day.reports[patch.part.reportKey] = patch.part;
      return day;
    }
    case 'ip': {
      const bucket = (doc as Record<string, Record<string, IpEntry>> | undefined) ?? {};
      (bucket[patch.ip] ??= {})[patch.entryKey] = patch.entry;
      return bucket;
    }
    case 'failure':
    case 'tls':
    case 'log': {
      const map = (doc as Record<string, unknown> | undefined) ?? {};
      map[patch.field] = patch.value;
      return map;
    }
  }
}

export function emptyCatalog(): CatalogDoc {
  return {
    domains: {},
    failureDomains: {},
    tlsDomains: {},
    logFirstDay: null,
    logLastDay: null,
    ipMonths: [],
    prunedBefore: null,
  };
}

type Ranges = Record<string, { firstDay: string; lastDay: string }>;

function widen(ranges: Ranges, domain: string, date: string): boolean {
  const range = ranges[domain];
  if (!range) {
    ranges[domain] = { firstDay: date, lastDay: date };
    return true;
  }
  let changed = false;
  if (date < range.firstDay) {
    range.firstDay = date;
    changed = true;
  }
  if (date > range.lastDay) {
    range.lastDay = date;
    changed = true;
  }
  return changed;
}

/**
 * Joins two versions of the catalog (this process's and the stored one, which another process may
 * have widened meanwhile): ranges are united, then cut at the later prune cut-off. Both inputs stay
 * untouched.
 */
export function mergeCatalogs(a: CatalogDoc, b: CatalogDoc): CatalogDoc {
  const cutoffs = [a.prunedBefore, b.prunedBefore].filter((day): day is string => typeof day === 'string').sort();
  const prunedBefore = cutoffs.at(-1) ?? null;
  const unite = (left: Ranges, right: Ranges): Ranges => {
    const result: Ranges = {};
    for (const source of [left, right]) {
      for (const [domain, range] of Object.entries(source ?? {})) {
        const seen = result[domain];
        result[domain] = seen
          ? {
              firstDay: range.firstDay < seen.firstDay ? range.firstDay : seen.firstDay,
              lastDay: range.lastDay > seen.lastDay ? range.lastDay : seen.lastDay,
            }
          : { ...range };
      }
    }
    if (prunedBefore) {
      for (const [domain, range] of Object.entries(result)) {
        if (range.lastDay < prunedBefore) delete result[domain];
        else if (range.firstDay < prunedBefore) range.firstDay = prunedBefore;
      }
    }
    return result;
  };
  const firsts = [a.logFirstDay, b.logFirstDay].filter((day): day is string => typeof day === 'string').sort();
  const lasts = [a.logLastDay, b.logLastDay].filter((day): day is string => typeof day === 'string').sort();
  let logFirstDay = firsts[0] ?? null;
  let logLastDay = lasts.at(-1) ?? null;
  if (prunedBefore && logLastDay !== null && logLastDay < prunedBefore) logFirstDay = logLastDay = null;
  else if (prunedBefore && logFirstDay !== null && logFirstDay < prunedBefore) logFirstDay = prunedBefore;
  const cutoffMonth = prunedBefore ? prunedBefore.slice(0, 7) : '';
  return {
    domains: unite(a.domains, b.domains),
    failureDomains: unite(a.failureDomains, b.failureDomains),
    tlsDomains: unite(a.tlsDomains, b.tlsDomains),
    logFirstDay,
    logLastDay,
    ipMonths: [...new Set([...(a.ipMonths ?? []), ...(b.ipMonths ?? [])])]
      .filter((month) => month >= cutoffMonth)
      .sort(),
    prunedBefore,
  };
}

/** Widens the catalog to cover a patch; returns whether it changed. */
export function extendCatalog(catalog: CatalogDoc, patch: DocPatch): boolean {
  switch (patch.kind) {
    case 'day':
      return widen(catalog.domains, patch.domain, patch.date);
    case 'failure':
      return widen(catalog.failureDomains, patch.domain, patch.date);
    case 'tls':
      return widen(catalog.tlsDomains, patch.domain, patch.date);
    case 'ip':
      if (catalog.ipMonths.includes(patch.month)) return false;
      catalog.ipMonths = [...catalog.ipMonths, patch.month].sort();
      return true;
    case 'log': {
      let changed = false;
      if (catalog.logFirstDay === null || patch.date < catalog.logFirstDay) {
        catalog.logFirstDay = patch.date;
        changed = true;
      }
      if (catalog.logLastDay === null || patch.date > catalog.logLastDay) {
        catalog.logLastDay = patch.date;
        changed = true;
      }
      return changed;
    }
  }
}
