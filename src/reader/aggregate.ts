// DMARC aggregate reports (RFC 7489 appendix C, the pre-RFC draft, RFC 9990) from XML to the model.
// One fast-xml-parser pass, then one loop that builds the records. Real-world quirks are repaired
// only when a cheap check finds them, and every repair is written into the report's `errors`.

import { isUtf8 } from 'node:buffer';
import { XMLParser } from 'fast-xml-parser';
import type {
  AggregateRecord,
  AggregateReport,
  DkimAuthResult,
  PolicyOverrideReason,
  PolicyPublished,
  SpfAuthResult,
} from '../model.ts';
import { computeAlignment } from './alignment.ts';
import { ReportReadError } from './errors.ts';

// No isArray callback: repeating elements are normalized in the record loop instead, which also
// copes with reports wrapped in a stray element (whose paths an isArray list would not match).
const parser = new XMLParser({
  parseTagValue: false, // report ids like 0123 stay strings; numbers are parsed where they belong
  removeNSPrefix: true, // RFC 9990 namespace, prefixed or not
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  // no callback reads the tag path: without this the parser builds its string for every tag
  jPath: false,
});

type Node = Record<string, unknown>;

/** Found while converting: the parse tree does not have the shape of a report. */
class ShapeProblem {
  constructor(
    readonly where: string,
    readonly message = `unexpected content in <${where}>`,
  ) {}
}

export function parseAggregateXml(xml: string | Buffer | Uint8Array, source: string): AggregateReport {
  const repairs: string[] = [];
  const text = typeof xml === 'string' ? stripBom(xml) : decodeXml(xml, repairs);
  // Entity declarations are how "billion laughs" bombs start; no honest report has one.
  if (text.includes('<!ENTITY')) {
    throw new ReportReadError(
      'xml-entities',
      source,
      'XML declares entities in a DOCTYPE; refused (entity expansion attack?)',
    );
  }

  const first = attempt(text, source, repairs);
  if (!(first instanceof ShapeProblem || first instanceof ReportReadError)) return first;

  // Slow path, only for broken files: escape stray '<' in text content (e.g. `<email><a@b></email>`)
  // and parse again.
  const repaired = escapeStrayLessThan(text, repairs);
  if (repaired !== text) {
    const second = attempt(repaired, source, repairs);
    if (!(second instanceof ShapeProblem || second instanceof ReportReadError)) return second;
  }
  if (first instanceof ReportReadError) throw first;
  throw new ReportReadError('bad-xml', source, `malformed aggregate report: ${first.message}`);
}

/** One parse and conversion; broken XML comes back (not thrown) so that a repair can be tried. */
function attempt(
  text: string,
  source: string,
  repairs: readonly string[],
): AggregateReport | ShapeProblem | ReportReadError {
  try {
    return convert(parse(text, source), source, repairs);
  } catch (error) {
    if (error instanceof ReportReadError && error.code === 'bad-xml') return error;
    throw error;
  }
}

function parse(text: string, source: string): Node {
  try {
    return parser.parse(text) as Node;
  } catch (error) {
    throw new ReportReadError(
      'bad-xml',
      source,
      `not well-formed XML (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}

function decodeXml(bytes: Uint8Array, repairs: string[]): string {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = /encoding\s*=\s*["']([\w.:-]+)["']/i
    .exec(buffer.subarray(0, 200).toString('latin1'))?.[1]
    ?.toLowerCase();
  if (declared && declared !== 'utf-8' && declared !== 'utf8' && declared !== 'us-ascii') {
    try {
      return stripBom(new TextDecoder(declared).decode(buffer));
    } catch {
      repairs.push(`unknown declared encoding "${declared}", read as UTF-8`);
    }
  }
  if (!isUtf8(buffer)) repairs.push('invalid UTF-8 bytes replaced with U+FFFD');
  return stripBom(buffer.toString('utf8'));
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// A leaf element is `<name>...</name>` with no `</` inside; the repair escapes the '<' and '>' in
// the content of leaves that hold a '<'. Done as one scan over the closing tags (each stretch of
// text looked at once): the equivalent backtracking regex took quadratic time, a minute for 1.4 MB
// of nested open tags.
const openingTag = /<([A-Za-z_][\w.-]*)>/g;
const closingTag = /<\/([A-Za-z_][\w.-]*)>/y;

function escapeStrayLessThan(text: string, repairs: string[]): string {
  let out = '';
  let copied = 0;
  // opening tags before this index cannot start a leaf any more (a `</` lies between)
  let leafFrom = 0;
  for (let close = text.indexOf('</'); close !== -1; close = text.indexOf('</', close + 2)) {
    closingTag.lastIndex = close;
    const closer = closingTag.exec(text);
    if (closer) {
      const name = closer[1]!;
      // searched within the stretch only: a search running on to the end of the text is quadratic
      const stretch = text.slice(leafFrom, close);
      for (const open of stretch.matchAll(openingTag)) {
        const content = stretch.slice(open.index + open[0].length);
        if (open[1] !== name || !content.includes('<')) continue;
        repairs.push(`escaped unescaped '<' in <${name}>`);
        out += `${text.slice(copied, leafFrom + open.index)}<${name}>${content.replaceAll('<', '&lt;').replaceAll('>', '&gt;')}</${name}>`;
        copied = close + closer[0].length;
        break;
      }
    }
    leafFrom = Math.max(copied, close + 1);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function convert(tree: Node, source: string, repairs: readonly string[]): AggregateReport | ShapeProblem {
  const feedback = findFeedback(tree);
  if (!feedback) {
    const root = Object.keys(tree)[0];
    throw new ReportReadError(
      'not-a-report',
      source,
      root ? `XML root element is <${root}>, not a DMARC <feedback> report` : 'XML holds no element',
    );
  }
  const errors: string[] = [...repairs];
  try {
    return buildReport(feedback, errors);
  } catch (error) {
    if (error instanceof ShapeProblem) return error;
    throw error;
  }
}

function findFeedback(tree: Node): Node | null {
  const direct = tree.feedback;
  if (isNode(direct)) return direct;
  // IKEA wraps the report in an unclosed <xs:schema> element.
  for (const value of Object.values(tree)) {
    if (isNode(value) && isNode(value.feedback)) return value.feedback;
  }
  return null;
}

function buildReport(feedback: Node, errors: string[]): AggregateReport {
  const metadata = node(feedback.report_metadata, 'report_metadata');
  const published = node(feedback.policy_published, 'policy_published');
  const range = node(metadata.date_range, 'date_range');

  const reportId = text(metadata.report_id, 'report_id');
  if (!reportId) throw new ShapeProblem('report_id', 'no <report_id>');
  const begin = epochToIso(text(range.begin, 'begin'), 'begin');
  const end = epochToIso(text(range.end, 'end'), 'end');
  const domain = text(published.domain, 'policy_published/domain')?.toLowerCase();
  if (!domain) throw new ShapeProblem('domain', 'no <policy_published><domain>');

  const orgEmail = cleanEmail(text(metadata.email, 'email'));
  let orgName = text(metadata.org_name, 'org_name');
  if (!orgName) {
    orgName = emailDomain(orgEmail) ?? 'unknown';
    errors.push(`empty org_name; used "${orgName}"`);
  }
  for (const reported of asArray(metadata.error)) {
    const message = typeof reported === 'string' ? reported.trim() : '';
    if (message) errors.push(`reporter: ${message}`);
  }
  if (published['#text'] !== undefined)
    errors.push(`ignored stray text in policy_published: "${String(published['#text'])}"`);

  const policy: PolicyPublished = {
    domain,
    p: lower(published.p, 'p'),
    sp: lower(published.sp, 'sp'),
    np: lower(published.np, 'np'),
    pct: integer(text(published.pct, 'pct')),
    adkim: lower(published.adkim, 'adkim'),
    aspf: lower(published.aspf, 'aspf'),
    fo: text(published.fo, 'fo'),
    testing: lower(published.testing, 'testing'),
    discoveryMethod: lower(published.discovery_method, 'discovery_method'),
  };

  const records: AggregateRecord[] = [];
  const rawRecords = asArray(feedback.record);
  const orgDomains = new Map<string, string>();
  let skippedEmptyReasons = 0;
  for (let index = 0; index < rawRecords.length; index++) {
    const raw = rawRecords[index];
    // Let the parse tree go record by record, so a huge report does not hold two copies at once.
    rawRecords[index] = undefined;
    const record = buildRecord(raw, policy, orgDomains);
    if (typeof record === 'string') errors.push(`record ${index + 1} skipped: ${record}`);
    else {
      skippedEmptyReasons += record.emptyReasons;
      records.push(record.record);
    }
  }
  if (skippedEmptyReasons > 0) errors.push(`ignored ${skippedEmptyReasons} empty <reason> element(s)`);

  const report: AggregateReport = {
    kind: 'aggregate',
    version: text(feedback.version, 'version'),
    orgName,
    orgEmail,
    extraContactInfo: text(metadata.extra_contact_info, 'extra_contact_info'),
    reportId,
    begin,
    end,
    generator: text(metadata.generator, 'generator'),
    policy,
    records,
    errors,
  };
  return report;
}

function buildRecord(
  raw: unknown,
  policy: PolicyPublished,
  orgDomains: Map<string, string>,
): { record: AggregateRecord; emptyReasons: number } | string {
  const record = node(raw, 'record');
  const row = node(record.row, 'row');
  const evaluated = node(row.policy_evaluated, 'policy_evaluated');
  const identifiers = node(record.identifiers, 'identifiers');
  const auth = node(record.auth_results, 'auth_results');

  const sourceIp = text(row.source_ip, 'source_ip');
  if (!sourceIp) return 'no <source_ip>';
  const count = integer(text(row.count, 'count'));
  if (count === null || count < 0) return `unreadable <count> for ${sourceIp}`;

  const reasons: PolicyOverrideReason[] = [];
  let emptyReasons = 0;
  for (const rawReason of asArray(evaluated.reason)) {
    const reason = node(rawReason, 'reason');
    const type = lower(reason.type, 'reason/type');
    const comment = text(reason.comment, 'reason/comment');
    if (type) reasons.push({ type, comment });
    else if (comment) reasons.push({ type: 'other', comment });
    else emptyReasons++;
  }

  const dkim: DkimAuthResult[] = [];
  for (const rawDkim of asArray(auth.dkim)) {
    const signature = node(rawDkim, 'auth_results/dkim');
    const result: DkimAuthResult = {
      domain: text(signature.domain, 'dkim/domain')?.toLowerCase() ?? '',
      selector: text(signature.selector, 'dkim/selector'),
      result: lower(signature.result, 'dkim/result') ?? 'none',
    };
    const human = text(signature.human_result, 'dkim/human_result');
    if (human) result.humanResult = human;
    dkim.push(result);
  }
  const spf: SpfAuthResult[] = [];
  for (const rawSpf of asArray(auth.spf)) {
    const check = node(rawSpf, 'auth_results/spf');
    spf.push({
      domain: text(check.domain, 'spf/domain')?.toLowerCase() ?? '',
      scope: lower(check.scope, 'spf/scope'),
      result: lower(check.result, 'spf/result') ?? 'none',
    });
  }

  const headerFrom = text(identifiers.header_from, 'header_from')?.toLowerCase() ?? '';
  const envelopeFrom = text(identifiers.envelope_from, 'envelope_from')?.toLowerCase() ?? null;
  const envelopeTo = text(identifiers.envelope_to, 'envelope_to')?.toLowerCase() ?? null;
  const evaluatedDkim = lower(evaluated.dkim, 'policy_evaluated/dkim') ?? 'none';
  const evaluatedSpf = lower(evaluated.spf, 'policy_evaluated/spf') ?? 'none';

  return {
    emptyReasons,
    record: {
      sourceIp,
      count,
      disposition: lower(evaluated.disposition, 'disposition') ?? 'none',
      evaluated: { dkim: evaluatedDkim, spf: evaluatedSpf },
      dmarc: evaluatedDkim === 'pass' || evaluatedSpf === 'pass' ? 'pass' : 'fail',
      identifiers: { headerFrom, envelopeFrom, envelopeTo },
      reasons,
      authResults: { dkim, spf },
      alignment: computeAlignment(
        { headerFrom, envelopeFrom, adkim: policy.adkim, aspf: policy.aspf, dkim, spf },
        orgDomains,
      ),
    },
  };
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const emptyNode: Node = Object.freeze({}) as Node;

/** An element that holds elements; empty or absent ones read as no children. */
function node(value: unknown, where: string): Node {
  if (isNode(value)) return value;
  if (value === undefined || value === '') return emptyNode;
  if (Array.isArray(value)) return node(value[0], where);
  throw new ShapeProblem(where);
}

/** A text-only element, trimmed; empty or absent is null. A child element here means broken XML. */
function text(value: unknown, where: string): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (value === undefined) return null;
  if (Array.isArray(value)) return text(value[0], where);
  throw new ShapeProblem(where);
}

function lower(value: unknown, where: string): string | null {
  return text(value, where)?.toLowerCase() ?? null;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

function integer(value: string | null): number | null {
  if (value === null) return null;
  const compact = value.replace(/\s+/g, '');
  if (!/^\d+$/.test(compact)) return null;
  return Number(compact);
}

function epochToIso(value: string | null, where: string): string {
  const seconds = integer(value);
  if (seconds === null) throw new ShapeProblem(where, `no readable <date_range><${where}> (${JSON.stringify(value)})`);
  return new Date(seconds * 1000).toISOString();
}

function cleanEmail(value: string | null): string | null {
  if (!value) return null;
  const email = value
    .replace(/^mailto:/i, '')
    .replace(/^<|>$/g, '')
    .trim();
  return email || null;
}

function emailDomain(email: string | null): string | null {
  const at = email?.lastIndexOf('@') ?? -1;
  return email && at >= 0 ? email.slice(at + 1).toLowerCase() || null : null;
}
