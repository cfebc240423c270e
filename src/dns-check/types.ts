// Contracts of the published-record checks: what was fetched from DNS (plain data), and the checks
// worked out from it. `ask --json "dns DOMAIN"` prints a DnsReport.

export type DnsCheckId =
  | 'dmarc-record'
  | 'dmarc-testing'
  | 'rua'
  | 'spf-record'
  | 'spf-lookups'
  | 'spf-senders'
  | 'dkim-selectors'
  | 'mx'
  | 'mta-sts'
  | 'tls-rpt';

export type DnsSeverity = 'error' | 'warning' | 'info';

export interface DnsCheck {
  id: DnsCheckId;
  ok: boolean;
  severity: DnsSeverity;
  /** what was found, in plain words */
  detail: string;
  /** what to do, with the record text to publish where there is one; null when nothing to do */
  fix: string | null;
  /** false when DNS did not answer and the check could not be made (then ok is false, severity info) */
  checked: boolean;
}

/** The outcome of one DNS question: the answer, "does not exist", or "could not ask". */
export type Lookup<T> = { status: 'found'; value: T } | { status: 'none' } | { status: 'error'; error: string };

/** The TXT records at one name that start with a version tag (v=DMARC1, v=spf1, ...). */
export interface TxtAt {
  name: string;
  records: Lookup<string[]>;
}

/** One SPF record and what its DNS-querying terms led to, fetched recursively. */
export interface SpfNode {
  domain: string;
  /** the v=spf1 records at the domain (more than one is a permerror) */
  records: Lookup<string[]>;
  /** DNS-querying terms of the record, in order, with what their lookup found */
  terms: SpfTerm[];
}

export interface SpfTerm {
  /** include | redirect | a | mx | ptr | exists */
  kind: string;
  target: string;
  /** true when the lookup found nothing (a void lookup); null when not looked up (macros, ptr) */
  void: boolean | null;
  /** nested record of an include or redirect */
  child: SpfNode | null;
}

/** What mailauth's SPF evaluation said for one source IP. */
export interface SpfSenderResult {
  sender: string;
  ip: string;
  result: string;
}

export interface DkimSelectorRecord {
  selector: string;
  /** the domain the selector signs for (d=) */
  domain: string;
  records: Lookup<string[]>;
}

export interface MtaStsFile {
  url: string;
  /** the policy text, or why it could not be fetched */
  body: string | null;
  error: string | null;
}

/** Everything fetched for one domain. */
export interface DnsRecords {
  domain: string;
  /** _dmarc at the domain, then each parent tried until a record was found */
  dmarc: TxtAt[];
  /** <domain>._report._dmarc.<host> for each external rua host */
  ruaAuthorisations: TxtAt[];
  spf: SpfNode;
  spfSenders: SpfSenderResult[] | { error: string };
  dkim: DkimSelectorRecord[];
  mx: Lookup<Array<{ exchange: string; priority: number }>>;
  mtaSts: TxtAt;
  mtaStsFile: MtaStsFile | null;
  tlsRpt: TxtAt;
}

export interface DnsReport {
  domain: string;
  checks: DnsCheck[];
  records: DnsRecords;
}

/** A source that `ready` counts as legitimate, with the IPs to evaluate SPF for. */
export interface LegitimateSender {
  sender: string;
  ips: string[];
}

/** Fetches a small text over HTTPS within a deadline (the MTA-STS policy file). */
export type TextFetcher = (url: string, options: { timeoutMs: number; maxBytes: number }) => Promise<string>;
