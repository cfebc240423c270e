// Serializes the project's AggregateReport to RFC 7489 aggregate XML, or to the RFC 9990 variant.
// Built from chunks (never by appending to one growing string), so a 100k-record report (~50 MB)
// can be joined once or streamed to a file.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AggregateRecord, AggregateReport } from '../model.ts';

export const DMARC2_NAMESPACE = 'urn:ietf:params:xml:ns:dmarc-2.0';

export interface AggregateXmlOptions {
  /** write the RFC 9990 namespace (and version 2.0 unless the report names another) */
  namespace2?: boolean;
  /** pretty-print with line breaks and indentation (default true) */
  indent?: boolean;
}

// XML 1.0 forbids most control characters even when escaped: replace them rather than emit broken XML.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(INVALID_XML_CHARS, '\uFFFD').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** ISO 8601 string to the epoch seconds the XML carries. */
export function epochSeconds(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO date: ${JSON.stringify(iso)}`);
  return Math.floor(ms / 1000);
}

class Out {
  readonly parts: string[] = [];
  constructor(private readonly pretty: boolean) {}
  private pad(depth: number): string {
    return this.pretty ? '  '.repeat(depth) : '';
  }
  private get nl(): string {
    return this.pretty ? '\n' : '';
  }
  open(depth: number, tag: string, attrs = ''): void {
    this.parts.push(`${this.pad(depth)}<${tag}${attrs}>${this.nl}`);
  }
  close(depth: number, tag: string): void {
    this.parts.push(`${this.pad(depth)}</${tag}>${this.nl}`);
  }
  /** an element with text; skipped when the value is null or undefined */
  leaf(depth: number, tag: string, value: string | number | null | undefined): void {
    if (value === null || value === undefined) return;
    this.parts.push(`${this.pad(depth)}<${tag}>${escapeXml(String(value))}</${tag}>${this.nl}`);
  }
  take(): string {
    const text = this.parts.join('');
    this.parts.length = 0;
    return text;
  }
}

function writeRecord(out: Out, r: AggregateRecord): void {
  out.open(1, 'record');
  out.open(2, 'row');
  out.leaf(3, 'source_ip', r.sourceIp);
  out.leaf(3, 'count', r.count);
  out.open(3, 'policy_evaluated');
  out.leaf(4, 'disposition', r.disposition);
  out.leaf(4, 'dkim', r.evaluated.dkim);
  out.leaf(4, 'spf', r.evaluated.spf);
  for (const reason of r.reasons) {
    out.open(4, 'reason');
    out.leaf(5, 'type', reason.type);
    out.leaf(5, 'comment', reason.comment);
    out.close(4, 'reason');
  }
  out.close(3, 'policy_evaluated');
  out.close(2, 'row');
  out.open(2, 'identifiers');
  out.leaf(3, 'envelope_to', r.identifiers.envelopeTo);
  out.leaf(3, 'envelope_from', r.identifiers.envelopeFrom);
  out.leaf(3, 'header_from', r.identifiers.headerFrom);
  out.close(2, 'identifiers');
  out.open(2, 'auth_results');
  for (const d of r.authResults.dkim) {
    out.open(3, 'dkim');
    out.leaf(4, 'domain', d.domain);
    out.leaf(4, 'selector', d.selector);
    out.leaf(4, 'result', d.result);
    out.leaf(4, 'human_result', d.humanResult);
    out.close(3, 'dkim');
  }
  for (const s of r.authResults.spf) {
    out.open(3, 'spf');
    out.leaf(4, 'domain', s.domain);
    out.leaf(4, 'scope', s.scope);
    out.leaf(4, 'result', s.result);
    out.close(3, 'spf');
  }
  out.close(2, 'auth_results');
  out.close(1, 'record');
}

/** The XML as a sequence of chunks (head, then batches of records, then the tail). */
export function* aggregateXmlChunks(
  report: AggregateReport,
  opts: AggregateXmlOptions = {},
  recordsPerChunk = 500,
): Generator<string> {
  const out = new Out(opts.indent ?? true);
  const version = report.version ?? (opts.namespace2 ? '2.0' : null);
  out.parts.push('<?xml version="1.0" encoding="UTF-8"?>\n');
  out.open(0, 'feedback', opts.namespace2 ? ` xmlns="${DMARC2_NAMESPACE}"` : '');
  out.leaf(1, 'version', version);
  out.open(1, 'report_metadata');
  out.leaf(2, 'org_name', report.orgName);
  out.leaf(2, 'email', report.orgEmail);
  out.leaf(2, 'extra_contact_info', report.extraContactInfo);
  out.leaf(2, 'report_id', report.reportId);
  out.open(2, 'date_range');
  out.leaf(3, 'begin', epochSeconds(report.begin));
  out.leaf(3, 'end', epochSeconds(report.end));
  out.close(2, 'date_range');
  out.leaf(2, 'generator', report.generator);
  for (const error of report.errors) out.leaf(2, 'error', error);
  out.close(1, 'report_metadata');
  const p = report.policy;
  out.open(1, 'policy_published');
  out.leaf(2, 'domain', p.domain);
  out.leaf(2, 'discovery_method', p.discoveryMethod);
  out.leaf(2, 'adkim', p.adkim);
  out.leaf(2, 'aspf', p.aspf);
  out.leaf(2, 'p', p.p);
  out.leaf(2, 'sp', p.sp);
  out.leaf(2, 'np', p.np);
  out.leaf(2, 'pct', p.pct);
  out.leaf(2, 'fo', p.fo);
  out.leaf(2, 'testing', p.testing);
  out.close(1, 'policy_published');
  yield out.take();
  let n = 0;
  for (const record of report.records) {
    writeRecord(out, record);
    if (++n % recordsPerChunk === 0) yield out.take();
  }
  out.close(0, 'feedback');
  yield out.take();
}

/** The whole report as one XML string. */
export function aggregateXml(report: AggregateReport, opts: AggregateXmlOptions = {}): string {
  return Array.from(aggregateXmlChunks(report, opts)).join('');
}

/** Streams the XML to a writable (e.g. fs.createWriteStream), honouring backpressure. Does not end it. */
export async function writeAggregateXml(
  report: AggregateReport,
  stream: Writable,
  opts: AggregateXmlOptions = {},
): Promise<void> {
  for (const chunk of aggregateXmlChunks(report, opts)) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
}
