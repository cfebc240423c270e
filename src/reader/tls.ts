// SMTP TLS reports (RFC 8460 section 4), JSON.

import type { TlsFailureDetail, TlsPolicyResult, TlsReport } from '../model.ts';
import { normalizeIp } from '../net/ip.ts';
import { ReportReadError } from './errors.ts';
import {
  MAX_DOMAIN_LENGTH,
  MAX_FREE_TEXT_LENGTH,
  MAX_NAME_LENGTH,
  cleanText,
  describeWindow,
  instantProblem,
  safeInteger,
} from './text.ts';

type Json = Record<string, unknown>;

export function parseJsonReport(text: string, source: string, options: { now?: Date } = {}): TlsReport {
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
  return toTlsReport(data, source, options.now ?? new Date());
}

function toTlsReport(data: Json, source: string, now: Date): TlsReport {
  const range = data['date-range'] as Json;
  const count = (value: unknown, field: string) => sessionCount(value, field, source);
  return {
    kind: 'tls',
    orgName: identifier(str(data['organization-name']), 'organization-name', MAX_NAME_LENGTH, source) ?? 'unknown',
    reportId: required(identifier(str(data['report-id']), 'report-id', MAX_NAME_LENGTH, source), 'report-id', source),
    begin: dateTime(range['start-datetime'], 'start-datetime', source, now),
    end: dateTime(range['end-datetime'], 'end-datetime', source, now),
    contactInfo: capped(str(data['contact-info'])),
    policies: (data.policies as unknown[]).filter(isObject).map((entry) => toPolicy(entry, count)),
  };
}

type Count = (value: unknown, field: string) => number;

function toPolicy(entry: Json, count: Count): TlsPolicyResult {
  const policy = isObject(entry.policy) ? entry.policy : {};
  const summary = isObject(entry.summary) ? entry.summary : {};
  const mx = policy['mx-host'];
  return {
    domain: domainText(str(policy['policy-domain'])),
    type: (capped(str(policy['policy-type'])) ?? 'no-policy-found').toLowerCase(),
    strings: Array.isArray(policy['policy-string'])
      ? policy['policy-string'].slice(0, 100).map((value) => capped(cleanText(String(value))) ?? '')
      : [],
    // RFC 8460 shows a string; many senders send a list
    mxHosts: (Array.isArray(mx) ? mx.slice(0, 100).map(String) : typeof mx === 'string' ? [mx] : []).map(domainText),
    successful: count(summary['total-successful-session-count'], 'total-successful-session-count'),
    failed: count(summary['total-failure-session-count'], 'total-failure-session-count'),
    failures: Array.isArray(entry['failure-details'])
      ? entry['failure-details'].filter(isObject).map((detail) => toFailure(detail, count))
      : [],
  };
}

function toFailure(detail: Json, count: Count): TlsFailureDetail {
  const ip = (value: unknown) => {
    const text = str(value);
    return text === null ? null : normalizeIp(text);
  };
  return {
    resultType: (capped(str(detail['result-type'])) ?? 'unknown').toLowerCase(),
    count: count(detail['failed-session-count'], 'failed-session-count'),
    sendingMtaIp: ip(detail['sending-mta-ip']),
    receivingMxHostname: domainText(str(detail['receiving-mx-hostname'])) || null,
    receivingIp: ip(detail['receiving-ip']),
    reasonCode: capped(str(detail['failure-reason-code'])),
    info: capped(str(detail['additional-information'])),
  };
}

/** A session count: a safe whole number (an integral fraction like 12.0 accepted); else refused. */
function sessionCount(value: unknown, field: string, source: string): number {
  if (value === undefined || value === null) return 0;
  const number =
    typeof value === 'number'
      ? Number.isSafeInteger(value) && value >= 0
        ? value
        : null
      : typeof value === 'string'
        ? safeInteger(value)
        : null;
  if (number === null)
    throw new ReportReadError(
      'bad-count',
      source,
      `TLS report's "${field}" ${JSON.stringify(value).slice(0, 40)} is not a whole number up to 2^53`,
    );
  return number;
}

function identifier(value: string | null, field: string, max: number, source: string): string | null {
  if (value !== null && value.length > max)
    throw new ReportReadError(
      'field-too-long',
      source,
      `TLS report's "${field}" is ${value.length} characters long, more than the limit of ${max}`,
    );
  return value;
}

function capped(value: string | null): string | null {
  return value === null ? null : value.slice(0, MAX_FREE_TEXT_LENGTH);
}

function domainText(value: string | null): string {
  const domain = (value ?? '').toLowerCase();
  return domain.length <= MAX_DOMAIN_LENGTH ? domain : '';
}

/** RFC 3339 date-time; some senders omit the zone, which RFC 8460 means as UTC. */
function dateTime(value: unknown, field: string, source: string, now: Date): string {
  const raw = str(value);
  const zoned = raw && !/(?:z|[+-]\d\d:?\d\d)$/i.test(raw) ? `${raw}Z` : raw;
  const time = zoned ? Date.parse(zoned) : NaN;
  if (Number.isNaN(time))
    throw new ReportReadError(
      'not-a-report',
      source,
      `TLS report has no readable "${field}" (${JSON.stringify(value)?.slice(0, 60)})`,
    );
  if (instantProblem(time, now))
    throw new ReportReadError(
      'bad-date',
      source,
      `TLS report's "${field}" ${raw} is outside the window reports can come from (${describeWindow(now)})`,
    );
  return new Date(time).toISOString();
}

function required(value: string | null, field: string, source: string): string {
  if (value === null) throw new ReportReadError('not-a-report', source, `TLS report has no "${field}"`);
  return value;
}

function str(value: unknown): string | null {
  if (typeof value === 'string') return cleanText(value).trim() || null;
  if (typeof value === 'number') return String(value);
  return null;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
