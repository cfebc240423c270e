// Random but realistic aggregate reports, reproducible from a seed.
import type { AggregateRecord, AggregateReport, PolicyPublished } from '../model.ts';
import { createRng, type Rng } from './prng.ts';
import { buildRecord, policyPublished, type RecordSpec } from './records.ts';
import { ALL_REPORTERS, docIp, type Reporter } from './reporters.ts';

export interface RandomReportOptions {
  seed: number | string;
  records: number;
  /** policy domain (default example.com) */
  domain?: string;
  /** reporter org name; one of the known reporters is picked when absent */
  org?: string;
  /** ISO start of the range (default 2026-01-01T00:00:00Z) */
  begin?: string;
  /** length of the range in days (default 1) */
  days?: number;
  /** share of records carrying a policy override reason (default 0.03) */
  overrideShare?: number;
}

const DAY = 86_400;

/** Message count per record: most rows are one or a few messages, a few are bulk. */
export function skewedCount(rng: Rng): number {
  const bucket = rng.weighted([
    [[1, 1], 45],
    [[2, 10], 30],
    [[11, 200], 20],
    [[201, 5000], 5],
  ] as const);
  return rng.int(bucket[0], bucket[1]);
}

type SourceKind = 'own' | 'ownSub' | 'espAligned' | 'espMisaligned' | 'forwarder' | 'spoofer';

function recordSpec(kind: SourceKind, domain: string, rng: Rng, overrideShare: number): RecordSpec {
  const sourceIp = docIp(rng);
  const count = skewedCount(rng);
  switch (kind) {
    case 'own':
      return {
        sourceIp,
        count,
        headerFrom: domain,
        envelopeFrom: domain,
        dkim: [{ domain, selector: rng.pick(['mail', 's1', '2026a']), result: 'pass' }],
        spf: [{ domain, scope: 'mfrom', result: rng.chance(0.95) ? 'pass' : 'softfail' }],
      };
    case 'ownSub': {
      // a subdomain sender signed by the parent: aligned only under relaxed adkim
      const sub = `${rng.pick(['news', 'billing', 'alerts'])}.${domain}`;
      return {
        sourceIp,
        count,
        headerFrom: sub,
        envelopeFrom: `bounce.${domain}`,
        dkim: [{ domain, selector: 'mail', result: 'pass' }],
        spf: [{ domain: `bounce.${domain}`, scope: 'mfrom', result: 'pass' }],
      };
    }
    case 'espAligned':
      return {
        sourceIp,
        count,
        headerFrom: domain,
        envelopeFrom: 'bounce.sendgrid.net',
        dkim: [
          { domain, selector: 's1', result: 'pass' },
          { domain: 'sendgrid.net', selector: 'smtpapi', result: 'pass' },
        ],
        spf: [{ domain: 'bounce.sendgrid.net', scope: 'mfrom', result: 'pass' }],
      };
    case 'espMisaligned':
      return {
        sourceIp,
        count,
        headerFrom: domain,
        envelopeFrom: 'mail123.suw91.mcsv.net',
        dkim: [{ domain: 'mcsv.net', selector: 'k1', result: 'pass' }],
        spf: [{ domain: 'mail123.suw91.mcsv.net', scope: 'mfrom', result: 'pass' }],
      };
    case 'forwarder': {
      const forwarded = rng.chance(overrideShare * 10);
      return {
        sourceIp,
        count,
        headerFrom: domain,
        envelopeFrom: domain,
        dkim: [{ domain, selector: 'mail', result: rng.chance(0.6) ? 'fail' : 'pass' }],
        spf: [{ domain, scope: 'mfrom', result: 'fail' }],
        reasons: forwarded ? [{ type: 'forwarded', comment: null }] : [],
      };
    }
    case 'spoofer':
      return {
        sourceIp,
        count,
        headerFrom: domain,
        envelopeFrom: rng.chance(0.3) ? null : domain,
        dkim: rng.chance(0.7)
          ? []
          : [{ domain, selector: 'default', result: 'fail', humanResult: 'signature did not verify' }],
        spf: [{ domain, scope: 'mfrom', result: rng.pick(['fail', 'softfail', 'none']) }],
        reasons: rng.chance(overrideShare) ? [{ type: 'local_policy', comment: 'arc=pass as=2' }] : [],
      };
  }
}

function reporterFor(org: string | undefined, rng: Rng): Reporter {
  if (org === undefined) return rng.pick(ALL_REPORTERS);
  return (
    ALL_REPORTERS.find((r) => r.orgName === org) ?? {
      orgName: org,
      email: `dmarc@${org.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}`,
      receiver: org.toLowerCase(),
      reportId: (r: Rng) => r.hex(16),
      container: 'xml',
    }
  );
}

export function isoFromEpoch(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

export function randomAggregateReport(options: RandomReportOptions): AggregateReport {
  const rng = createRng(options.seed);
  const domain = options.domain ?? 'example.com';
  const days = options.days ?? 1;
  const beginEpoch = Math.floor(Date.parse(options.begin ?? '2026-01-01T00:00:00Z') / 1000);
  const reporter = reporterFor(options.org, rng.fork('reporter'));
  const overrideShare = options.overrideShare ?? 0.03;
  const policy: PolicyPublished = policyPublished(domain, {
    p: rng.pick(['none', 'quarantine', 'reject']),
    adkim: rng.chance(0.85) ? 'r' : 's',
    aspf: rng.chance(0.85) ? 'r' : 's',
  });
  const kinds: ReadonlyArray<readonly [SourceKind, number]> = [
    ['own', 40],
    ['ownSub', 8],
    ['espAligned', 15],
    ['espMisaligned', 10],
    ['forwarder', 12],
    ['spoofer', 15],
  ];
  const recordRng = rng.fork('records');
  const records: AggregateRecord[] = new Array(options.records);
  for (let i = 0; i < options.records; i++) {
    records[i] = buildRecord(recordSpec(recordRng.weighted(kinds), domain, recordRng, overrideShare), policy);
  }
  return {
    kind: 'aggregate',
    version: '1.0',
    orgName: reporter.orgName,
    orgEmail: reporter.email,
    reportId: reporter.reportId(rng.fork('id'), beginEpoch),
    begin: isoFromEpoch(beginEpoch),
    end: isoFromEpoch(beginEpoch + days * DAY - 1),
    policy,
    records,
    errors: [],
  };
}
