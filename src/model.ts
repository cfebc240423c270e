// The project's data model: what the reader produces and everything downstream consumes.
// Plain JSON only (no Date, Map, Set, BigInt): reports are stored as they are in keyv.

/** Lower-case result words as reporters write them: pass, fail, none, neutral, softfail, temperror, ... */
export type AuthResult = string;

export interface PolicyPublished {
  domain: string;
  /** none | quarantine | reject */
  p: string | null;
  sp: string | null;
  /** RFC 9990: policy for non-existent subdomains */
  np: string | null;
  /** RFC 7489 only; RFC 9990 removed it */
  pct: number | null;
  /** r | s */
  adkim: string | null;
  aspf: string | null;
  fo: string | null;
  /** RFC 9990 `testing` (t=y): "y" | "n" */
  testing: string | null;
  /** RFC 9990: psl | treewalk */
  discoveryMethod?: string | null;
}

export interface PolicyOverrideReason {
  /** forwarded | sampled_out | trusted_forwarder | mailing_list | local_policy | other | policy_test_mode */
  type: string;
  comment: string | null;
}

export interface DkimAuthResult {
  domain: string;
  selector: string | null;
  result: AuthResult;
  humanResult?: string | null;
}

export interface SpfAuthResult {
  domain: string;
  /** mfrom | helo (null when the reporter omitted it) */
  scope: string | null;
  result: AuthResult;
}

/** Alignment of one authenticated identifier with the header From domain, computed by us. */
export interface Alignment {
  /** true when some DKIM signature passed with a domain aligned to header_from under adkim */
  dkim: boolean;
  /** true when SPF passed for a domain aligned to header_from under aspf */
  spf: boolean;
  /** the passing but unaligned domains, kept to explain failures ("SPF passes for x but ...") */
  dkimUnalignedPass?: string[];
  spfUnalignedPass?: string[];
}

export interface AggregateRecord {
  sourceIp: string;
  count: number;
  /** none | quarantine | reject | pass (RFC 9990) */
  disposition: string;
  /** the reporter's own policy evaluation */
  evaluated: { dkim: AuthResult; spf: AuthResult };
  /** "pass" when the reporter evaluated DKIM or SPF as pass, else "fail" */
  dmarc: 'pass' | 'fail';
  identifiers: { headerFrom: string; envelopeFrom: string | null; envelopeTo: string | null };
  reasons: PolicyOverrideReason[];
  authResults: { dkim: DkimAuthResult[]; spf: SpfAuthResult[] };
  alignment: Alignment;
}

export interface AggregateReport {
  kind: 'aggregate';
  /** 1.0 | 2.0 | null (draft or absent) */
  version?: string | null;
  orgName: string;
  orgEmail: string | null;
  extraContactInfo?: string | null;
  reportId: string;
  /** ISO 8601 UTC */
  begin: string;
  end: string;
  /** RFC 9990 generator, when given */
  generator?: string | null;
  policy: PolicyPublished;
  records: AggregateRecord[];
  /** reporter-declared errors and what the reader repaired or skipped */
  errors: string[];
}

export interface FailureReport {
  kind: 'failure';
  /** auth-failure, abuse, ... (the ARF Feedback-Type) */
  feedbackType?: string | null;
  userAgent?: string | null;
  reportedDomain: string | null;
  sourceIp: string | null;
  /** ISO 8601 UTC */
  arrivalDate: string | null;
  /** dkim | spf | dmarc ... */
  authFailure: string[];
  deliveryResult: string | null;
  originalMailFrom: string | null;
  originalRcptTo: string | null;
  headerFrom: string | null;
  subject: string | null;
  messageId: string | null;
  identityAlignment?: string | null;
  dkimDomain?: string | null;
  reporter?: string | null;
}

export interface TlsFailureDetail {
  resultType: string;
  count: number;
  sendingMtaIp: string | null;
  receivingMxHostname: string | null;
  receivingIp: string | null;
  reasonCode: string | null;
  info: string | null;
}

export interface TlsPolicyResult {
  domain: string;
  /** tlsa | sts | no-policy-found */
  type: string;
  strings: string[];
  mxHosts: string[];
  successful: number;
  failed: number;
  failures: TlsFailureDetail[];
}

export interface TlsReport {
  kind: 'tls';
  orgName: string;
  reportId: string;
  begin: string;
  end: string;
  contactInfo: string | null;
  policies: TlsPolicyResult[];
}

export type Report = AggregateReport | FailureReport | TlsReport;
export type ReportKind = Report['kind'];
