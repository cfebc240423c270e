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
    authResults: { dkim: [{ domain: headerFrom, selector: 's1', result: dkim }], spf: [{ domain: headerFrom, scope: 'mfrom', result: spf }] },
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

export function failure(options: { sourceIp?: string; arrivalDate?: string | null; domain?: string | null; messageId?: string | null; subject?: string | null }): FailureReport {
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

export function tls(options: { org?: string; reportId?: string; begin: string; end: string; domains?: string[]; successful?: number; failed?: number }): TlsReport {
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
