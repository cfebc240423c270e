// What the store keeps, as plain JSON documents in keyv. The key layout is designed so that one
// report costs a few document writes (not one per record) and so that every write is idempotent:
// a report's contribution to a shared document is kept under that report's own key, so applying
// the same report twice (after a crash, or a re-sent report) overwrites instead of adding.
//
// Keys (all under the keyv namespace "dmarc"):
//   rep:<reportKey>                 StoredReport   dedupe marker, written LAST for a report
//   agg:<domain>:<YYYY-MM-DD>       StoredDayDoc   aggregate data of one policy domain, one UTC day
//   sum:<domain>:<YYYY-MM-DD>       StoredDaySummary  that day document's summary (summary.ts), written with it
//   ipx:<YYYY-MM-DD>:<bucket>       IpBucketDoc    per-source-IP index, UTC day shard, hash bucket (keys.ts)
//   fail:<domain>:<YYYY-MM-DD>      FailureDayDoc  failure reports by arrival day
//   tls:<domain>:<YYYY-MM-DD>       TlsDayDoc      TLS report results by UTC day of the range middle
//   logidx:<YYYY-MM-DD>             string[]       the ingest-log chunks of that UTC day
//   log:<YYYY-MM-DD>:<chunk>        IngestLogDoc   what one flush ingested that day (append-only, for the digest)
//   catalog                         CatalogDoc     domains and the day range that holds data
//   marks                           MarksDoc       the owner's decisions about sources
//   ptr:<ip>                        PtrCacheEntry  reverse-DNS cache
//   state:<name>                    any            small state: IMAP UIDVALIDITY/last UID, digest sent, lease

import type {
  AggregateReport,
  FailureReport,
  PolicyPublished,
  Report,
  ReportKind,
  TlsPolicyResult,
  TlsReport,
} from '../model.ts';
import type { DaySummary } from './summary.ts';
import type { PackedCounts, StoredSourceRow } from './source-rows.ts';

/** Per-source figures of one report on one day (records of one IP within a report are merged). */
export interface SourceStat {
  ip: string;
  messages: number;
  /** messages the reporter evaluated as DMARC pass (DKIM or SPF pass) */
  dmarcPass: number;
  /** the reporter's policy_evaluated results */
  spfPass: number;
  dkimPass: number;
  /** alignment computed by the reader (a passing identifier aligned with header From) */
  spfAligned: number;
  dkimAligned: number;
  /** messages per disposition: none | quarantine | reject | pass */
  dispositions: Record<string, number>;
  /** messages per policy override reason type (forwarded, mailing_list, ...) */
  reasons: Record<string, number>;
  /** messages per header From domain */
  headerFrom: Record<string, number>;
  /** messages per "domain result" of SPF auth results, e.g. "bounce.esp.example pass" */
  spf: Record<string, number>;
  /** messages per "domain selector result" of DKIM auth results ("-" when no selector) */
  dkim: Record<string, number>;
  /** messages that passed SPF / DKIM in auth_results but for an unaligned domain */
  spfUnalignedPass: number;
  dkimUnalignedPass: number;
}

/** One aggregate report's share of one UTC day for one policy domain. */
export interface DayReportPart {
  reportKey: string;
  orgName: string;
  orgEmail: string | null;
  reportId: string;
  begin: string;
  end: string;
  ingestedAt: string;
  policy: PolicyPublished;
  /** this day's share of the report's messages */
  messages: number;
  sources: SourceStat[];
}

export interface DayDoc {
  domain: string;
  /** YYYY-MM-DD (UTC) */
  date: string;
  reports: Record<string, DayReportPart>;
}

/** A report part as a day document stores it: its source rows packed (source-rows.ts) or, written before, whole. */
export interface StoredDayReportPart extends Omit<DayReportPart, 'sources'> {
  sources: StoredSourceRow[];
}

/** A day document as stored; days() gives it as a DayDoc (every row whole). */
export interface StoredDayDoc {
  domain: string;
  date: string;
  reports: Record<string, StoredDayReportPart>;
}

/** One source IP's figures in one report part (a row of the IP index). */
export interface IpEntry extends SourceStat {
  domain: string;
  date: string;
  reportKey: string;
  orgName: string;
}

/**
 * An IP index row as stored: no report-level text (a report with 3,000 IPs would copy its org
 * name 3,000 times); `ipEntries()` adds the org name from the report's marker. Older stores may
 * still carry `orgName`.
 */
export type StoredIpEntry = Omit<IpEntry, 'orgName'> & { orgName?: string };

/**
 * An IP index row as stored: written now, packed without what its place says (source-rows.ts
 * packCounts); written earlier, an object without zero counters and empty maps, or (older still)
 * whole. contributions.ts ipEntryOf makes each whole again.
 */
export type CompactIpEntry = Partial<StoredIpEntry> | PackedCounts;

/** ip -> (domain|date|reportKey) -> entry; prototype-free when built, JSON objects when read */
export type IpBucketDoc = Record<string, Record<string, CompactIpEntry>>;

export interface StoredFailure extends FailureReport {
  reportKey: string;
  ingestedAt: string;
}
export type FailureDayDoc = Record<string, StoredFailure>;

export interface StoredTlsPolicy extends TlsPolicyResult {
  reportKey: string;
  orgName: string;
  reportId: string;
  begin: string;
  end: string;
  ingestedAt: string;
}
export type TlsDayDoc = Record<string, StoredTlsPolicy>;

export interface StoredReport {
  reportKey: string;
  kind: ReportKind;
  ingestedAt: string;
  orgName: string | null;
  reportId: string | null;
  /** policy domain (aggregate), reported domain (failure), policy domains (tls) */
  domains: string[];
  begin: string | null;
  end: string | null;
  messages: number;
  /** the UTC days the report was attributed to */
  days: string[];
  /** where it came from: file path or imap:<mailbox>/<uid> */
  source: string;
}

export interface IngestLogEntry {
  reportKey: string;
  kind: ReportKind;
  ingestedAt: string;
  domains: string[];
  days: string[];
}
export type IngestLogDoc = Record<string, IngestLogEntry>;

export interface CatalogDoc {
  domains: Record<string, { firstDay: string; lastDay: string }>;
  /** domains with failure / TLS data, same shape */
  failureDomains: Record<string, { firstDay: string; lastDay: string }>;
  tlsDomains: Record<string, { firstDay: string; lastDay: string }>;
  /** first and last UTC day that holds an ingest log */
  logFirstDay: string | null;
  logLastDay: string | null;
  /** ip-index months that hold data (YYYY-MM) */
  ipMonths: string[];
  /** UTC day cut-off of the last prune: data before it was deleted (absent: never pruned) */
  prunedBefore?: string | null;
}

export type MarkVerdict = 'mine' | 'spoof';
export interface Mark {
  /** an IP address or a sender name as shown by `ready`/`sources` */
  subject: string;
  verdict: MarkVerdict;
  by: string;
  at: string;
}
export type MarksDoc = Record<string, Mark>;

export interface PtrCacheEntry {
  names: string[];
  /** forward-confirmed name, when one of the names resolves back to the IP */
  confirmed: string | null;
  at: string;
}

/**
 * 'expired': every day of the report lies before the cut-off of the last prune (retention), so it
 * is refused instead of re-growing pruned data from an old backlog.
 */
export type IngestOutcome = 'new' | 'duplicate' | 'expired';

/** The store as the rest of the program sees it. One writer at a time (see src/lease). */
export interface ReportStore {
  /** Stores one parsed report; idempotent. Resolves 'duplicate' when its dedupe key is already stored. */
  ingest(report: AggregateReport | FailureReport | TlsReport, source: string, now?: Date): Promise<IngestOutcome>;
  /** Writes buffered changes durably; after it resolves every ingested report is stored. */
  flush(): Promise<void>;
  /**
   * Which of these report keys (reportKey()) are stored already: one batched lookup instead of one
   * per report. Buffered reports count as stored. ingest() of a key found absent here skips its own
   * lookup, until the next call. `prefetch`: reports about to be ingested; the documents of those
   * found absent are read in the same call, in one read, instead of one read per ingest().
   */
  storedReports(reportKeys: readonly string[], prefetch?: readonly Report[]): Promise<Set<string>>;
  /**
   * How many reports ingest() accepted as 'new' could not be written (a failed flush, a lost
   * writer lease): the count of stored reports is the new ones minus these.
   */
  unwrittenReports?(): number;
  /** The store's own consistency check (SQLite: PRAGMA quick_check): the problems found, [] when none. */
  integrityCheck?(): Promise<string[]>;

  domains(): Promise<string[]>;
  /** Day documents of a domain (or of every domain when null) for the UTC days from..to inclusive. */
  days(domain: string | null, from: string, to: string): Promise<DayDoc[]>;
  /**
   * Day summaries (summary.ts) of a domain (or of every domain when null) for from..to inclusive:
   * what the queries read instead of whole day documents.
   */
  summaries(domain: string | null, from: string, to: string): Promise<DaySummary[]>;
  /** Index rows of one source IP for the UTC days from..to inclusive. */
  ipEntries(ip: string, from: string, to: string): Promise<IpEntry[]>;
  failures(domain: string | null, from: string, to: string): Promise<StoredFailure[]>;
  tlsResults(domain: string | null, from: string, to: string): Promise<StoredTlsPolicy[]>;
  /** Reports ingested at or after `since` (ISO), oldest first. */
  ingestedSince(since: string): Promise<IngestLogEntry[]>;
  report(reportKey: string): Promise<StoredReport | undefined>;

  marks(): Promise<MarksDoc>;
  setMark(mark: Mark): Promise<void>;
  clearMark(subject: string): Promise<void>;

  getState<T>(name: string): Promise<T | undefined>;
  setState<T>(name: string, value: T, ttlMs?: number): Promise<void>;

  /** Deletes data older than the given number of days (0 keeps everything). */
  prune(retentionDays: number, now?: Date): Promise<{ deletedKeys: number }>;
  close(): Promise<void>;
}
