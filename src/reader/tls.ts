// SMTP TLS reports (RFC 8460 section 4), JSON.

import type { TlsFailureDetail, TlsPolicyResult, TlsReport } from '../model.ts';
import { ReportReadError } from './errors.ts';

type Json = Record<string, unknown>;

export function parseJsonReport(text: string, source: string): TlsReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ReportReadError(
      'bad-json',
      source,
      `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  if (!isObject(data) || !Array.isArray(data.policies) || !isObject(data['date-range'])) {
    throw new ReportReadError(
      'not-a-report',
      source,
      'JSON is not an SMTP TLS report (no "policies" and "date-range")',
    );
  }
  return toTlsReport(data, source);
}

function toTlsReport(data: Json, source: string): TlsReport {
  const range = data['date-range'] as Json;
  return {
    kind: 'tls',
    orgName: str(data['organization-name']) ?? 'unknown',
    reportId: required(str(data['report-id']), 'report-id', source),
    begin: dateTime(range['start-datetime'], 'start-datetime', source),
    end: dateTime(range['end-datetime'], 'end-datetime', source),
    contactInfo: str(data['contact-info']),
    policies: (data.policies as unknown[]).filter(isObject).map(toPolicy),
  };
}

function toPolicy(entry: Json): TlsPolicyResult {
  const policy = isObject(entry.policy) ? entry.policy : {};
  const summary = isObject(entry.summary) ? entry.summary : {};
  const mx = policy['mx-host'];
  return {
    domain: (str(policy['policy-domain']) ?? '').toLowerCase(),
    type: (str(policy['policy-type']) ?? 'no-policy-found').toLowerCase(),
    strings: Array.isArray(policy['policy-string']) ? policy['policy-string'].map(String) : [],
    // RFC 8460 shows a string; many senders send a list
    mxHosts: Array.isArray(mx) ? mx.map(String) : typeof mx === 'string' ? [mx] : [],
    successful: count(summary['total-successful-session-count']),
    failed: count(summary['total-failure-session-count']),
    failures: Array.isArray(entry['failure-details']) ? entry['failure-details'].filter(isObject).map(toFailure) : [],
  };
}

function toFailure(detail: Json): TlsFailureDetail {
  return {
    resultType: (str(detail['result-type']) ?? 'unknown').toLowerCase(),
    count: count(detail['failed-session-count']),
    sendingMtaIp: str(detail['sending-mta-ip']),
    receivingMxHostname: str(detail['receiving-mx-hostname']),
    receivingIp: str(detail['receiving-ip']),
    reasonCode: str(detail['failure-reason-code']),
    info: str(detail['additional-information']),
  };
}

/** RFC 3339 date-time; some senders omit the zone, which RFC 8460 means as UTC. */
function dateTime(value: unknown, field: string, source: string): string {
  const raw = str(value);
  const zoned = raw && !/(?:z|[+-]\d\d:?\d\d)$/i.test(raw) ? `${raw}Z` : raw;
  const time = zoned ? Date.parse(zoned) : NaN;
  if (Number.isNaN(time))
    throw new ReportReadError(
      'not-a-report',
      source,
      `TLS report has no readable "${field}" (${JSON.stringify(value)})`,
    );
  return new Date(time).toISOString();
}

function required(value: string | null, field: string, source: string): string {
  if (value === null) throw new ReportReadError('not-a-report', source, `TLS report has no "${field}"`);
  return value;
}

function str(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() || null;
  if (typeof value === 'number') return String(value);
  return null;
}

function count(value: unknown): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  return Number.isFinite(number) && number >= 0 ? Math.floor(number) : 0;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
