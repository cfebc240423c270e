// Builds AggregateRecords whose derived fields (alignment, evaluated verdicts, dmarc, disposition)
// follow from their auth results by the same rule the reader applies, so generated data is consistent.
import { getDomain } from 'tldts';
import type {
  AggregateRecord,
  Alignment,
  DkimAuthResult,
  PolicyOverrideReason,
  PolicyPublished,
  SpfAuthResult,
} from '../model.ts';

/** Organizational domain via the public suffix list; falls back to the name itself. */
export function organizationalDomain(domain: string): string {
  const lower = domain.toLowerCase().replace(/\.$/, '');
  return getDomain(lower, { allowPrivateDomains: false }) ?? lower;
}

/** Aligned under mode "s" when equal, under "r" (the default) when the organizational domains match. */
export function isAligned(identifier: string, headerFrom: string, mode: string | null): boolean {
  const a = identifier.toLowerCase();
  const b = headerFrom.toLowerCase();
  if (a === '' || b === '') return false;
  if (mode === 's') return a === b;
  return organizationalDomain(a) === organizationalDomain(b);
}

export function computeAlignment(
  headerFrom: string,
  dkim: readonly DkimAuthResult[],
  spf: readonly SpfAuthResult[],
  policy: Pick<PolicyPublished, 'adkim' | 'aspf'>,
): Alignment {
  const dkimPass = dkim.filter((d) => d.result === 'pass');
  // SPF alignment is judged on the MAIL FROM identity only; a HELO pass does not align.
  const spfPass = spf.filter((s) => s.result === 'pass' && s.scope !== 'helo');
  const dkimAligned = dkimPass.filter((d) => isAligned(d.domain, headerFrom, policy.adkim));
  const spfAligned = spfPass.filter((s) => isAligned(s.domain, headerFrom, policy.aspf));
  const alignment: Alignment = { dkim: dkimAligned.length > 0, spf: spfAligned.length > 0 };
  const dkimUnaligned = dkimPass.filter((d) => !dkimAligned.includes(d)).map((d) => d.domain);
  const spfUnaligned = spfPass.filter((s) => !spfAligned.includes(s)).map((s) => s.domain);
  if (dkimUnaligned.length > 0) alignment.dkimUnalignedPass = dkimUnaligned;
  if (spfUnaligned.length > 0) alignment.spfUnalignedPass = spfUnaligned;
  return alignment;
}

export interface RecordSpec {
  sourceIp: string;
  count: number;
  headerFrom: string;
  envelopeFrom: string | null;
  envelopeTo?: string | null;
  dkim: DkimAuthResult[];
  spf: SpfAuthResult[];
  reasons?: PolicyOverrideReason[];
}

/**
 * A record as a reporter would evaluate it: DKIM/SPF "pass" in policy_evaluated exactly when an
 * aligned identifier passed; a failing message gets the published policy unless an override reason
 * applies (then "none", as reporters do for forwarded or locally trusted mail).
 */
export function buildRecord(spec: RecordSpec, policy: PolicyPublished): AggregateRecord {
  const alignment = computeAlignment(spec.headerFrom, spec.dkim, spec.spf, policy);
  const evaluated = { dkim: alignment.dkim ? 'pass' : 'fail', spf: alignment.spf ? 'pass' : 'fail' };
  const dmarc = alignment.dkim || alignment.spf ? 'pass' : 'fail';
  const reasons = spec.reasons ?? [];
  const disposition = dmarc === 'pass' || reasons.length > 0 ? 'none' : (policy.p ?? 'none');
  return {
    sourceIp: spec.sourceIp,
    count: spec.count,
    disposition,
    evaluated,
    dmarc,
    identifiers: {
      headerFrom: spec.headerFrom,
      envelopeFrom: spec.envelopeFrom,
      envelopeTo: spec.envelopeTo ?? null,
    },
    reasons,
    authResults: { dkim: spec.dkim, spf: spec.spf },
    alignment,
  };
}

export function policyPublished(domain: string, overrides: Partial<PolicyPublished> = {}): PolicyPublished {
  return {
    domain,
    p: 'none',
    sp: null,
    np: null,
    pct: 100,
    adkim: 'r',
    aspf: 'r',
    fo: null,
    testing: null,
    ...overrides,
  };
}
