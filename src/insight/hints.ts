// Fix hints as data ({ code, params }). The presentation layer words them through its message
// catalog; HINT_CODES lists every code, its parameters and the English sentence it stands for.

import { getDomain } from '../net/org-domain.ts';
import type { SourceStat } from '../store/types.ts';
import type { Hint } from './types.ts';
import { authKeyParts, rate, topKey } from './stats.ts';
import { dict, own } from '../store/dict.ts';

export const HINT_CODES = [
  // --- failure patterns of one source (explainFailures) ---
  // "SPF passes for {spfDomain} but is not aligned with {domain}: set a custom return path, or sign with DKIM d={domain}"
  { code: 'spf-unaligned', params: ['spfDomain', 'domain', 'failing'] },
  // "DKIM passes for {dkimDomain} only, not for {domain}: set up DKIM signing with d={domain} at the service"
  { code: 'dkim-unaligned', params: ['dkimDomain', 'domain', 'failing'] },
  // "No DKIM signature and SPF fails for {domain}: likely a relay; add {ip} to the SPF record or relay through your own server"
  { code: 'no-auth', params: ['domain', 'ip', 'failing'] },
  // "Forwarded mail: a relay broke the DKIM signature of {domain}; nothing to fix on your side (ARC helps receivers)"
  { code: 'forwarded', params: ['domain', 'failing'] },
  // "Mailing-list traffic: a list changed the message and broke the DKIM signature of {domain}; lists are why RFC 9989 advises against p=reject"
  { code: 'mailing-list', params: ['domain', 'failing'] },
  // "Not authorised for {domain} and not a regular sender: p=quarantine or p=reject will stop this mail. If it is yours after all: /dmarc mark {subject} mine"
  { code: 'spoofing', params: ['domain', 'subject', 'failing'] },
  // "Passes DMARC only through SPF ({spfOnly} messages without an aligned DKIM signature): forwarding breaks SPF, so set up DKIM signing with d={domain} before p=reject"
  { code: 'spf-only', params: ['domain', 'spfOnly'] },
  // "Passes DMARC for only {passPercent} % of its mail from {domain}: some of its servers or streams are not set up for SPF/DKIM alignment"
  { code: 'intermittent', params: ['domain', 'passPercent', 'failing'] },
  // "SPF and DKIM both fail for {domain}: the sender is not authorised (spoofing, or a sender you have not set up)"
  { code: 'auth-fail', params: ['domain', 'failing'] },

  // --- next steps of `ready` (readiness nextStep) ---
  // "Collect more data: {days} of {minDays} days with reports, {messages} of {minMessages} messages"
  { code: 'collect-more-data', params: ['domain', 'days', 'minDays', 'messages', 'minMessages'] },
  // "Fix {sender} first ({failing} failing messages): {fix}" — fix is the blocker's own hint code; blockers is their number
  { code: 'fix-blocker', params: ['domain', 'sender', 'failing', 'fix', 'blockers'] },
  // "Decide about {sender} ({messages} messages, never passes): /dmarc mark {sender} mine|spoof"
  { code: 'confirm-sender', params: ['domain', 'sender', 'messages', 'unconfirmed'] },
  // "Raise the pass rate of {domain} from {passPercent} % to {thresholdPercent} %: align the remaining senders"
  { code: 'raise-pass-rate', params: ['domain', 'passPercent', 'thresholdPercent'] },
  // {record} is the whole DMARC TXT record to publish at _dmarc.{domain} (rua=/ruf= kept as they are)
  // "Publish p=quarantine; t=y for {domain} (RFC 9989 testing mode: receivers report as if enforced but apply p=none): _dmarc.{domain} TXT "{record}""
  { code: 'publish-quarantine-testing', params: ['domain', 'record'] },
  // "Publish p=quarantine for {domain}: _dmarc.{domain} TXT "{record}""
  { code: 'publish-quarantine', params: ['domain', 'record'] },
  // "Publish p=reject; t=y for {domain} (testing mode: receivers apply p=quarantine): _dmarc.{domain} TXT "{record}""
  { code: 'publish-reject-testing', params: ['domain', 'record'] },
  // "Publish p=reject for {domain}: _dmarc.{domain} TXT "{record}""
  { code: 'publish-reject', params: ['domain', 'record'] },
  // "{domain} is enforced (p=reject); keep watching for new senders"
  { code: 'keep-monitoring', params: ['domain'] },
  // "Stay at p=quarantine: {days} of {minDays} days at it so far; RFC 9989 advises about a month at quarantine before p=reject"
  { code: 'wait-at-quarantine', params: ['domain', 'days', 'minDays'] },
  // "Stay at p=quarantine: {messages} messages come through mailing lists, and RFC 9989 says a domain with list mail SHOULD NOT publish p=reject"
  { code: 'hold-mailing-list', params: ['domain', 'messages'] },
  // "Not p=reject yet: {senders} legitimate senders pass only through SPF ({sender} first); reject needs DKIM signing with d={domain}"
  { code: 'needs-dkim', params: ['domain', 'sender', 'senders', 'spfOnly'] },
  // "Not p=reject yet: the pass rate {passPercent} % is below the {thresholdPercent} % reject needs"
  { code: 'reject-pass-rate', params: ['domain', 'passPercent', 'thresholdPercent'] },
  // "Not p=reject yet: one step at a time; publish p=quarantine first and watch it for a month"
  { code: 'quarantine-first', params: ['domain'] },
] as const;

export type HintCode = (typeof HINT_CODES)[number]['code'];

export function hint(code: HintCode, params: Record<string, string | number>): Hint {
  return { code, params };
}

/** Organisational domain (relaxed alignment); falls back to the name itself. */
export function orgDomain(name: string): string {
  let org = orgDomains.get(name);
  if (org === undefined) {
    const lower = name.toLowerCase().replace(/\.$/, '');
    org = getDomain(lower) ?? lower;
    // The same few domains repeat across thousands of sources: remember them (bounded).
    if (orgDomains.size >= 10_000) orgDomains.clear();
    orgDomains.set(name, org);
  }
  return org;
}
const orgDomains = new Map<string, string>();

const FORWARD_REASONS = ['forwarded', 'trusted_forwarder'];

/**
 * A failing source's figures, reduced over its count maps: what the failure pattern is decided on.
 * explainFailures reduces a SourceStat; the window queries reduce their merged rows (group-table.ts)
 * and share the decision (failureHint).
 */
export interface FailureFigures {
  /** messages - dmarcPass, above 0 */
  failing: number;
  /** the top header From, else the policy domain */
  domain: string;
  messages: number;
  dmarcPass: number;
  spfPass: number;
  ip: string;
  /** reasons forwarded + trusted_forwarder, and mailing_list */
  forwardReasons: number;
  listReasons: number;
  /** DKIM results of our own (organisational) domain that neither pass nor are none */
  ownDkimBroken: number;
  /** DKIM results other than none, with a domain */
  anyDkimSignature: number;
  /** the top passing unaligned DKIM / SPF domain and its larger count (or the unaligned-pass counter) */
  dkimDomain: string | null;
  dkimUnaligned: number;
  spfDomain: string | null;
  spfUnaligned: number;
}

/**
 * Explains why a source fails DMARC, from its merged figures. Null when nothing fails.
 * `forwarder`: the sender is a mailbox provider / list that relays mail of others.
 */
export function explainFailures(stat: SourceStat, context: { forwarder?: boolean; domain?: string } = {}): Hint | null {
  const failing = stat.messages - stat.dmarcPass;
  if (failing <= 0) return null;
  const domain = topKey(stat.headerFrom) ?? context.domain ?? '';
  const fromOrg = orgDomain(domain);

  let forwardReasons = 0;
  for (const reason of FORWARD_REASONS) forwardReasons += own(stat.reasons, reason) ?? 0;
  const listReasons = own(stat.reasons, 'mailing_list') ?? 0;

  // Per auth result: our own DKIM signatures that failed (a relay broke them), and passing but
  // unaligned SPF / DKIM domains (an ESP's return path or signature).
  let ownDkimBroken = 0;
  let anyDkimSignature = 0;
  const dkimOther = dict<number>();
  for (const key in stat.dkim) {
    const { domain: dkimDomain, result } = authKeyParts(key);
    const count = stat.dkim[key] ?? 0;
    if (result !== 'none' && dkimDomain) anyDkimSignature += count;
    const aligned = orgDomain(dkimDomain) === fromOrg;
    if (aligned && result !== 'pass' && result !== 'none') ownDkimBroken += count;
    if (!aligned && result === 'pass') dkimOther[dkimDomain] = (dkimOther[dkimDomain] ?? 0) + count;
  }
  const spfOther = dict<number>();
  for (const key in stat.spf) {
    const { domain: spfDomain, result } = authKeyParts(key);
    if (result === 'pass' && spfDomain && orgDomain(spfDomain) !== fromOrg)
      spfOther[spfDomain] = (spfOther[spfDomain] ?? 0) + (stat.spf[key] ?? 0);
  }
  const spfDomain = topKey(spfOther);
  const dkimDomain = topKey(dkimOther);
  return failureHint(
    {
      failing,
      domain,
      messages: stat.messages,
      dmarcPass: stat.dmarcPass,
      spfPass: stat.spfPass,
      ip: stat.ip,
      forwardReasons,
      listReasons,
      ownDkimBroken,
      anyDkimSignature,
      dkimDomain,
      dkimUnaligned: Math.max(stat.dkimUnalignedPass ?? 0, dkimDomain ? (dkimOther[dkimDomain] ?? 0) : 0),
      spfDomain,
      spfUnaligned: Math.max(stat.spfUnalignedPass ?? 0, spfDomain ? (spfOther[spfDomain] ?? 0) : 0),
    },
    context.forwarder === true,
  );
}

/** The reasons counted as forwarding (explainFailures' forwardReasons). */
export const FORWARDING_REASONS: readonly string[] = FORWARD_REASONS;

/** The failure pattern of reduced figures (the one decision behind explainFailures). */
export function failureHint(f: FailureFigures, forwarder: boolean): Hint {
  return failureHintOf(failureCode(f, forwarder), f);
}

export type FailureCode =
  'mailing-list' | 'forwarded' | 'dkim-unaligned' | 'spf-unaligned' | 'intermittent' | 'no-auth' | 'auth-fail';

/** Which failure pattern the figures show (failureHint without building the hint). */
export function failureCode(f: FailureFigures, forwarder: boolean): FailureCode {
  const half = f.failing / 2;
  // Our own signature present but failing means the message was changed on the way (a relay), or
  // a signing fault: it counts as forwarding when the source never passes or is a known relay.
  const brokenByRelay = f.ownDkimBroken >= half && (f.dmarcPass === 0 || forwarder);
  if (f.listReasons >= half) return 'mailing-list';
  // A list re-signs what it changed: our broken signature next to a passing one of another domain.
  if (brokenByRelay && f.dkimUnaligned >= half && f.forwardReasons < half) return 'mailing-list';
  if (f.forwardReasons >= half || brokenByRelay) return 'forwarded';
  // When both pass for the service's own domains, DKIM is the fix to ask for: it survives forwarding.
  if (f.dkimDomain && f.dkimUnaligned >= half) return 'dkim-unaligned';
  if (f.spfDomain && f.spfUnaligned >= half) return 'spf-unaligned';
  // A mailbox provider relaying with nothing of its own that passes: forwarding.
  if (forwarder && f.dmarcPass === 0) return 'forwarded';
  if (f.dmarcPass > 0) return 'intermittent';
  if (f.anyDkimSignature < half && f.spfPass === 0) return 'no-auth';
  return 'auth-fail';
}

/** The hint of a failure code with the parameters its sentence names. */
export function failureHintOf(code: FailureCode, f: FailureFigures): Hint {
  const { domain, failing } = f;
  switch (code) {
    case 'dkim-unaligned':
      return hint(code, { dkimDomain: f.dkimDomain ?? '', domain, failing });
    case 'spf-unaligned':
      return hint(code, { spfDomain: f.spfDomain ?? '', domain, failing });
    case 'intermittent':
      return hint(code, { domain, passPercent: Math.floor(rate(f.dmarcPass, f.messages) * 100), failing });
    case 'no-auth':
      return hint(code, { domain, ip: f.ip, failing });
    default:
      return hint(code, { domain, failing });
  }
}
