// Contracts of the insight layer: pure functions over store documents produce these data models;
// the presentation layer (commands, digest) turns them into replies. Shapes named in the issues
// (`ask --json`) are fixed; more fields may be added.

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
export type Identify = (ip: string, hints?: IdentifyHints, options?: { dns?: boolean }) => Promise<SenderIdentity>;

export type ReadinessVerdict = 'insufficient-data' | 'not-ready' | 'ready-quarantine' | 'ready-reject' | 'enforced';

export type SourceClass = 'aligned' | 'misaligned' | 'forwarded' | 'unconfirmed' | 'spoofing';

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
