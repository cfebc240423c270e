// DMARC failure reports: the ARF `message/feedback-report` part (RFC 6591, RFC 9991), and the
// plain-text form Exim/cPanel sends. Pure functions over text; the mail layer finds the parts.

import type { FailureReport } from '../model.ts';
import { normalizeIp } from '../net/ip.ts';
import { MAX_DOMAIN_LENGTH, MAX_FREE_TEXT_LENGTH, cleanText, instantProblem } from './text.ts';

/** What the reader takes from the reported (original) message's headers. */
export interface OriginalHeaders {
  from: string | null;
  subject: string | null;
  messageId: string | null;
}

/** Header-style `Name: value` fields with folded lines joined; names lower case, repeats kept. */
export function parseFields(text: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let name: string | null = null;
  let value = '';
  const flush = () => {
    if (name === null) return;
    const list = fields.get(name);
    if (list) list.push(value.trim());
    else fields.set(name, [value.trim()]);
  };
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && name !== null) {
      value += ' ' + line.trim();
      continue;
    }
    const match = /^([!-9;-~]+):(.*)$/.exec(line);
    flush();
    if (match) {
      name = match[1]!.toLowerCase();
      value = match[2]!;
    } else {
      name = null;
      if (line.trim() === '' && fields.size > 0) break; // end of the header block
    }
  }
  flush();
  return fields;
}

export function looksLikeFeedbackReport(text: string): boolean {
  return /^\s*feedback-type\s*:/i.test(text);
}

export function failureFromArf(
  feedback: string,
  original: OriginalHeaders | null,
  reporter: string | null,
  now: Date = new Date(),
): FailureReport {
  const fields = parseFields(feedback);
  const one = (name: string) => first(fields, name);
  return cleanFailure({
    kind: 'failure',
    feedbackType: one('feedback-type')?.toLowerCase() ?? null,
    userAgent: one('user-agent'),
    reportedDomain: one('reported-domain')?.toLowerCase() ?? null,
    sourceIp: sourceIp(one('source-ip')),
    arrivalDate: toIso(one('arrival-date') ?? one('received-date'), now),
    authFailure: (fields.get('auth-failure') ?? [])
      .flatMap((value) => value.toLowerCase().split(/[\s,]+/))
      .filter(Boolean),
    deliveryResult: one('delivery-result')?.toLowerCase() ?? null,
    originalMailFrom: address(one('original-mail-from')),
    originalRcptTo: address(one('original-rcpt-to')),
    headerFrom: original?.from ?? headerFromOfAuthResults(fields.get('authentication-results')),
    subject: original?.subject ?? null,
    messageId: original?.messageId ?? one('message-id'),
    identityAlignment: one('identity-alignment')?.toLowerCase() ?? null,
    dkimDomain: one('dkim-domain')?.toLowerCase() ?? null,
    reporter,
  });
}

/**
 * The address of a `Source-IP` field: the address alone, or followed by a comment or host name
 * (`192.0.2.1 (mail.example.com)`, `[192.0.2.1] mail.example.com`); null when it is no strict IP.
 */
export function sourceIp(value: string | null): string | null {
  if (!value) return null;
  const address = /^\s*\[?([0-9A-Fa-f:.]+)\]?(?:$|[\s(,;])/.exec(value)?.[1];
  return address ? normalizeIp(address) : null;
}

const domainFields = ['reportedDomain', 'dkimDomain', 'headerFrom', 'originalMailFrom', 'originalRcptTo'] as const;

/** Text fields without controls and escapes, cut to their caps; over-long domains become null. */
function cleanFailure(report: FailureReport): FailureReport {
  const clean = (value: string | null | undefined) => {
    if (value === null || value === undefined) return null;
    return cleanText(value).slice(0, MAX_FREE_TEXT_LENGTH) || null;
  };
  const out: FailureReport = {
    ...report,
    feedbackType: clean(report.feedbackType),
    userAgent: clean(report.userAgent),
    deliveryResult: clean(report.deliveryResult),
    subject: clean(report.subject),
    messageId: clean(report.messageId),
    identityAlignment: clean(report.identityAlignment),
    reporter: clean(report.reporter),
    authFailure: report.authFailure
      .map((value) => cleanText(value).slice(0, 32))
      .filter(Boolean)
      .slice(0, 16),
  };
  for (const name of domainFields) {
    const value = report[name];
    out[name] = value && value.length <= MAX_DOMAIN_LENGTH ? cleanText(value) || null : null;
  }
  return out;
}

/** Exim's text form: "Sender Domain: x", "Sender IP Address: y", then a copy of the headers. */
export function looksLikeEximFailure(text: string): boolean {
  return /^\s*Sender Domain:/m.test(text) && /^\s*Sender IP Address:/m.test(text);
}

const eximHeadersMarker = /^-+ This is a copy of the headers.*$/m;

/** The copied headers of the original message in an Exim text report, if any. */
export function eximHeaderCopy(text: string): string | null {
  const marker = eximHeadersMarker.exec(text);
  if (!marker) return null;
  return text.slice(marker.index + marker[0].length).replace(/^\s*\n/, '');
}

export function failureFromEximText(
  text: string,
  original: OriginalHeaders | null,
  reporter: string | null,
  now: Date = new Date(),
): FailureReport {
  const summary = eximHeadersMarker.exec(text);
  const fields = parseIndentedFields(summary ? text.slice(0, summary.index) : text);
  const failedAlignments = ['spf', 'dkim'].filter((kind) => fields.get(`${kind} alignment`)?.toLowerCase() === 'no');
  const dmarcResults =
    fields
      .get('dmarc results')
      ?.toLowerCase()
      .split(/\s*,\s*/) ?? [];
  const copied = eximHeaderCopy(text);
  return cleanFailure({
    kind: 'failure',
    feedbackType: 'auth-failure',
    userAgent: 'exim',
    reportedDomain: fields.get('sender domain')?.toLowerCase() ?? null,
    sourceIp: sourceIp(fields.get('sender ip address') ?? null),
    arrivalDate: toIso(fields.get('received date') ?? null, now),
    authFailure: ['dmarc'],
    deliveryResult: eximDelivery(dmarcResults[1]),
    originalMailFrom: copied ? address(/envelope-from[=<\s]+<?([^\s>;]+)/i.exec(copied)?.[1] ?? null) : null,
    originalRcptTo: null,
    headerFrom: original?.from ?? null,
    subject: original?.subject ?? null,
    messageId: original?.messageId ?? null,
    // "SPF Alignment: no" and "DKIM Alignment: no" mean neither identity aligned
    identityAlignment:
      failedAlignments.length === 2
        ? 'none'
        : ['spf', 'dkim'].filter((kind) => !failedAlignments.includes(kind)).join(',') || null,
    dkimDomain: null,
    reporter,
  });
}

function parseIndentedFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.+?)\s*$/.exec(line);
    if (match && !fields.has(match[1]!.toLowerCase())) fields.set(match[1]!.toLowerCase(), match[2]!);
  }
  return fields;
}

/** Exim's "DMARC Results: None, Accept" action, in ARF Delivery-Result words. */
function eximDelivery(action: string | undefined): string | null {
  switch (action) {
    case undefined:
      return null;
    case 'accept':
      return 'delivered';
    case 'reject':
      return 'reject';
    case 'quarantine':
      return 'spam';
    default:
      return 'other';
  }
}

function first(fields: Map<string, string[]>, name: string): string | null {
  const value = fields.get(name)?.[0];
  return value ? value : null;
}

function address(value: string | null): string | null {
  if (!value) return null;
  const inner = /<([^>]*)>/.exec(value)?.[1] ?? value;
  return inner.trim() || null;
}

function headerFromOfAuthResults(values: string[] | undefined): string | null {
  for (const value of values ?? []) {
    const match = /header\.from=([^\s;]+)/i.exec(value);
    if (match) return match[1]!.toLowerCase();
  }
  return null;
}

/** An RFC 5322 date as ISO 8601 UTC; null when unreadable or outside the years reports come from. */
export function toIso(value: string | null, now: Date = new Date()): string | null {
  if (!value) return null;
  const time = Date.parse(value.replace(/\s+\([^)]*\)\s*$/, ''));
  return Number.isNaN(time) || instantProblem(time, now) ? null : new Date(time).toISOString();
}
