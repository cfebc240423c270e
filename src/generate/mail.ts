// Report mails as real senders produce them: RFC 5322, CRLF line endings, base64 attachments.
import { gzipSync } from 'node:zlib';
import type { AggregateReport, FailureReport, TlsReport } from '../model.ts';
import { hash32 } from './prng.ts';
import { aggregateXml, epochSeconds, type AggregateXmlOptions } from './xml.ts';
import { zipFiles } from './zip.ts';

export interface Attachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
}

export interface MailHeaders {
  from: string;
  to: string;
  subject: string;
  /** a Date, or a ready RFC 5322 date string */
  date: Date | string;
  /** with or without angle brackets */
  messageId: string;
}

export type Container = 'zip' | 'gzip' | 'xml';

const CRLF = '\r\n';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time in UTC: "Sun, 29 Nov 2026 09:07:50 +0000". */
export function rfc5322Date(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

function base64Lines(content: Uint8Array): string {
  const b64 = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join(CRLF);
}

/** Header values must stay ASCII: non-ASCII text becomes an RFC 2047 encoded word. */
function headerText(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

function messageIdHeader(id: string): string {
  return id.startsWith('<') ? id : `<${id}>`;
}

function boundaryFor(seed: string, level: number): string {
  return `----=_Part_${level}_${hash32(`${seed}:${level}`).toString(16).padStart(8, '0')}`;
}

function topHeaders(headers: MailHeaders): string[] {
  return [
    `From: ${headerText(headers.from)}`,
    `To: ${headerText(headers.to)}`,
    `Subject: ${headerText(headers.subject)}`,
    `Date: ${typeof headers.date === 'string' ? headers.date : rfc5322Date(headers.date)}`,
    `Message-ID: ${messageIdHeader(headers.messageId)}`,
    'MIME-Version: 1.0',
  ];
}

function attachmentPart(a: Attachment): string[] {
  return [
    `Content-Type: ${a.contentType}; name=${quoted(a.filename)}`,
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename=${quoted(a.filename)}`,
    '',
    base64Lines(a.content),
  ];
}

/** A multipart/mixed message: a short text part, then each attachment in base64. */
export function reportMail(attachments: readonly Attachment[], headers: MailHeaders, text?: string): Buffer {
  const boundary = boundaryFor(headers.messageId, 1);
  const lines = [
    ...topHeaders(headers),
    `Content-Type: multipart/mixed; boundary=${quoted(boundary)}`,
    '',
    'This is a multi-part message in MIME format.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    text ?? 'This is an aggregate report from a DMARC reporter.',
  ];
  for (const a of attachments) lines.push('', `--${boundary}`, ...attachmentPart(a));
  lines.push('', `--${boundary}--`, '');
  return Buffer.from(lines.join(CRLF), 'utf8');
}

export function gzipBytes(content: string | Uint8Array): Buffer {
  return gzipSync(typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
}

export function zipBytes(entryName: string, content: string | Uint8Array, date?: Date): Buffer {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return zipFiles([{ name: entryName, content: bytes, ...(date ? { date } : {}) }]);
}

/** The receiver's domain as it appears in file names: the part after @ in the report e-mail. */
function receiverOf(report: AggregateReport): string {
  const at = report.orgEmail?.lastIndexOf('@') ?? -1;
  return at >= 0 && report.orgEmail ? report.orgEmail.slice(at + 1) : report.orgName;
}

/** `receiver!policy-domain!begin!end!id.xml` as real senders name their reports. */
export function reportFileName(report: AggregateReport, receiver = receiverOf(report), withId = true): string {
  const safeId = report.reportId.replace(/[^A-Za-z0-9._-]/g, '_');
  const parts = [receiver, report.policy.domain, epochSeconds(report.begin), epochSeconds(report.end)];
  if (withId) parts.push(safeId);
  return `${parts.join('!')}.xml`;
}

/** The report XML packed as an attachment of the given container kind. */
export function aggregateAttachment(
  report: AggregateReport,
  container: Container,
  opts: AggregateXmlOptions & { receiver?: string } = {},
): Attachment {
  const xml = aggregateXml(report, opts);
  const name = reportFileName(report, opts.receiver);
  const date = new Date(epochSeconds(report.end) * 1000);
  switch (container) {
    case 'xml':
      return { filename: name, contentType: 'text/xml', content: Buffer.from(xml, 'utf8') };
    case 'gzip':
      return { filename: `${name}.gz`, contentType: 'application/gzip', content: gzipBytes(xml) };
    case 'zip':
      return {
        filename: name.replace(/\.xml$/, '.zip'),
        contentType: 'application/zip',
        content: zipBytes(name, xml, date),
      };
  }
}

/** One aggregate report as a complete mail, subject and headers in the style of the big reporters. */
export function aggregateReportMail(
  report: AggregateReport,
  container: Container,
  opts: AggregateXmlOptions & { to?: string; date?: Date; receiver?: string } = {},
): Buffer {
  const sent = opts.date ?? new Date((epochSeconds(report.end) + 3600) * 1000);
  const from = report.orgEmail ?? `noreply-dmarc@${report.orgName}`;
  return reportMail([aggregateAttachment(report, container, opts)], {
    from,
    to: opts.to ?? `dmarc-reports@${report.policy.domain}`,
    subject: `Report Domain: ${report.policy.domain} Submitter: ${report.orgName} Report-ID: <${report.reportId}>`,
    date: sent,
    messageId: `${hash32(report.reportId + report.policy.domain).toString(16)}.${report.reportId.slice(0, 40)}@${from.split('@')[1] ?? 'reporter.example'}`,
  });
}

/** An ARF (RFC 6591) auth-failure report: multipart/report with a message/feedback-report part. */
export function failureReportMail(report: FailureReport, headers: MailHeaders): Buffer {
  const boundary = boundaryFor(headers.messageId, 2);
  const arrival = report.arrivalDate ? rfc5322Date(new Date(report.arrivalDate)) : null;
  const fields: Array<[string, string | null | undefined]> = [
    ['Feedback-Type', report.feedbackType ?? 'auth-failure'],
    ['User-Agent', report.userAgent ?? 'dmarc-bot-generator/1.0'],
    ['Version', '1'],
    ['Original-Mail-From', report.originalMailFrom ? `<${report.originalMailFrom}>` : null],
    ['Original-Rcpt-To', report.originalRcptTo ? `<${report.originalRcptTo}>` : null],
    ['Arrival-Date', arrival],
    ['Source-IP', report.sourceIp],
    ['Reported-Domain', report.reportedDomain],
    ['Delivery-Result', report.deliveryResult],
    ['Identity-Alignment', report.identityAlignment],
    ...report.authFailure.map((f): [string, string] => ['Auth-Failure', f]),
    ['DKIM-Domain', report.dkimDomain],
  ];
  const original = [
    `From: ${headerText(report.headerFrom ? `<someone@${report.headerFrom}>` : '<unknown@invalid>')}`,
    `To: ${headerText(report.originalRcptTo ?? 'undisclosed-recipients:;')}`,
    `Subject: ${headerText(report.subject ?? '')}`,
    ...(report.messageId ? [`Message-ID: ${messageIdHeader(report.messageId)}`] : []),
    ...(arrival ? [`Date: ${arrival}`] : []),
  ];
  const lines = [
    ...topHeaders(headers),
    `Content-Type: multipart/report; report-type=feedback-report; boundary=${quoted(boundary)}`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=UTF-8',
    '',
    `This is an authentication failure report for an email message received from IP ${report.sourceIp ?? 'unknown'}.`,
    '',
    `--${boundary}`,
    'Content-Type: message/feedback-report',
    '',
    ...fields
      .filter((f): f is [string, string] => f[1] !== null && f[1] !== undefined)
      .map(([k, v]) => `${k}: ${headerText(v)}`),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    ...original,
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join(CRLF), 'utf8');
}

/** RFC 8460 JSON for a TLS report. */
export function tlsReportJson(report: TlsReport): string {
  return JSON.stringify({
    'organization-name': report.orgName,
    'date-range': { 'start-datetime': report.begin, 'end-datetime': report.end },
    'contact-info': report.contactInfo,
    'report-id': report.reportId,
    policies: report.policies.map((p) => ({
      policy: {
        'policy-type': p.type,
        'policy-string': p.strings,
        'policy-domain': p.domain,
        'mx-host': p.mxHosts,
      },
      summary: { 'total-successful-session-count': p.successful, 'total-failure-session-count': p.failed },
      'failure-details': p.failures.map((f) => ({
        'result-type': f.resultType,
        ...(f.sendingMtaIp ? { 'sending-mta-ip': f.sendingMtaIp } : {}),
        ...(f.receivingMxHostname ? { 'receiving-mx-hostname': f.receivingMxHostname } : {}),
        ...(f.receivingIp ? { 'receiving-ip': f.receivingIp } : {}),
        'failed-session-count': f.count,
        ...(f.info ? { 'additional-information': f.info } : {}),
        ...(f.reasonCode ? { 'failure-reason-code': f.reasonCode } : {}),
      })),
    })),
  });
}

/** A TLS report mail: multipart/report; report-type=tlsrpt with an application/tlsrpt+gzip part. */
export function tlsReportMail(report: TlsReport, headers: MailHeaders): Buffer {
  const boundary = boundaryFor(headers.messageId, 3);
  const domain = report.policies[0]?.domain ?? 'unknown';
  const filename = `${report.orgName}!${domain}!${epochSeconds(report.begin)}!${epochSeconds(report.end)}!${report.reportId.replace(/[^A-Za-z0-9._-]/g, '_')}.json.gz`;
  const lines = [
    ...topHeaders(headers),
    'TLS-Report-Domain: ' + domain,
    'TLS-Report-Submitter: ' + report.orgName,
    `Content-Type: multipart/report; report-type=tlsrpt; boundary=${quoted(boundary)}`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=UTF-8',
    '',
    `This is an aggregate TLS report from ${report.orgName}.`,
    '',
    `--${boundary}`,
    ...attachmentPart({ filename, contentType: 'application/tlsrpt+gzip', content: gzipBytes(tlsReportJson(report)) }),
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join(CRLF), 'utf8');
}
