// Contracts of the insight layer: pure functions over store documents produce these data models;
// the presentation layer (commands, digest) turns them into replies. Shapes named in the issues
// (`ask --json`) are fixed; more fields may be added.

import type { StoredDaySummary } from '../store/summary.ts';

/** Who a source IP belongs to, as far as we can tell without the internet. */
export interface SenderIdentity {
  /** grouping key for `ready`/`sources`: the known service id, else ptr org domain, else "AS<n>", else the IP */
  key: string;
  /** name shown to people: "Google", "Amazon SES", "mail.isp.example", "AS64500 Example Net", "203.0.113.5" */
  name: string;
  /** how it was identified */
  by: 'known' | 'ptr' | 'asn' | 'ip';
  /** the known service id when it is one (google, microsoft365, amazonses, sendgrid, mailchimp, ...) */
  service: string | null;
  /** true when the service relays mail of others (mailbox providers forwarding, mailing lists) */
  forwarder: boolean;
  ptr: string | null;
  asn: number | null;
  asName: string | null;
  country: string | null;
}

/** Hints from the reports that help recognise a service without DNS (DKIM d=, SPF domains). */
export interface IdentifyHints {
  dkimDomains: string[];
  spfDomains: string[];
}

/**
 * Identifies one source IP; DNS lookups inside are bounded by a timeout and cached. With
 * `dns: false` only offline data is used (known ranges, hint domains, ASN database, cached PTR),
 * for bulk classification of thousands of IPs within a chat platform's 3-second limit.
 */
export type Identify = ((ip: string, hints?: IdentifyHints, options?: IdentifyOptions) => Promise<SenderIdentity>) & {
  /** the `dns: false` answer, synchronously (bulk identification pays no promise per IP) */
  offline?: (ip: string, hints?: IdentifyHints) => SenderIdentity;
  /**
   * Where offline identities of stored days are kept between processes, while offline's answers
   * depend only on the IP and its hints (null: not now, e.g. once PTR names are known in memory).
   */
  offlineCache?: () => DayIdentityCache | null;
};

export interface IdentifyOptions {
  dns?: boolean;
  /**
   * identify.offline's answer for this IP and these hints, made when no PTR name was known: the
   * answer when DNS finds none either (no need to look the IP up in the offline data again)
   */
  offline?: SenderIdentity;
}

/** Offline identities of every row of stored days (src/senders/identity-cache.ts). */
export interface DayIdentityCache {
  /**
   * The identity of a row of the day (identify.offline's for its IP and the row's hints), when a
   * valid entry exists: null when none.
   */
  read(day: StoredDaySummary): ((row: number) => SenderIdentity) | null;
  /** Keeps the identities of every row of the day (written whole, replacing any entry). */
  write(day: StoredDaySummary, identities: readonly SenderIdentity[]): void;
}

export type ReadinessVerdict = 'insufficient-data' | 'not-ready' | 'ready-quarantine' | 'ready-reject' | 'enforced';

/**
 * aligned: passes; legitimate-failing: a known service, a source that passes sometimes, or one
 * marked mine; forwarded / mailing-list: others relaying the domain's mail; unconfirmed: a regular
 * sender nobody vouched for yet; spoofing: sporadic and never passing, or marked spoof.
 */
export type SourceClass = 'aligned' | 'legitimate-failing' | 'forwarded' | 'mailing-list' | 'unconfirmed' | 'spoofing';

/** What `ready` measures a domain against (defaults in readiness.ts, settings READY_*). */
export interface ReadinessThresholds {
  windowDays: number;
  minDaysWithReports: number;
  minMessages: number;
  quarantinePassRate: number;
  rejectPassRate: number;
  maxLegitFailingShare: number;
  regularSenderMinDays: number;
  regularSenderMinShare: number;
  /** a source that passes at least this share of its mail counts as aligned */
  alignedPassRate: number;
}

export interface ReadinessCheck {
  /** stable id, e.g. "days-with-reports", "messages", "pass-rate", "legit-failing" */
  id: string;
  ok: boolean;
  /** the figure and the threshold in words for the catalog, e.g. "21 of 14 days" */
  detail: string;
  value?: number;
  threshold?: number;
}

export interface ReadinessBlocker {
  sender: string;
  class: SourceClass;
  /** the policy it stands in the way of: quarantine (and so reject), or reject only */
  blocks: 'quarantine' | 'reject';
  messages: number;
  failing: number;
  ips: string[];
  hint: Hint | null;
}

/**
 * A fix hint as data: the presentation layer words it through the message catalog (en/ja).
 * e.g. { code: 'spf-unaligned', params: { spfDomain: 'bounce.esp.example', domain: 'example.com' } }
 */
export interface Hint {
  code: string;
  params: Record<string, string | number>;
}

// ---- Results of the insight functions (src/insight/*.ts). ----

/** A window of whole UTC days, both ends inclusive (YYYY-MM-DD). */
export interface DayWindow {
  from: string;
  to: string;
}

/** A named count, sorted by messages (largest first) wherever it appears in a result. */
export interface CountRow {
  key: string;
  messages: number;
}

/** `ip` command: what one source IP sent in the window. `ip`..`days` is a fixed shape (`ask --json` prints it). */
export interface IpInsight {
  ip: string;
  /** false when the IP has no data in the window ("unknown IP") */
  known: boolean;
  window: DayWindow;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  /** first / last UTC day with data in the window */
  firstSeen: string | null;
  lastSeen: string | null;
  ptr: string | null;
  asn: number | null;
  asName: string | null;
  country: string | null;
  /** the sender name (identity name) when identified beyond the bare IP */
  sender: string | null;
  service: string | null;
  /** policy domains, largest first */
  domains: string[];
  /** reporting organisations, largest first */
  reporters: string[];
  days: Array<{ date: string; messages: number; dmarcPass: number }>;
  domainStats: Array<CountRow & { dmarcPass: number }>;
  reporterStats: CountRow[];
  headerFrom: CountRow[];
  spfPass: number;
  dkimPass: number;
  spfAligned: number;
  dkimAligned: number;
  /** shares 0..1 of messages (0 when no messages) */
  dmarcPassRate: number;
  spfAlignedRate: number;
  dkimAlignedRate: number;
  /** "domain result" of SPF auth results, and "domain selector result" of DKIM, with messages */
  spfResults: CountRow[];
  dkimResults: CountRow[];
  dispositions: Record<string, number>;
  /** policy override reasons (forwarded, mailing_list, ...) with messages */
  reasons: Record<string, number>;
  /** the owner's mark of this IP or of its sender, when any */
  mark: 'mine' | 'spoof' | null;
  /** the class of the IP's sender group in its main domain, as `ready` names it; null without data */
  class: SourceClass | null;
  hint: Hint | null;
}

export interface DateSource {
  ip: string;
  /** the class of its sender group over the readiness window, when the caller classified */
  class: SourceClass | null;
  /** identity name when the caller passed identities, else null */
  sender: string | null;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  hint: Hint | null;
}

export interface DateDomain {
  domain: string;
  reports: Array<{ orgName: string; reportId: string; begin: string; end: string; messages: number }>;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  passRate: number;
  topSources: DateSource[];
  topSourcesTotal: ListTotal;
  failingSources: DateSource[];
  failingSourcesTotal: ListTotal;
}

/** `date` command: the reports that cover one UTC day, per policy domain. */
export interface DateInsight {
  date: string;
  /** distinct reports covering the day (over every domain) */
  reports: number;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  domains: DateDomain[];
}

/** The policy as receivers reported it (policy_published) in the window. */
export interface ReportedPolicy {
  p: string | null;
  sp: string | null;
  np: string | null;
  pct: number | null;
  testing: string | null;
  adkim: string | null;
  aspf: string | null;
  /** organisations whose latest reports showed this policy */
  reportedBy: string[];
  /** the last UTC day a report showed it */
  lastSeen: string | null;
}

/** One sender group of `ready` (and `sources`): IPs grouped by identity key. */
export interface ReadinessSource {
  key: string;
  sender: string;
  by: SenderIdentity['by'];
  service: string | null;
  class: SourceClass;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  passRate: number;
  /** share of the window's whole volume, 0..1 */
  share: number;
  /** UTC days of the window on which the group sent */
  activeDays: number;
  /** the group's IPs, largest first, at most 10; ipCount has the full number */
  ips: string[];
  ipCount: number;
  mark: 'mine' | 'spoof' | null;
  hint: Hint | null;
}

export interface Readiness {
  domain: string;
  window: DayWindow;
  verdict: ReadinessVerdict;
  checks: ReadinessCheck[];
  blockers: ReadinessBlocker[];
  /** every sender group, largest first (readiness() builds it when first read: see sourceList) */
  sources: ReadinessSource[];
  policy: ReportedPolicy | null;
  /** how long the reports have shown the current policy (p and t=) */
  policyAge: { since: string; days: number; /** the window starts there: it may be older */ atLeast: boolean } | null;
  /** when the verdict is ready-quarantine: why not reject */
  whyNotReject: Hint | null;
  figures: {
    daysWithReports: number;
    messages: number;
    spoofingMessages: number;
    forwardedMessages: number;
    /** messages of mailing-list sources plus messages receivers marked mailing_list */
    mailingListMessages: number;
    /** messages of legitimate sources that pass through SPF alone */
    spfOnlyMessages: number;
    /** messages counted in the pass rate (neither spoofing, forwarded nor mailing list) */
    consideredMessages: number;
    consideredPass: number;
    passRate: number;
  };
  nextStep: Hint;
}

export interface DomainSummary {
  domain: string;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  passRate: number;
  spfAlignedRate: number;
  dkimAlignedRate: number;
  reports: number;
  reporters: number;
  daysWithReports: number;
  sources: number;
  dispositions: Record<string, number>;
}

/** `summary` command: totals per policy domain. */
export interface Summary {
  window: DayWindow;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  passRate: number;
  domains: DomainSummary[];
}

/** `sources` command: the top sender groups over every domain. */
export interface SourcesInsight {
  window: DayWindow;
  messages: number;
  /** number of sender groups before the limit */
  total: number;
  /** distinct source IPs over every group (what `summary` counts as sources) */
  ips: number;
  /** sorted by what needs action first (class), then by messages */
  sources: Array<ReadinessSource & { domains: string[] }>;
}

/** How many items a list has before it is cut, and their messages ("and N more (M messages)"). */
export interface ListTotal {
  count: number;
  messages: number;
}

export interface DigestSource {
  ip: string;
  class: SourceClass | null;
  sender: string | null;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  hint: Hint | null;
}

export interface DigestDomain {
  domain: string;
  /** aggregate reports received in the digest period for this domain */
  reports: number;
  messages: number;
  dmarcPass: number;
  dmarcFail: number;
  passRate: number | null;
  /** the pass rate of the 7 days before (reports not in this digest), null without data */
  previousPassRate: number | null;
  /** passRate - previousPassRate (0..1 scale), null when either is unknown */
  passRateChange: number | null;
  spfAlignedRate: number | null;
  dkimAlignedRate: number | null;
  dispositions: Record<string, number>;
  reporters: CountRow[];
  newSources: DigestSource[];
  newSourcesTotal: ListTotal;
  failingSources: DigestSource[];
  failingSourcesTotal: ListTotal;
  failureReports: number;
  tls: { reports: number; successful: number; failed: number; failureTypes: CountRow[] };
  readiness: { verdict: ReadinessVerdict; nextStep: Hint; blockers: number; window: DayWindow } | null;
  /** spoofing sources over the readiness window: what enforcement would stop */
  spoofing: { sources: number; messages: number } | null;
}

/** The digest: everything received in [since, until). */
export interface DigestData {
  since: string;
  until: string;
  received: { aggregate: number; failure: number; tls: number };
  domains: DigestDomain[];
}
