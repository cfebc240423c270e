// Small builders of model objects for store tests and the store benchmark. The reader and the
// report generator are written elsewhere; the store only needs well-formed model values.

import type { AggregateRecord, AggregateReport, FailureReport, TlsReport } from '../../src/model.ts';

export interface RecordOptions {
  dmarc?: 'pass' | 'fail';
  spf?: string;
  dkim?: string;
  disposition?: string;
  headerFrom?: string;
  reasons?: string[];
}

export function record(sourceIp: string, count: number, options: RecordOptions = {}): AggregateRecord {
  const dmarc = options.dmarc ?? 'pass';
  const spf = options.spf ?? (dmarc === 'pass' ? 'pass' : 'fail');
  const dkim = options.dkim ?? (dmarc === 'pass' ? 'pass' : 'fail');
  const headerFrom = options.headerFrom ?? 'example.org';
  return {
    sourceIp,
    count,
    disposition: options.disposition ?? 'none',
    evaluated: { dkim, spf },
    dmarc,
    identifiers: { headerFrom, envelopeFrom: headerFrom, envelopeTo: null },
    reasons: (options.reasons ?? []).map((type) => ({ type, comment: null })),
    authResults: {
      dkim: [{ domain: headerFrom, selector: 's1', result: dkim }],
      spf: [{ domain: headerFrom, scope: 'mfrom', result: spf }],
    },
    alignment: { dkim: dkim === 'pass', spf: spf === 'pass' },
  };
}

export interface AggregateOptions {
  org?: string;
  reportId?: string;
  domain?: string;
  begin: string;
  end: string;
  records: AggregateRecord[];
}

export function aggregate(options: AggregateOptions): AggregateReport {
  const domain = options.domain ?? 'example.org';
  return {
    kind: 'aggregate',
    version: '1.0',
    orgName: options.org ?? 'google.com',
    orgEmail: 'noreply-dmarc-support@google.com',
    reportId: options.reportId ?? `${options.begin}-${domain}`,
    begin: options.begin,
    end: options.end,
    policy: { domain, p: 'none', sp: null, np: null, pct: 100, adkim: 'r', aspf: 'r', fo: null, testing: null },
    records: options.records,
    errors: [],
  };
}

export function failure(options: {
  sourceIp?: string;
  arrivalDate?: string | null;
  domain?: string | null;
  messageId?: string | null;
  subject?: string | null;
}): FailureReport {
  return {
    kind: 'failure',
    feedbackType: 'auth-failure',
    userAgent: 'test/1.0',
    reportedDomain: options.domain === undefined ? 'example.org' : options.domain,
    sourceIp: options.sourceIp ?? '192.0.2.9',
    arrivalDate: options.arrivalDate === undefined ? '2024-03-10T08:00:00.000Z' : options.arrivalDate,
    authFailure: ['dmarc'],
    deliveryResult: 'reject',
    originalMailFrom: 'spoof@example.org',
    originalRcptTo: 'victim@example.net',
    headerFrom: 'example.org',
    subject: options.subject === undefined ? 'Invoice' : options.subject,
    messageId: options.messageId === undefined ? '<abc@spoof.example>' : options.messageId,
  };
}

export function tls(options: {
  org?: string;
  reportId?: string;
  begin: string;
  end: string;
  domains?: string[];
  successful?: number;
  failed?: number;
}): TlsReport {
  return {
    kind: 'tls',
    orgName: options.org ?? 'Google Inc.',
    reportId: options.reportId ?? `tls-${options.begin}`,
    begin: options.begin,
    end: options.end,
    contactInfo: 'smtp-tls-reporting@google.com',
    policies: (options.domains ?? ['example.org']).map((domain) => ({
      domain,
      type: 'sts',
      strings: ['version: STSv1', 'mode: enforce'],
      mxHosts: [`mx.${domain}`],
      successful: options.successful ?? 10,
      failed: options.failed ?? 0,
      failures: [],
    })),
  };
}

/** A deterministic pseudo-random sequence, so every run and backend sees the same reports. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Reports like a small operator's mailbox: a few senders and domains, a pool of source IPs, daily ranges. */
export function generateReports(count: number, seed = 42): AggregateReport[] {
  const next = random(seed);
  const orgs = ['google.com', 'Yahoo', 'Microsoft Corporation', 'Mail.Ru', 'web.de', 'comcast.net'];
  const domains = ['example.org', 'example.net', 'example.com'];
  const ips = Array.from({ length: 3000 }, (_, index) =>
    index % 5 === 0
      ? `2001:db8::${index.toString(16)}`
      : `198.${18 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`,
  );
  const reports: AggregateReport[] = [];
  for (let index = 0; index < count; index++) {
    // In mailbox order: report days advance over 60 days, with a day or two of jitter between senders.
    const day = new Date(
      Date.UTC(2024, 0, 1) + (Math.floor((index * 60) / count) + Math.floor(next() * 3)) * 86_400_000,
    );
    const begin = day.toISOString();
    // One report in ten covers a week (split over its days), the rest one day.
    const end = new Date(day.getTime() + (next() < 0.1 ? 7 * 86_400_000 : 86_399_000)).toISOString();
    // Mostly small reports, some big ones: 1 to 500 records.
    const size = Math.max(1, Math.min(500, Math.floor(next() ** 3 * 500)));
    const records = Array.from({ length: size }, () => {
      const pass = next() < 0.85;
      return record(ips[Math.floor(next() * ips.length)]!, 1 + Math.floor(next() * 20), {
        dmarc: pass ? 'pass' : 'fail',
      });
    });
    reports.push(
      aggregate({
        org: orgs[index % orgs.length]!,
        reportId: `bench-${index}`,
        domain: domains[index % domains.length]!,
        begin,
        end,
        records,
      }),
    );
  }
  return reports;
}
