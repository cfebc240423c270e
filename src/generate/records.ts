// Builds AggregateRecords whose derived fields (alignment, evaluated verdicts, dmarc, disposition)
// follow from their auth results by the same rule the reader applies, so generated data is consistent.
import type {
  AggregateRecord,
  DkimAuthResult,
  PolicyOverrideReason,
  PolicyPublished,
  SpfAuthResult,
} from '../model.ts';
// The reader's own rule, so generated alignment is exactly what reading the XML back computes.
import { computeAlignment } from '../reader/alignment.ts';

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
  const alignment = computeAlignment({
    headerFrom: spec.headerFrom,
    envelopeFrom: spec.envelopeFrom,
    adkim: policy.adkim,
    aspf: policy.aspf,
    dkim: spec.dkim,
    spf: spec.spf,
  });
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
