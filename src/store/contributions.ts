// What one report adds to the stored documents, as pure functions. Every contribution is a value
// under the report's own key inside a shared document, so applying it twice overwrites instead of
// adding (idempotent after a crash or a re-sent report); totals are computed on read.

import type { AggregateReport, FailureReport, Report, TlsReport } from '../model.ts';
import type {
  CatalogDoc,
  CompactIpEntry,
  IngestLogEntry,
  StoredIpEntry,
  StoredFailure,
  StoredDayDoc,
  StoredDayReportPart,
  StoredReport,
  StoredTlsPolicy,
} from './types.ts';
import { packCounts, packSource, unpackCounts } from './source-rows.ts';
import {
  emptySourceStat,
  inStoreWindow,
  isStoreDay,
  middleDay,
  monthOf,
  splitAggregate,
  utcDay,
  type DaySplit,
  FIRST_STORE_DAY,
  LAST_STORE_DAY,
} from './days.ts';
import { canonicalIpBucket, docKeys, ipEntryKey, normaliseDomain, reportKey } from './keys.ts';
import { isMerged } from './merge.ts';
import { dict, own, toDict, type Dict } from './dict.ts';

export type DocPatch =
  | { kind: 'day'; key: string; domain: string; date: string; part: StoredDayReportPart }
  | { kind: 'ip'; key: string; month: string; ip: string; entryKey: string; entry: CompactIpEntry }
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

/**
 * Longest text the store keeps of a report-level field (org name, email, report id) and of a
 * record-level key (header From, auth result): the reader caps them first; these caps keep a
 * buggy caller or an older reader from filling the store.
 */
export const MAX_TEXT = 256;
const MAX_DOMAIN = 253;

export function capText(value: string, max = MAX_TEXT): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function capOptional(value: string | null | undefined, max = MAX_TEXT): string | null {
  return value == null ? null : capText(String(value), max);
}

function checkCount(report: Report, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new InvalidReportError(report, `${what} ${capText(String(value), 40)} is not a whole number of messages`);
  return value;
}

function checkRange(report: AggregateReport | TlsReport): void {
  const begin = Date.parse(report.begin);
  const end = Date.parse(report.end);
  if (Number.isNaN(begin) || Number.isNaN(end))
    throw new InvalidReportError(
      report,
      `invalid date range ${JSON.stringify(capText(String(report.begin), 40))} .. ${JSON.stringify(capText(String(report.end), 40))}`,
    );
  const days = Math.abs(end - begin) / 86_400_000;
  if (days > MAX_RANGE_DAYS)
    throw new InvalidReportError(
      report,
      `date range ${report.begin} .. ${report.end} covers ${Math.round(days)} days (more than ${MAX_RANGE_DAYS})`,
    );
  if (!inStoreWindow(begin) || !inStoreWindow(end))
    throw new InvalidReportError(
      report,
      `date range ${report.begin} .. ${report.end} lies outside ${FIRST_STORE_DAY} .. ${LAST_STORE_DAY}`,
    );
}

/**
 * A stored IP index row as a whole row. A row written now is packed (source-rows.ts packCounts,
 * without what its place says: the IP is the bucket's key, the domain, day and report key are in
 * the entry key); one written earlier is an object, without zero counters and empty maps or
 * (older still) whole, and keeps every field it has.
 */
export function ipEntryOf(ip: string, entryKey: string, stored: CompactIpEntry): StoredIpEntry {
  // the entry key is domain|date|reportKey, and only the domain may hold a '|'
  const keyAt = entryKey.lastIndexOf('|');
  const dateAt = entryKey.lastIndexOf('|', keyAt - 1);
  return Object.assign(Array.isArray(stored) ? unpackCounts(ip, stored) : emptySourceStat(ip), {
    domain: entryKey.slice(0, Math.max(dateAt, 0)),
    date: entryKey.slice(dateAt + 1, keyAt),
    reportKey: entryKey.slice(keyAt + 1),
    ...(Array.isArray(stored) ? {} : stored),
  });
}

function aggregateContribution(report: AggregateReport, key: string, source: string, ingestedAt: string): Contribution {
  checkRange(report);
  const domain = normaliseDomain(report.policy.domain);
  if (!domain) throw new InvalidReportError(report, 'no policy domain');
  if (domain.length > MAX_DOMAIN) throw new InvalidReportError(report, `policy domain longer than ${MAX_DOMAIN}`);
  if (!report.reportId.trim()) throw new InvalidReportError(report, 'no report id');
  let splits: DaySplit[];
  if (isMerged(report)) {
    // merged while it was read (merge.ts): the same checks and rows, made record by record then
    if (report.merged.problem !== null) throw new InvalidReportError(report, report.merged.problem);
    splits = report.merged.splits;
  } else {
    let total = 0;
    report.records.forEach((record, index) => {
      total += checkCount(report, record.count, `record ${index + 1}: count`);
    });
    if (!Number.isSafeInteger(total)) throw new InvalidReportError(report, 'the message counts add up past 2^53');
    splits = splitAggregate(report);
  }
  const patches: DocPatch[] = [];
  const orgName = capText(report.orgName);
  const reportId = capText(report.reportId);
  const policy = { ...report.policy, domain: capText(report.policy.domain, MAX_DOMAIN) };
  for (const split of splits) {
    const part: StoredDayReportPart = {
      reportKey: key,
      orgName,
      orgEmail: capOptional(report.orgEmail),
      reportId,
      begin: report.begin,
      end: report.end,
      ingestedAt,
      policy,
      messages: split.messages,
      sources: split.sources.map(packSource),
    };
    patches.push({ kind: 'day', key: docKeys.day(domain, split.date), domain, date: split.date, part });
    const month = monthOf(split.date);
    const entryKey = ipEntryKey(domain, split.date, key);
    for (const stat of split.sources) {
      patches.push({
        kind: 'ip',
        // the rows' IPs are canonical already (DaySplitter): no second normalisation per row
        key: docKeys.ipBucket(split.date, canonicalIpBucket(stat.ip)),
        month,
        ip: stat.ip,
        entryKey,
        // The report's own text (org name) is not copied into every IP's row: read from its marker.
        entry: packCounts(stat),
      });
    }
  }
  const days = splits.map((split) => split.date);
  const messages = splits.reduce((acc, split) => acc + split.messages, 0);
  const stored: StoredReport = {
    reportKey: key,
    kind: 'aggregate',
    ingestedAt,
    orgName,
    reportId,
    domains: [domain],
    begin: report.begin,
    end: report.end,
    messages,
    days,
    source,
  };
  return { reportKey: key, stored, patches };
}

/** A failure report with every text field capped (the fields are shown, never parsed again). */
function capFailure(report: FailureReport): FailureReport {
  const capped = { ...report, authFailure: (report.authFailure ?? []).slice(0, 20).map((item) => capText(item)) };
  for (const field of Object.keys(capped) as Array<keyof FailureReport>) {
    const value = capped[field];
    if (typeof value === 'string') (capped as Record<string, unknown>)[field] = capText(value);
  }
  return capped;
}

/** The domain part of a header From value, which may be a bare domain or an address. */
function domainOf(value: string | null): string {
  if (!value) return '';
  const match = /@([^@>\s]+)>?\s*$/.exec(value);
  return normaliseDomain(match ? match[1] : value);
}

function failureContribution(report: FailureReport, key: string, source: string, ingestedAt: string): Contribution {
  // Without a reported domain, the header From domain says whose mail it was; '-' when neither.
  const domain = capText(normaliseDomain(report.reportedDomain) || domainOf(report.headerFrom) || '-', MAX_DOMAIN);
  // Arrival day; a report without a valid arrival date (or one outside the store's window) falls
  // back to the day it was ingested.
  const arrival =
    report.arrivalDate && inStoreWindow(Date.parse(report.arrivalDate)) ? capText(report.arrivalDate, 64) : null;
  const date = utcDay(arrival ?? ingestedAt);
  const value: StoredFailure = { ...capFailure(report), reportKey: key, ingestedAt };
  const stored: StoredReport = {
    reportKey: key,
    kind: 'failure',
    ingestedAt,
    orgName: capOptional(report.reporter),
    reportId: capOptional(report.messageId),
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
    if (domain.length > MAX_DOMAIN)
      throw new InvalidReportError(report, `policy ${index + 1}: domain longer than ${MAX_DOMAIN}`);
    domains.add(domain);
    checkCount(report, policy.successful, `policy ${index + 1}: successful sessions`);
    checkCount(report, policy.failed, `policy ${index + 1}: failed sessions`);
    policy.failures.forEach((failure, position) =>
      checkCount(report, failure.count, `policy ${index + 1} failure ${position + 1}: count`),
    );
    messages += policy.successful + policy.failed;
    if (!Number.isSafeInteger(messages)) throw new InvalidReportError(report, 'the session counts add up past 2^53');
    const value: StoredTlsPolicy = {
      ...policy,
      reportKey: key,
      orgName: capText(report.orgName),
      reportId: capText(report.reportId),
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
    orgName: capText(report.orgName),
    reportId: capText(report.reportId),
    domains: [...domains].sort(),
    begin: report.begin,
    end: report.end,
    messages,
    days: [date],
    source,
  };
  return { reportKey: key, stored, patches };
}

/**
 * The documents (other than the ingest log) that ingest() of this report reads and changes, for a
 * batched read ahead of it; [] for a report it cannot place. A merged aggregate report's are taken
 * from its rows without building its patches; the other kinds are small and build them.
 */
export function documentKeysOf(report: Report): string[] {
  try {
    if (report.kind === 'aggregate' && isMerged(report)) {
      const domain = normaliseDomain(report.policy.domain);
      const keys = new Set<string>();
      for (const split of report.merged.splits) {
        keys.add(docKeys.day(domain, split.date));
        for (const stat of split.sources) keys.add(docKeys.ipBucket(split.date, canonicalIpBucket(stat.ip)));
      }
      return [...keys];
    }
    return [
      ...new Set(
        contributionOf(report, '', new Date(0).toISOString())
          .patches.filter((patch) => patch.kind !== 'log')
          .map((patch) => patch.key),
      ),
    ];
  } catch {
    return [];
  }
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
    // Stored documents come from JSON (normal objects): data keys are only ever written into
    // prototype-free copies, and read as own properties.
    case 'day': {
      const stored = doc as StoredDayDoc | undefined;
      // a day patched before in the batch already holds a prototype-free map: no copy per report
      const reports =
        stored?.reports !== undefined && Object.getPrototypeOf(stored.reports) === null
          ? stored.reports
          : toDict(stored?.reports);
      reports[patch.part.reportKey] = patch.part;
      return { domain: patch.domain, date: patch.date, reports };
    }
    case 'ip': {
      const bucket =
        doc !== undefined && Object.getPrototypeOf(doc) === null
          ? (doc as Dict<Dict<CompactIpEntry>>)
          : toDict(doc as Dict<Dict<CompactIpEntry>> | undefined);
      const held = own(bucket, patch.ip);
      // an IP's entries patched before in the batch are a prototype-free map already: no copy per row
      const entries = held != null && Object.getPrototypeOf(held) === null ? held : toDict(held);
      entries[patch.entryKey] = patch.entry;
      bucket[patch.ip] = entries;
      return bucket;
    }
    case 'failure':
    case 'tls':
    case 'log': {
      const map =
        doc !== undefined && Object.getPrototypeOf(doc) === null
          ? (doc as Dict<unknown>)
          : toDict(doc as Dict<unknown> | undefined);
      map[patch.field] = patch.value;
      return map;
    }
  }
}

export function emptyCatalog(): CatalogDoc {
  return {
    domains: dict(),
    failureDomains: dict(),
    tlsDomains: dict(),
    logFirstDay: null,
    logLastDay: null,
    ipMonths: [],
    prunedBefore: null,
  };
}

type Ranges = Record<string, { firstDay: string; lastDay: string }>;

function widen(ranges: Ranges, domain: string, date: string): boolean {
  const range = own(ranges, domain);
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
  const cutoffs = [a.prunedBefore, b.prunedBefore].filter(isStoreDay).sort();
  const prunedBefore = cutoffs.at(-1) ?? null;
  const unite = (left: Ranges, right: Ranges): Ranges => {
    const result: Ranges = dict();
    for (const source of [left, right]) {
      for (const [domain, range] of Object.entries(source ?? {})) {
        // an older store may hold days the store no longer accepts (year 10000): left out
        if (!range || !isStoreDay(range.firstDay) || !isStoreDay(range.lastDay)) continue;
        const seen = own(result, domain);
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
  const firsts = [a.logFirstDay, b.logFirstDay].filter(isStoreDay).sort();
  const lasts = [a.logLastDay, b.logLastDay].filter(isStoreDay).sort();
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
      .filter((month) => typeof month === 'string' && /^\d{4}-\d{2}$/.test(month) && month >= cutoffMonth)
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
