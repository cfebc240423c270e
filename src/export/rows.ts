// Export rows: the store's documents flattened for spreadsheets and SIEMs. Pure functions over
// store data: one aggregate row per report x source (its messages summed over the exported
// days), one row per failure report, one row per TLS report x policy.

import type { DayReportPart, SourceStat, StoredFailure, StoredTlsPolicy } from '../store/types.ts';

export type ExportKind = 'aggregate' | 'failure' | 'tls';
export const EXPORT_KINDS: readonly ExportKind[] = ['aggregate', 'failure', 'tls'];

export type Cell = string | number | null;
export type ExportRow = { kind: ExportKind } & Record<string, Cell | string[]>;

const COMMON = ['kind', 'domain', 'report_key', 'ingested_at'] as const;
export const COLUMNS: Record<ExportKind, readonly string[]> = {
  aggregate: [
    ...COMMON,
    'org_name',
    'org_email',
    'report_id',
    'begin',
    'end',
    'source_ip',
    'messages',
    'dmarc_pass',
    'dmarc_fail',
    'spf_pass',
    'dkim_pass',
    'spf_aligned',
    'dkim_aligned',
    'disposition_none',
    'disposition_quarantine',
    'disposition_reject',
    'header_from',
    'override_reasons',
    'policy_p',
    'policy_sp',
    'policy_pct',
    'policy_adkim',
    'policy_aspf',
  ],
  failure: [
    ...COMMON,
    'arrival_date',
    'source_ip',
    'feedback_type',
    'auth_failure',
    'delivery_result',
    'header_from',
    'original_mail_from',
    'original_rcpt_to',
    'subject',
    'message_id',
    'reporter',
  ],
  tls: [
    ...COMMON,
    'org_name',
    'report_id',
    'begin',
    'end',
    'policy_type',
    'mx_hosts',
    'successful_sessions',
    'failed_sessions',
    'failure_results',
  ],
};

/** The columns of a CSV holding these kinds: each kind's columns, in first-seen order. */
export function columnsFor(kinds: readonly ExportKind[]): string[] {
  const columns: string[] = [];
  for (const kind of kinds) for (const column of COLUMNS[kind]) if (!columns.includes(column)) columns.push(column);
  return columns;
}

/** "a=3; b=1" from a count map, largest first (Object.create(null) maps from the store). */
function countList(counts: Record<string, number>): string {
  return Object.keys(counts)
    .sort((a, b) => counts[b]! - counts[a]! || (a < b ? -1 : 1))
    .map((key) => `${key}=${counts[key]}`)
    .join('; ');
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const key of Object.keys(from)) into[key] = (into[key] ?? 0) + from[key]!;
}

/** A report's figures for one source, summed over the days read so far. */
export interface SourceTotals {
  messages: number;
  dmarcPass: number;
  spfPass: number;
  dkimPass: number;
  spfAligned: number;
  dkimAligned: number;
  dispositions: Record<string, number>;
  reasons: Record<string, number>;
  headerFrom: Record<string, number>;
}

export function emptyTotals(): SourceTotals {
  return {
    messages: 0,
    dmarcPass: 0,
    spfPass: 0,
    dkimPass: 0,
    spfAligned: 0,
    dkimAligned: 0,
    dispositions: Object.create(null) as Record<string, number>,
    reasons: Object.create(null) as Record<string, number>,
    headerFrom: Object.create(null) as Record<string, number>,
  };
}

export function addSource(into: SourceTotals, stat: SourceStat): void {
  into.messages += stat.messages;
  into.dmarcPass += stat.dmarcPass;
  into.spfPass += stat.spfPass;
  into.dkimPass += stat.dkimPass;
  into.spfAligned += stat.spfAligned;
  into.dkimAligned += stat.dkimAligned;
  addCounts(into.dispositions, stat.dispositions);
  addCounts(into.reasons, stat.reasons);
  addCounts(into.headerFrom, stat.headerFrom);
}

export function aggregateRow(domain: string, part: DayReportPart, ip: string, totals: SourceTotals): ExportRow {
  return {
    kind: 'aggregate',
    domain,
    report_key: part.reportKey,
    ingested_at: part.ingestedAt,
    org_name: part.orgName,
    org_email: part.orgEmail,
    report_id: part.reportId,
    begin: part.begin,
    end: part.end,
    source_ip: ip,
    messages: totals.messages,
    dmarc_pass: totals.dmarcPass,
    dmarc_fail: totals.messages - totals.dmarcPass,
    spf_pass: totals.spfPass,
    dkim_pass: totals.dkimPass,
    spf_aligned: totals.spfAligned,
    dkim_aligned: totals.dkimAligned,
    disposition_none: totals.dispositions['none'] ?? 0,
    disposition_quarantine: totals.dispositions['quarantine'] ?? 0,
    disposition_reject: totals.dispositions['reject'] ?? 0,
    header_from: countList(totals.headerFrom),
    override_reasons: countList(totals.reasons),
    policy_p: part.policy.p,
    policy_sp: part.policy.sp,
    policy_pct: part.policy.pct,
    policy_adkim: part.policy.adkim,
    policy_aspf: part.policy.aspf,
  };
}

export function failureRow(failure: StoredFailure): ExportRow {
  return {
    kind: 'failure',
    domain: failure.reportedDomain,
    report_key: failure.reportKey,
    ingested_at: failure.ingestedAt,
    arrival_date: failure.arrivalDate,
    source_ip: failure.sourceIp,
    feedback_type: failure.feedbackType ?? null,
    auth_failure: [...failure.authFailure],
    delivery_result: failure.deliveryResult,
    header_from: failure.headerFrom,
    original_mail_from: failure.originalMailFrom,
    original_rcpt_to: failure.originalRcptTo,
    subject: failure.subject,
    message_id: failure.messageId,
    reporter: failure.reporter ?? failure.userAgent ?? null,
  };
}

export function tlsRow(policy: StoredTlsPolicy): ExportRow {
  const results = Object.create(null) as Record<string, number>;
  for (const detail of policy.failures) results[detail.resultType] = (results[detail.resultType] ?? 0) + detail.count;
  return {
    kind: 'tls',
    domain: policy.domain,
    report_key: policy.reportKey,
    ingested_at: policy.ingestedAt,
    org_name: policy.orgName,
    report_id: policy.reportId,
    begin: policy.begin,
    end: policy.end,
    policy_type: policy.type,
    mx_hosts: [...policy.mxHosts],
    successful_sessions: policy.successful,
    failed_sessions: policy.failed,
    failure_results: countList(results),
  };
}

// Spreadsheets run a cell that starts with one of these as a formula (CSV injection); a leading
// quote makes it text. Tab and CR start formulas in some of them too.
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF; text formulas defused. */
export function csvField(value: Cell | string[] | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  let text = Array.isArray(value) ? value.join(' ') : value;
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: ReadonlyArray<Cell | string[] | undefined>): string {
  return cells.map(csvField).join(',') + '\r\n';
}

export function csvRow(row: ExportRow, columns: readonly string[]): string {
  return csvLine(columns.map((column) => (Object.hasOwn(row, column) ? row[column] : null)));
}

export function jsonRow(row: ExportRow): string {
  return JSON.stringify(row) + '\n';
}
