// DMARC aggregate reports (RFC 7489 appendix C, the pre-RFC draft, RFC 9990) from XML to the model.
// The <record> elements are found by a linear scan and parsed by fast-xml-parser in batches, after
// the report's frame (metadata, policy): memory follows a batch, not the report, where a whole-tree
// parse costs about ten times the XML's size. Real-world quirks are repaired only when a cheap check
// finds them, and every repair is written into the report's `errors`. Values are checked here, at
// the edge of the model: strict IPs, dates in a sane window, safe integers, capped and clean text.

import { isUtf8 } from 'node:buffer';
import { XMLParser, type EntityDecoderOptions } from 'fast-xml-parser';
import type {
  AggregateRecord,
  AggregateReport,
  DkimAuthResult,
  PolicyOverrideReason,
  PolicyPublished,
  SpfAuthResult,
} from '../model.ts';
import { normalizeIp } from '../net/ip.ts';
import { computeAlignment } from './alignment.ts';
import { ReportReadError } from './errors.ts';
import { RecordMemo, recordFrom, type MemoKey, type Template } from './record-memo.ts';
import { RecordScanner, scanRecords, type RecordScan } from './record-scan.ts';
import {
  MAX_DOMAIN_LENGTH,
  MAX_FREE_TEXT_LENGTH,
  MAX_NAME_LENGTH,
  cleanText,
  describeWindow,
  instantProblem,
  safeInteger,
} from './text.ts';

// No isArray callback: repeating elements are normalized in the record loop instead, which also
// copes with reports wrapped in a stray element (whose paths an isArray list would not match).
const parserOptions = {
  parseTagValue: false, // report ids like 0123 stay strings; numbers are parsed where they belong
  removeNSPrefix: true, // RFC 9990 namespace, prefixed or not
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  // no callback reads the tag path: without this the parser builds its string for every tag
  jPath: false,
} as const;
// The whole document at once, as the parser shapes it: the fallback for what the record scan cannot
// split, and the reference the split read is checked against.
const wholeParser = new XMLParser(parserOptions);
// The frame and the record batches: in document order, shaped by `compact` below, which does what
// the parser's own shaping does for these options without its path bookkeeping (about a third of
// the parser's time).
const pieceParser = new XMLParser({ ...parserOptions, preserveOrder: true });
// for pieces without '&': no entity can be in them, so entities are not processed. The parser
// still builds a decoder for every parse unless it is given one (a third of the cost of parsing a
// small report's frame); with processEntities off it never asks it to decode, so this one does nothing.
const unusedEntityDecoder: EntityDecoderOptions = {
  setExternalEntities: () => undefined,
  addInputEntities: () => undefined,
  reset: () => undefined,
  decode: (text) => text,
  setXmlVersion: () => undefined,
};
const plainPieceParser = new XMLParser({
  ...parserOptions,
  preserveOrder: true,
  processEntities: false,
  entityDecoder: unusedEntityDecoder,
});

type Node = Record<string, unknown>;

/** Found while converting: the parse tree does not have the shape of a report. */
class ShapeProblem {
  constructor(
    readonly where: string,
    readonly message = `unexpected content in <${where}>`,
  ) {}
}

export interface AggregateOptions {
  /** the clock that dates are checked against (reports from the future are refused) */
  now?: Date;
  /** parse the whole document at once instead of the frame and record batches (for comparisons) */
  wholeDocument?: boolean;
  /** false: every record is parsed, none built from an earlier one of the same report (for comparisons) */
  recordMemo?: boolean;
  /** when given, the record memo's counts of a split read are added to it (for the benchmark) */
  memoStats?: MemoStats;
}

export interface MemoStats {
  /** records cut out of the text */
  records: number;
  /** records built from an earlier one of their report instead of parsed */
  hits: number;
}

// Records parsed at once: enough that a parse call's overhead vanishes, few enough that a batch's
// tree is still young when its records are built (measured: 16 read a 10k-record report about 7 %
// faster than 50, and a 2k-record one up to 40 % faster with the bot's 4 MB semi-space; bigger
// batches outlive a scavenge and are copied or pile up in the old generation).
const RECORD_BATCH = 16;
// Distinct short values (results, dispositions, domains) a report shares between its records: the
// parser makes a new string for every occurrence, a report's records need one of each.
const MAX_SHARED_VALUES = 4096;
// The whole-tree fallback (for broken files the record scan cannot split) is tried only up to here,
// so that a big broken file cannot cost ten times its size.
const MAX_WHOLE_TREE_CHARS = 8 * 1024 * 1024;
// Notes a report keeps; a report of 100k bad records must not carry 100k notes.
const MAX_NOTES = 100;

export function parseAggregateXml(
  xml: string | Buffer | Uint8Array,
  source: string,
  options: AggregateOptions = {},
): AggregateReport {
  const context: Context = { source, now: options.now ?? new Date() };
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

  const scan = options.wholeDocument ? null : scanRecords(text);
  const memo = options.recordMemo === false ? null : new RecordMemo();
  let first = scan?.kind === 'split' ? attempt(() => convertSplit(text, scan, context, repairs, memo)) : null;
  // a broken report is named as the read without the memo names it: the parser's message can say
  // where in its batch it stopped, and the memo makes other batches
  if (memo && scan?.kind === 'split' && (first instanceof ShapeProblem || first instanceof ReportReadError))
    first = attempt(() => convertSplit(text, scan, context, repairs, null));
  if (first !== null && first !== 'unsure' && !(first instanceof ShapeProblem || first instanceof ReportReadError)) {
    if (memo && options.memoStats) {
      options.memoStats.records += memo.records;
      options.memoStats.hits += memo.hits;
    }
    return first;
  }
  // what the scan cannot vouch for is read whole, at any size (the reader's heap limit bounds it);
  // the whole-tree fallback for broken files is tried only on small ones
  const unsure = scan === null || scan.kind === 'unsure' || first === 'unsure';
  const problem0 = first === 'unsure' ? null : first;
  if (!unsure && text.length > MAX_WHOLE_TREE_CHARS) {
    if (problem0 instanceof ReportReadError) throw problem0;
    throw new ReportReadError(
      'bad-xml',
      source,
      `malformed aggregate report: ${problem0?.message ?? 'its <record> elements are not properly closed'}`,
    );
  }

  // Slow path, only for small broken files: the whole tree at once (copes with records the scan
  // cannot split), then with stray '<' in text content escaped (e.g. `<email><a@b></email>`).
  const whole = attempt(() => convert(parse(text, source), context, repairs));
  if (!(whole instanceof ShapeProblem || whole instanceof ReportReadError)) return whole;
  // past the parser's nesting limit no repair helps, and escaping a million nested tags costs seconds
  const repaired = nestedTooDeep(whole) ? text : escapeStrayLessThan(text, repairs);
  if (repaired !== text) {
    const second = attempt(() => convert(parse(repaired, source), context, repairs));
    if (!(second instanceof ShapeProblem || second instanceof ReportReadError)) return second;
  }
  const problem = problem0 ?? whole;
  if (problem instanceof ReportReadError) throw problem;
  throw new ReportReadError('bad-xml', source, `malformed aggregate report: ${problem.message}`);
}

/** fast-xml-parser stops at its maxNestedTags (100): no report is nested like that. */
function nestedTooDeep(problem: ReportReadError | ShapeProblem): boolean {
  const cause = problem instanceof ReportReadError ? problem.cause : undefined;
  return cause instanceof Error && /maximum nested tags/i.test(cause.message);
}

interface Context {
  source: string;
  now: Date;
}

/** One parse and conversion; broken XML comes back (not thrown) so that a repair can be tried. */
function attempt<T>(
  run: () => AggregateReport | ShapeProblem | T,
): AggregateReport | ShapeProblem | ReportReadError | T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ReportReadError && error.code === 'bad-xml') return error;
    if (error instanceof ShapeProblem) return error;
    throw error;
  }
}

type Ordered = Array<Record<string, unknown>>;

/**
 * The frame parsed, then the records in batches of whole <record> elements: the same subtrees a
 * parse of the whole document gives, so the report is the same. 'unsure' when the frame holds no
 * feedback element to put the records in (e.g. one that held nothing but records).
 */
function convertSplit(
  text: string,
  scan: Extract<RecordScan, { kind: 'split' }>,
  context: Context,
  repairs: readonly string[],
  memo: RecordMemo | null,
): AggregateReport | ShapeProblem | 'unsure' {
  const tree = compact(parsePiece(scan.frame, context.source));
  if (!findFeedback(tree)) return 'unsure';
  const { spans } = scan;
  const total = spans.length / 2;
  const pump: RecordPump = (take) => {
    const feed = new RecordFeed(memo, context.source, RECORD_BATCH, take);
    for (let at = 0; at < spans.length; at += 2) feed.push(text.slice(spans[at], spans[at + 1]), total);
    feed.flush(total);
  };
  return convert(tree, context, repairs, pump);
}

/** Hands a report's records, batch by batch in document order, to `take` (RecordBuilder.take). */
type RecordPump = (take: (batch: unknown[]) => void) => void;

// Records a feed holds before they are handed on, memo hits included.
const MAX_FEED_QUEUE = 64;

/** A record built from the memo: its template and the texts of its own IP and count. */
class MemoHit {
  constructor(
    readonly template: Template,
    readonly sourceIp: string,
    readonly count: string,
  ) {}
}

/** The holes of a record whose build may become its key's template. */
class Holes {
  constructor(
    readonly key: MemoKey,
    readonly sourceIp: string,
    readonly count: string,
  ) {}
}

/** A parsed record whose build may become its key's template. */
class KeyedRecord {
  constructor(
    readonly tree: unknown,
    readonly holes: Holes,
  ) {}
}

/**
 * Record texts in, in document order; out, in the same order, batches for RecordBuilder.take: each
 * record a memo hit or a parse tree (the records not hit parsed together, up to `batchSize` at
 * once). A record whose key is waiting for its first record's build hands the batch on first, so
 * that a key is parsed once. Without a memo the batches are those of the read before the memo.
 */
class RecordFeed {
  private queue: unknown[] = [];
  private misses: string[] = [];
  private missAt: number[] = [];

  constructor(
    private readonly memo: RecordMemo | null,
    private readonly source: string,
    private readonly batchSize: number,
    private readonly take: (batch: unknown[]) => void,
  ) {}

  /** `total`: the report's record count, or Infinity while it is not known. */
  push(text: string, total: number): void {
    const memo = this.memo;
    let holes: Holes | null = null;
    if (memo !== null) {
      memo.records++;
      if (memo.locate(text)) {
        const key = memo.find(text);
        // its first record is in the queue, not built yet
        if (key?.state === null) this.flush(total);
        if (key?.state) {
          memo.hits++;
          this.queue.push(new MemoHit(key.state, memo.sourceIp(text), memo.count(text)));
          if (this.queue.length >= MAX_FEED_QUEUE) this.flush(total);
          return;
        }
        const added = key === undefined ? memo.add(text) : null;
        if (added !== null) holes = new Holes(added, memo.sourceIp(text), memo.count(text));
      }
    }
    this.missAt.push(this.queue.length);
    this.queue.push(holes);
    this.misses.push(text);
    if (this.misses.length >= this.batchSize || this.queue.length >= MAX_FEED_QUEUE) this.flush(total);
  }

  /** Hands on what is held. */
  flush(total: number): void {
    if (this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    const misses = this.misses;
    if (misses.length > 0) {
      const raws = recordsOf(parsePiece(batchOf(misses), this.source), misses.length, total);
      // a report's only record, when empty, reads as none
      if (raws.length < misses.length) queue.length = 0;
      else
        for (let at = 0; at < raws.length; at++) {
          const place = this.missAt[at]!;
          const holes = queue[place] as Holes | null;
          queue[place] = holes === null ? raws[at] : new KeyedRecord(raws[at], holes);
        }
      this.misses = [];
      this.missAt = [];
    }
    this.take(queue);
  }
}

/** Record texts as one document for the parser. */
function batchOf(texts: readonly string[]): string {
  return stripBetweenTags(`<batch>${texts.join('')}</batch>`);
}

/** The records of spans[start, end) as one document for the parser. */
function batchText(text: string, spans: readonly number[], start: number, end: number): string {
  let batch = '<batch>';
  for (let at = start; at < end; at += 2) batch += text.slice(spans[at], spans[at + 1]);
  return stripBetweenTags(`${batch}</batch>`);
}

// whitespace between tags is dropped by the parser's trimming anyway, but it reads it character by
// character; kept where comments, instructions or CDATA could make it part of a value
function stripBetweenTags(batch: string): string {
  return batch.includes('<!') || batch.includes('<?') ? batch : batch.replace(betweenTags, '><');
}

/**
 * For the parse benchmark: fast-xml-parser's own work on a report's frame and record batches, as
 * parseAggregateXml hands them over, without anything done with its output (the floor of this
 * design). The number of records; -1 where the scan cannot split the document.
 */
export function parseBatchesOnly(text: string): number {
  const scan = scanRecords(text);
  if (scan.kind !== 'split') return -1;
  parsePiece(scan.frame, '');
  for (let start = 0; start < scan.spans.length; start += RECORD_BATCH * 2)
    parsePiece(batchText(text, scan.spans, start, Math.min(scan.spans.length, start + RECORD_BATCH * 2)), '');
  return scan.spans.length / 2;
}

const betweenTags = />\s+</g;

/** The records of one parsed batch, each shaped as in the whole document's tree. */
function recordsOf(parsed: Ordered, expected: number, total: number): unknown[] {
  const batch = parsed.length === 1 ? parsed[0]!.batch : undefined;
  if (!Array.isArray(batch)) throw new ShapeProblem('record');
  const records: unknown[] = [];
  for (const child of batch as Ordered) {
    const children = child.record;
    if (!Array.isArray(children)) throw new ShapeProblem('record');
    records.push(shapedElement(children as Ordered));
  }
  // every span is one element: anything else means the scan and the parser disagree
  if (records.length !== expected) throw new ShapeProblem('record');
  // a report's only record, when empty, reads as no record (as the whole tree's lone '' does)
  return total === 1 && records[0] === '' ? [] : records;
}

/**
 * An element's children in document order to the object the parser itself would make of them with
 * these options (no attributes, no arrays forced): repeated names become arrays, text is joined,
 * an element holding only text becomes that text and an empty one ''. Null-prototype objects, in
 * dictionary mode: their one hidden class outlives a full GC, where the shapes V8 builds for objects
 * grown key by key die with the last such object, and with them the optimized code of this shaping
 * and of the record builder (recompiled for every report read after a GC, which costs more than the
 * slower key lookups: 11 % of the CPU time of reading large-example.com after a GC).
 */
function compact(children: Ordered): Node {
  const out = Object.create(null) as Node;
  let keys = 0;
  let text: unknown;
  for (const child of children) {
    // with attributes ignored, each child holds its name or '#text' as its only key (read without
    // Object.keys, which makes an array for every element)
    let property: string | undefined;
    for (property in child) break;
    if (property === '#text') {
      text = text === undefined ? child[property] : String(text) + String(child[property]);
    } else if (property !== undefined && property !== ':@' && child[property]) {
      const value = shapedElement(child[property] as Ordered);
      const existing = out[property];
      if (existing !== undefined) {
        if (Array.isArray(existing)) existing.push(value);
        else out[property] = [existing, value];
      } else {
        out[property] = value;
        keys++;
      }
    }
  }
  if (typeof text === 'string') {
    if (text.length > 0) {
      out['#text'] = text;
      keys++;
    }
  } else if (text !== undefined) {
    out['#text'] = text;
    keys++;
  }
  compactKeys = keys;
  return out;
}

// how many keys the object `compact` returned last has (counting them again costs as much)
let compactKeys = 0;

/**
 * An element's value from its children as its parent holds it (what `shaped(compact(...))` gives):
 * a leaf's one text child is taken as it is, without building an object around it first.
 */
function shapedElement(inner: Ordered): unknown {
  if (inner.length === 0) return '';
  if (inner.length === 1) {
    const only = inner[0]!['#text'];
    if (only !== undefined) return only;
  }
  return shaped(compact(inner), compactKeys);
}

/** An element's object as its parent holds it: only text is the text, nothing is ''. */
function shaped(element: Node, keys: number): unknown {
  if (keys === 0) return '';
  if (keys === 1 && element['#text'] !== undefined) return element['#text'];
  return element;
}

function parsePiece(text: string, source: string): Ordered {
  try {
    return (text.includes('&') ? pieceParser : plainPieceParser).parse(text) as Ordered;
  } catch (error) {
    throw notWellFormed(error, source);
  }
}

function notWellFormed(error: unknown, source: string): ReportReadError {
  return new ReportReadError(
    'bad-xml',
    source,
    `not well-formed XML (${error instanceof Error ? error.message : String(error)})`,
    { cause: error },
  );
}

function parse(text: string, source: string): Node {
  try {
    return wholeParser.parse(text) as Node;
  } catch (error) {
    throw notWellFormed(error, source);
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

function convert(
  tree: Node,
  context: Context,
  repairs: readonly string[],
  pump?: RecordPump,
): AggregateReport | ShapeProblem {
  const { source } = context;
  const feedback = findFeedback(tree);
  if (!feedback) {
    const root = Object.keys(tree)[0];
    throw new ReportReadError(
      'not-a-report',
      source,
      root ? `XML root element is <${root}>, not a DMARC <feedback> report` : 'XML holds no element',
    );
  }
  const notes = new Notes(repairs);
  try {
    return buildReport(feedback, notes, context, pump);
  } catch (error) {
    if (error instanceof ShapeProblem) return error;
    throw error;
  }
}

/** The report's notes, capped: past the cap only a count of the rest is kept. */
class Notes {
  readonly list: string[];
  private dropped = 0;
  /** notes pushed, kept or not */
  written = 0;
  constructor(initial: readonly string[]) {
    this.list = [...initial];
  }
  push(note: string): void {
    this.written++;
    if (this.list.length < MAX_NOTES) this.list.push(note);
    else this.dropped++;
  }
  done(): string[] {
    if (this.dropped > 0) this.list.push(`and ${this.dropped} more note(s) not kept`);
    return this.list;
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

function buildReport(feedback: Node, notes: Notes, context: Context, pump: RecordPump | undefined): AggregateReport {
  const head = reportHead(feedback, notes, context);
  const builder = new RecordBuilder(head.policy, notes);
  const records: AggregateRecord[] = [];
  builder.take(asArray(feedback.record), records);
  pump?.((batch) => builder.take(batch, records));
  builder.finish();
  return assembleReport(head, reportTail(feedback, notes), records, notes);
}

/** What a report says before its records: who sent it, for when, and the policy. */
interface ReportHead {
  orgName: string;
  orgEmail: string | null;
  reportId: string;
  begin: string;
  end: string;
  policy: PolicyPublished;
}

function reportHead(feedback: Node, notes: Notes, context: Context): ReportHead {
  const { source } = context;
  const metadata = node(feedback.report_metadata, 'report_metadata');
  const published = node(feedback.policy_published, 'policy_published');
  const range = node(metadata.date_range, 'date_range');

  const reportId = identifier(text(metadata.report_id, 'report_id'), 'report_id', MAX_NAME_LENGTH, source);
  if (!reportId) throw new ShapeProblem('report_id', 'no <report_id>');
  const begin = epochToIso(text(range.begin, 'begin'), 'begin', context);
  const end = epochToIso(text(range.end, 'end'), 'end', context);
  const domain = identifier(
    text(published.domain, 'policy_published/domain')?.toLowerCase() ?? null,
    'policy_published/domain',
    MAX_DOMAIN_LENGTH,
    source,
  );
  if (!domain) throw new ShapeProblem('domain', 'no <policy_published><domain>');

  const orgEmail = identifier(cleanEmail(text(metadata.email, 'email')), 'email', MAX_NAME_LENGTH, source);
  let orgName = identifier(text(metadata.org_name, 'org_name'), 'org_name', MAX_NAME_LENGTH, source);
  if (!orgName) {
    orgName = emailDomain(orgEmail) ?? 'unknown';
    notes.push(`empty org_name; used "${orgName}"`);
  }
  for (const reported of asArray(metadata.error)) {
    const message = typeof reported === 'string' ? cleanText(reported) : '';
    if (message) notes.push(`reporter: ${freeText(message, 'error', notes)}`);
  }
  if (published['#text'] !== undefined)
    notes.push(
      `ignored stray text in policy_published: "${freeText(cleanText(String(published['#text'])), 'text', notes)}"`,
    );

  const pct = safeInteger(text(published.pct, 'pct'));
  const policy: PolicyPublished = {
    domain,
    p: word(published.p, 'p', notes),
    sp: word(published.sp, 'sp', notes),
    np: word(published.np, 'np', notes),
    pct: pct !== null && pct <= 100 ? pct : null,
    adkim: word(published.adkim, 'adkim', notes),
    aspf: word(published.aspf, 'aspf', notes),
    fo: word(published.fo, 'fo', notes, false),
    testing: word(published.testing, 'testing', notes),
    discoveryMethod: word(published.discovery_method, 'discovery_method', notes),
  };

  return { orgName, orgEmail, reportId, begin, end, policy };
}

/** The records of a report, built batch by batch; notes for the skipped ones. */
class RecordBuilder {
  private readonly orgDomains = new Map<string, string>();
  private readonly shared = new Map<string, string>();
  private skippedEmptyReasons = 0;
  /** records seen, skipped ones included */
  index = 0;

  constructor(
    private readonly policy: PolicyPublished,
    private readonly notes: Notes,
  ) {}

  /** Parse trees of records, and from a RecordFeed memo hits and keyed trees. */
  take(rawRecords: unknown[], out: AggregateRecord[]): void {
    for (let at = 0; at < rawRecords.length; at++) {
      let raw = rawRecords[at];
      // Let the parse tree go record by record, so a huge report does not hold two copies at once.
      rawRecords[at] = undefined;
      this.index++;
      if (raw instanceof MemoHit) {
        this.takeHit(raw, out);
        continue;
      }
      let holes: Holes | null = null;
      if (raw instanceof KeyedRecord) {
        holes = raw.holes;
        raw = raw.tree;
      }
      const notesBefore = this.notes.written;
      const record = buildRecord(raw, this.policy, this.orgDomains, this.notes, this.shared);
      if (typeof record === 'string') {
        this.notes.push(`record ${this.index} skipped: ${record}`);
        if (holes !== null) holes.key.state ??= false;
      } else {
        this.skippedEmptyReasons += record.emptyReasons;
        out.push(record.record);
        if (holes !== null) holes.key.state ??= this.template(record, holes, notesBefore) ?? false;
      }
    }
  }

  /**
   * What a built record leaves for the records of its key: nothing when its build wrote a note
   * (a hit would not write it), or when its IP and count are not those of its holes.
   */
  private template(
    built: { record: AggregateRecord; emptyReasons: number },
    holes: Holes,
    notesBefore: number,
  ): Template | null {
    if (this.notes.written !== notesBefore) return null;
    const own = sourceAndCount(holes);
    if (typeof own === 'string' || own.sourceIp !== built.record.sourceIp || own.count !== built.record.count)
      return null;
    return { record: recordFrom(built.record, own.sourceIp, own.count), emptyReasons: built.emptyReasons };
  }

  /** A record of a known key: its IP and count checked as buildRecord checks them. */
  private takeHit(hit: MemoHit, out: AggregateRecord[]): void {
    const own = sourceAndCount(hit);
    if (typeof own === 'string') {
      this.notes.push(`record ${this.index} skipped: ${own}`);
      return;
    }
    this.skippedEmptyReasons += hit.template.emptyReasons;
    out.push(recordFrom(hit.template.record, own.sourceIp, own.count));
  }

  finish(): void {
    if (this.skippedEmptyReasons > 0) this.notes.push(`ignored ${this.skippedEmptyReasons} empty <reason> element(s)`);
  }
}

/** What a report says besides its head and records; read after the records (for the order of notes). */
/** The report from its head, its tail and its records; the notes end here. */
function assembleReport(
  head: ReportHead,
  tail: Pick<AggregateReport, 'version' | 'extraContactInfo' | 'generator'>,
  records: AggregateRecord[],
  notes: Notes,
): AggregateReport {
  return {
    kind: 'aggregate',
    version: tail.version,
    orgName: head.orgName,
    orgEmail: head.orgEmail,
    extraContactInfo: tail.extraContactInfo,
    reportId: head.reportId,
    begin: head.begin,
    end: head.end,
    generator: tail.generator,
    policy: head.policy,
    records,
    errors: notes.done(),
  };
}

function reportTail(feedback: Node, notes: Notes): Pick<AggregateReport, 'version' | 'extraContactInfo' | 'generator'> {
  const version = word(feedback.version, 'version', notes, false);
  const metadata = node(feedback.report_metadata, 'report_metadata');
  const extraContactInfo = optionalFreeText(
    text(metadata.extra_contact_info, 'extra_contact_info'),
    'extra_contact_info',
    notes,
  );
  const generator = optionalFreeText(text(metadata.generator, 'generator'), 'generator', notes);
  return { version, extraContactInfo, generator };
}

function buildRecord(
  raw: unknown,
  policy: PolicyPublished,
  orgDomains: Map<string, string>,
  notes: Notes,
  shared: Map<string, string>,
): { record: AggregateRecord; emptyReasons: number } | string {
  const record = node(raw, 'record');
  const row = node(record.row, 'row');
  const evaluated = node(row.policy_evaluated, 'policy_evaluated');
  const identifiers = node(record.identifiers, 'identifiers');
  const auth = node(record.auth_results, 'auth_results');

  // the count is read only once the IP is (a broken <count> does not matter for a skipped record)
  const sourceIp = checkedIp(text(row.source_ip, 'source_ip'));
  if (sourceIp instanceof Skip) return sourceIp.why;
  const count = checkedCount(text(row.count, 'count'), sourceIp);
  if (count instanceof Skip) return count.why;

  const reasons: PolicyOverrideReason[] = [];
  let emptyReasons = 0;
  for (const rawReason of asArray(evaluated.reason)) {
    const reason = node(rawReason, 'reason');
    const type = shareOrNull(word(reason.type, 'reason/type', notes), shared);
    const comment = optionalFreeText(text(reason.comment, 'reason/comment'), 'reason/comment', notes);
    if (type) reasons.push({ type, comment });
    else if (comment) reasons.push({ type: 'other', comment });
    else emptyReasons++;
  }

  const dkim: DkimAuthResult[] = [];
  for (const rawDkim of asArray(auth.dkim)) {
    const signature = node(rawDkim, 'auth_results/dkim');
    const result: DkimAuthResult = {
      domain: shareOrNull(lowerText(signature.domain, 'dkim/domain'), shared) ?? '',
      selector: shareOrNull(text(signature.selector, 'dkim/selector'), shared),
      result: shareOrNull(word(signature.result, 'dkim/result', notes), shared) ?? 'none',
    };
    if (result.domain.length > MAX_DOMAIN_LENGTH) return tooLong('dkim/domain', MAX_DOMAIN_LENGTH);
    if ((result.selector?.length ?? 0) > MAX_NAME_LENGTH) return tooLong('dkim/selector', MAX_NAME_LENGTH);
    const human = optionalFreeText(text(signature.human_result, 'dkim/human_result'), 'dkim/human_result', notes);
    if (human) result.humanResult = human;
    dkim.push(result);
  }
  const spf: SpfAuthResult[] = [];
  for (const rawSpf of asArray(auth.spf)) {
    const check = node(rawSpf, 'auth_results/spf');
    const checked: SpfAuthResult = {
      domain: shareOrNull(lowerText(check.domain, 'spf/domain'), shared) ?? '',
      scope: shareOrNull(word(check.scope, 'spf/scope', notes), shared),
      result: shareOrNull(word(check.result, 'spf/result', notes), shared) ?? 'none',
    };
    if (checked.domain.length > MAX_DOMAIN_LENGTH) return tooLong('spf/domain', MAX_DOMAIN_LENGTH);
    spf.push(checked);
  }

  const headerFrom = shareOrNull(lowerText(identifiers.header_from, 'header_from'), shared) ?? '';
  const envelopeFrom = shareOrNull(lowerText(identifiers.envelope_from, 'envelope_from'), shared);
  const envelopeTo = shareOrNull(lowerText(identifiers.envelope_to, 'envelope_to'), shared);
  if (headerFrom.length > MAX_DOMAIN_LENGTH) return tooLong('header_from', MAX_DOMAIN_LENGTH);
  if ((envelopeFrom?.length ?? 0) > MAX_DOMAIN_LENGTH) return tooLong('envelope_from', MAX_DOMAIN_LENGTH);
  if ((envelopeTo?.length ?? 0) > MAX_DOMAIN_LENGTH) return tooLong('envelope_to', MAX_DOMAIN_LENGTH);
  const evaluatedDkim = shareOrNull(word(evaluated.dkim, 'policy_evaluated/dkim', notes), shared) ?? 'none';
  const evaluatedSpf = shareOrNull(word(evaluated.spf, 'policy_evaluated/spf', notes), shared) ?? 'none';

  return {
    emptyReasons,
    record: {
      sourceIp,
      count,
      disposition: shareOrNull(word(evaluated.disposition, 'disposition', notes), shared) ?? 'none',
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

/** Why a record is skipped. */
class Skip {
  constructor(readonly why: string) {}
}

/** A record's source IP as the model holds it. */
function checkedIp(rawIp: string | null): string | Skip {
  if (!rawIp) return new Skip('no <source_ip>');
  return normalizeIp(rawIp) ?? new Skip(`<source_ip> ${quote(rawIp)} is not an IP address`);
}

/** A record's message count. */
function checkedCount(rawCount: string | null, sourceIp: string): number | Skip {
  return (
    safeInteger(rawCount) ??
    new Skip(`<count> ${quote(rawCount ?? '')} for ${sourceIp} is not a whole number up to 2^53`)
  );
}

/** A record's IP and count from the texts of its holes, checked as buildRecord checks them. */
function sourceAndCount(holes: { sourceIp: string; count: string }): { sourceIp: string; count: number } | string {
  const sourceIp = checkedIp(holes.sourceIp);
  if (sourceIp instanceof Skip) return sourceIp.why;
  const count = checkedCount(holes.count, sourceIp);
  if (count instanceof Skip) return count.why;
  return { sourceIp, count };
}

function shareOrNull(value: string | null, shared: Map<string, string>): string | null {
  return value === null ? null : sharedValue(value, shared);
}

/** The one copy of a value the report already holds, so that its records share it. */
function sharedValue(value: string, shared: Map<string, string>): string {
  const known = shared.get(value);
  if (known !== undefined) return known;
  if (shared.size < MAX_SHARED_VALUES) shared.set(value, value);
  return value;
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
  if (typeof value === 'string') {
    const clean = cleanText(value);
    return clean === '' ? null : clean;
  }
  if (value === undefined) return null;
  if (Array.isArray(value)) return text(value[0], where);
  throw new ShapeProblem(where);
}

/** A text-only element in lower case (domains); absent or empty is null. */
function lowerText(value: unknown, where: string): string | null {
  return text(value, where)?.toLowerCase() ?? null;
}

/**
 * A keyword-like value (result, policy, scope), lower case unless `lowerCase` is false; over-long
 * ones are cut with a note, since no honest report writes a 255-character word.
 */
function word(value: unknown, where: string, notes: Notes, lowerCase = true): string | null {
  const found = text(value, where);
  if (found === null) return null;
  return freeText(lowerCase ? found.toLowerCase() : found, where, notes);
}

function freeText(value: string, where: string, notes: Notes): string {
  if (value.length <= MAX_FREE_TEXT_LENGTH) return value;
  notes.push(`cut <${where}> from ${value.length} to ${MAX_FREE_TEXT_LENGTH} characters`);
  return value.slice(0, MAX_FREE_TEXT_LENGTH);
}

function optionalFreeText(value: string | null, where: string, notes: Notes): string | null {
  return value === null ? null : freeText(value, where, notes);
}

/** A value that identifies the report (and keys it in the store): too long refuses the report. */
function identifier(value: string | null, where: string, max: number, source: string): string | null {
  if (value !== null && value.length > max)
    throw new ReportReadError(
      'field-too-long',
      source,
      `<${where}> is ${value.length} characters long, more than the limit of ${max}`,
    );
  return value;
}

function tooLong(where: string, max: number): string {
  return `<${where}> longer than ${max} characters`;
}

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

/** The UTC year of an instant, also past the largest Date (8.64e15 ms) where it can only be estimated. */
function yearOf(ms: number): number {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? Math.floor(ms / 31_556_952_000) + 1970 : date.getUTCFullYear();
}

function epochToIso(value: string | null, where: string, context: Context): string {
  const seconds = safeInteger(value);
  if (seconds === null) throw new ShapeProblem(where, `no readable <date_range><${where}> (${quote(value ?? '')})`);
  const ms = seconds * 1000;
  const problem = instantProblem(ms, context.now);
  if (problem) {
    // milliseconds in a seconds field (a real sender bug) give years past 9999
    const shown = ms > 253402300799999 ? `year ${yearOf(ms)}` : new Date(ms).toISOString();
    throw new ReportReadError(
      'bad-date',
      context.source,
      `<date_range><${where}> ${seconds} is ${shown}, outside the window reports can come from (${describeWindow(context.now)})`,
    );
  }
  return new Date(ms).toISOString();
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

// ---- Reading as a stream -------------------------------------------------------------------
// The same report from the XML's bytes as they arrive: the record scan is fed chunk by chunk, the
// frame before the first record gives the policy the records are built against, and the built
// records go to a sink batch by batch. What is held is the frame and one batch, never the text or
// the records of the whole report. Whatever this path cannot vouch for ends it with `null`, and
// the caller reads the whole input with parseAggregateXml instead: the outcome is always the one
// the whole read gives.

/** Where a streamed read puts a report's records, batch by batch, in document order. */
export interface RecordSink {
  add(records: readonly AggregateRecord[]): void;
}

/**
 * Opens the sink for a report's records; `head` is the report without records (its `version`,
 * `extraContactInfo`, `generator` and `errors` are only known at the end).
 */
export type OpenRecordSink<S extends RecordSink = RecordSink> = (head: AggregateReport) => S;

export interface StreamedAggregate<S extends RecordSink = RecordSink> {
  /** the report with `records` empty: they went to the sink */
  report: AggregateReport;
  /** records handed to the sink */
  records: number;
  sink: S;
}

/**
 * Reads an aggregate report from its UTF-8 bytes, chunk by chunk. Null when the whole read must
 * decide: another encoding, invalid UTF-8, a document the scan cannot split, a record the batch
 * read refuses, a frame that changes after the records began, or any error (the whole read names
 * it the same way).
 */
export async function parseAggregateChunks<S extends RecordSink>(
  chunks: AsyncIterable<Uint8Array>,
  source: string,
  options: AggregateOptions,
  openSink: OpenRecordSink<S>,
): Promise<StreamedAggregate<S> | null> {
  const context: Context = { source, now: options.now ?? new Date() };
  try {
    return await streamReport(chunks, context, openSink, options.recordMemo === false ? null : new RecordMemo());
  } catch (error) {
    if (error instanceof ShapeProblem || error instanceof ReportReadError || error instanceof TypeError) return null;
    throw error;
  }
}

const ENTITY = '<!ENTITY';
// Records per batch when streaming. What is alive when the young generation is collected is
// promoted, and with the bot's 4 MB semi-space a batch of 50 records in flight is: measured on
// 100k records (npm start flags), 340 MB of short-lived objects went to the old generation at 50
// and 21 MB at 20, peak RSS 142 against 110 MB, and less CPU time; at 25 it was as bad as at 50.
const STREAM_RECORD_BATCH = 20;

async function streamReport<S extends RecordSink>(
  chunks: AsyncIterable<Uint8Array>,
  context: Context,
  openSink: OpenRecordSink<S>,
  memo: RecordMemo | null,
): Promise<StreamedAggregate<S> | null> {
  // fatal: invalid bytes (the whole read notes their repair) end this path with a TypeError
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const scanner = new RecordScanner();
  const notes = new Notes([]);
  // set in the callbacks below, so typed by assertion (control flow would keep it null)
  let started = null as {
    head: ReportHead;
    headNotes: string;
    builder: RecordBuilder;
    sink: S;
    feed: RecordFeed;
  } | null;
  let sent = 0;
  let carry = '';
  let first = true;
  const out: AggregateRecord[] = [];

  const start = (frame: string) => {
    const feedback = findFeedback(compact(parsePiece(frame, context.source)));
    if (!feedback) return null;
    const head = reportHead(feedback, notes, context);
    const sink = openSink({
      kind: 'aggregate',
      version: null,
      orgName: head.orgName,
      orgEmail: head.orgEmail,
      extraContactInfo: null,
      reportId: head.reportId,
      begin: head.begin,
      end: head.end,
      generator: null,
      policy: head.policy,
      records: [],
      errors: [],
    });
    const builder = new RecordBuilder(head.policy, notes);
    // memo hits make a feed's batch longer than its parsed records: the sink still gets batches
    const feed = new RecordFeed(memo, context.source, STREAM_RECORD_BATCH, (batch) => {
      for (let from = 0; from < batch.length; from += STREAM_RECORD_BATCH) {
        out.length = 0;
        builder.take(batch.length <= STREAM_RECORD_BATCH ? batch : batch.slice(from, from + STREAM_RECORD_BATCH), out);
        sent += out.length;
        if (out.length > 0) sink.add(out);
      }
    });
    return { head, headNotes: JSON.stringify(notes.list), builder, sink, feed };
  };
  /** Hands the records cut so far to the feed; while the count is not known, once there are two. */
  const feed = (total: number) => {
    if (!started) return;
    for (const text of scanner.takeRecords()) started.feed.push(text, total);
  };
  /** Scans the next text; false when the whole read must decide. */
  const scanned = (text: string): boolean => {
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // the whole read refuses entity declarations wherever they stand (comments included)
    if ((carry + text.slice(0, ENTITY.length)).includes(ENTITY) || text.includes(ENTITY)) return false;
    carry = text.slice(-(ENTITY.length - 1));
    if (scanner.push(text).kind !== 'split') return false;
    if (!started && scanner.firstRecordFrame !== null) started = start(scanner.firstRecordFrame);
    return started !== null || scanner.firstRecordFrame === null;
  };

  let sniffed = false;
  for await (const chunk of withHead(chunks, 200)) {
    if (!sniffed) {
      // the whole read honours a declared encoding; only UTF-8 (and its ASCII subset) streams
      const declared = /encoding\s*=\s*["']([\w.:-]+)["']/i
        .exec(Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.byteLength, 200)).toString('latin1'))?.[1]
        ?.toLowerCase();
      if (declared && declared !== 'utf-8' && declared !== 'utf8' && declared !== 'us-ascii') return null;
      sniffed = true;
    }
    if (!scanned(decoder.decode(chunk, { stream: true }))) return null;
    // the feed hands a batch on at two records at the least: a report's only record, when empty,
    // reads as none, which only the count at the end tells
    feed(Number.POSITIVE_INFINITY);
  }
  const last = decoder.decode();
  if (last.length > 0 && !scanned(last)) return null;
  if (scanner.end().kind !== 'split') return null;
  feed(scanner.count);
  started?.feed.flush(scanner.count);

  // the frame in full must say what its part before the records said, or those records are not
  // the ones the whole read builds
  const feedback = findFeedback(compact(parsePiece(scanner.frame(), context.source)));
  if (!feedback) return null;
  if (started) {
    const again = new Notes([]);
    const head = reportHead(feedback, again, context);
    if (JSON.stringify(head) !== JSON.stringify(started.head) || JSON.stringify(again.list) !== started.headNotes)
      return null;
  } else {
    started = start(scanner.frame());
    if (!started) return null;
  }
  out.length = 0;
  started.builder.take(asArray(feedback.record), out);
  if (out.length > 0) return null; // records the scan did not cut: the whole read decides
  started.builder.finish();
  const report = assembleReport(started.head, reportTail(feedback, notes), [], notes);
  return { report, records: sent, sink: started.sink };
}

/** The chunks, the first at least `bytes` long (or all there is). */
async function* withHead(chunks: AsyncIterable<Uint8Array>, bytes: number): AsyncGenerator<Uint8Array> {
  let head: Uint8Array[] | null = [];
  let size = 0;
  for await (const chunk of chunks) {
    if (head === null) {
      yield chunk;
      continue;
    }
    head.push(chunk);
    size += chunk.byteLength;
    if (size >= bytes) {
      yield head.length === 1 ? chunk : Buffer.concat(head);
      head = null;
    }
  }
  if (head !== null && size > 0) yield Buffer.concat(head);
}
