// Cuts an aggregate report's XML into its frame (everything but the records) and the spans of its
// <record> elements, so that fast-xml-parser can parse the frame and then the records in batches:
// memory follows a batch, not the report. The scan does not interpret the XML, it only counts tags
// the way fast-xml-parser nests them, so that each cut record is exactly the subtree the parser
// would build in a parse of the whole document. It steps over comments, CDATA sections and
// processing instructions, over quoted attribute values, and reads namespace prefixes, attributes
// and whitespace in the record tag. Whatever it cannot vouch for (a DOCTYPE, a record closed by
// another tag, two feedback elements, nesting near the parser's limit) makes it answer `unsure`,
// and the caller parses the whole document instead.

export type RecordScan =
  /** the frame's text and the records as [start, end) offsets into the input, in document order */
  | { kind: 'split'; frame: string; spans: number[] }
  /** the scan cannot vouch for a split: parse the whole document */
  | { kind: 'unsure'; why: string }
  /** a record, comment, CDATA section or instruction is never closed: the XML is broken */
  | { kind: 'broken' };

// fast-xml-parser refuses nesting past 100; a batch is one level shallower than the document for a
// report wrapped in another element, so near the limit the whole document decides
const MAX_SCAN_DEPTH = 90;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const DASH = 0x2d;
const BRACKET = 0x5b;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;

export function scanRecords(text: string): RecordScan {
  const spans: number[] = [];
  const frame: string[] = [];
  const scanner = new Scanner(
    (from, to) => frame.push(text.slice(from, to)),
    (from, to) => spans.push(from, to),
  );
  scanner.text = text;
  const outcome = scanner.scan(true);
  if (outcome !== null) return outcome;
  return { kind: 'split', frame: frame.join(''), spans };
}

/** What a chunked scan has found so far or, once ended, in all. */
export type ChunkScan = { kind: 'split' } | { kind: 'unsure'; why: string } | { kind: 'broken' };

/**
 * The scan of scanRecords, fed the text chunk by chunk: it holds the frame and the text from the
 * record being cut on, never the records behind it. Records come out as their text (take them with
 * `takeRecords`) and the frame at the end; the cut is the one scanRecords makes of the whole text.
 */
export class RecordScanner {
  private readonly frameText = new FrameText();
  private records: string[] = [];
  private readonly scanner: Scanner;
  private outcome: ChunkScan = { kind: 'split' };
  private ended = false;
  /** the frame before the first record, with its open elements closed; null until a record is cut */
  firstRecordFrame: string | null = null;
  /** records cut so far */
  count = 0;

  constructor() {
    this.scanner = new Scanner(
      (from, to) => this.frameText.add(this.scanner.text.slice(from, to)),
      (from, to) => {
        if (this.firstRecordFrame === null) this.firstRecordFrame = this.frameText.text() + this.scanner.closers();
        this.frameText.record();
        this.records.push(this.scanner.text.slice(from, to));
        this.count++;
      },
    );
  }

  /** Scans a chunk; what it reports stays once it is no longer a split. */
  push(chunk: string): ChunkScan {
    if (this.outcome.kind !== 'split' || this.ended) return this.outcome;
    const scanner = this.scanner;
    scanner.text += chunk;
    const outcome = scanner.scan(false);
    if (outcome !== null) return (this.outcome = outcome);
    scanner.trim();
    return this.outcome;
  }

  /** The end of the text: what the whole scan says of it. */
  end(): ChunkScan {
    if (this.outcome.kind !== 'split' || this.ended) return this.outcome;
    this.ended = true;
    const outcome = this.scanner.scan(true);
    if (outcome !== null) return (this.outcome = outcome);
    this.scanner.flushFrame();
    return this.outcome;
  }

  /** The records cut and not taken yet, in document order: all of them, or the first `most`. */
  takeRecords(most = Number.POSITIVE_INFINITY): string[] {
    if (this.records.length <= most) {
      const taken = this.records;
      this.records = [];
      return taken;
    }
    return this.records.splice(0, most);
  }

  /** Records cut and not taken yet. */
  get pending(): number {
    return this.records.length;
  }

  /** The frame: the whole text without its records (complete once `end` says split). */
  frame(): string {
    return this.frameText.text();
  }
}

// gaps a frame keeps before they are joined into one string
const FRAME_GAPS = 64;
const blank = /^[ \t\r\n]*$/;

/**
 * The frame's text as it is handed out, piece by piece. Between every two records lies a gap (the
 * indentation, mostly the same few characters): kept as pieces, 100k records left 100k small
 * strings (3 MB) alive until the end of the read, and a piece of 13 characters or more is a slice
 * that keeps its whole chunk of text alive. So a gap equal to the one before is counted, not kept
 * again, and the gaps are joined into one flat string (which lets go of the chunks) every 64. A
 * blank gap after a blank one is dropped: fast-xml-parser reads text character by character
 * (the 300 KB of indentation between 100k records cost 10 MB to parse) and trims what lies between
 * tags; text of the feedback element itself is no field of a report.
 */
class FrameText {
  private parts: string[] = [];
  // the gap after the last record cut (null before the first record)
  private gap: string | null = null;
  private last: string | null = null;
  private repeats = 0;

  add(piece: string): void {
    if (this.gap !== null) this.gap += piece;
    else if (this.parts.push(piece) > FRAME_GAPS) this.parts = [this.parts.join('')];
  }

  /** A record was cut: the gap before it is complete. */
  record(): void {
    const gap = this.gap;
    this.gap = '';
    if (gap === null) return;
    if (this.last !== null && blank.test(gap) && blank.test(this.last)) return;
    if (gap === this.last) {
      this.repeats++;
      return;
    }
    this.commit();
    this.last = gap;
    this.repeats = 1;
  }

  text(): string {
    this.commit();
    if (this.gap) this.parts.push(this.gap);
    this.gap = this.gap === null ? null : '';
    return this.parts.length === 1 ? this.parts[0]! : (this.parts = [this.parts.join('')])[0]!;
  }

  private commit(): void {
    if (this.last === null) return;
    this.parts.push(this.repeats === 1 ? this.last : this.last.repeat(this.repeats));
    this.last = null;
    this.repeats = 0;
    if (this.parts.length > FRAME_GAPS) this.parts = [this.parts.join('')];
  }
}

/**
 * The scan itself, over `text` from where it stopped last. With `final` false, a construct that is
 * not complete yet stops the scan to wait for more text; with `final` true it is broken. Returns
 * null while the text may still be a split.
 */
class Scanner {
  // One scanner lives as long as the class: V8 keeps a class's hidden class, and the optimized scan
  // that depends on it, only while an instance is alive, so without it every read after a full GC
  // (the reader's worker idles between reports) recompiled the scan.
  static readonly shapeKeeper = new Scanner(
    () => undefined,
    () => undefined,
  );
  text = '';
  // where the scan goes on, and the frame text not handed out yet starts (offsets into `text`)
  private at = 0;
  private copied = 0;
  // open elements, counted as fast-xml-parser counts them (a closing tag closes the innermost one)
  private depth = 0;
  private maxDepth = 0;
  // depth of the feedback element's children while it is open, else -1
  private recordDepth = -1;
  private feedbacks = 0;
  private recordStart = -1;
  // next quote characters, searched again only once passed: tags without attributes stay cheap
  private nextDouble = -1;
  private nextSingle = -1;
  // the names of the open elements at depth 0 and 1, as written (for `closers`)
  private readonly openNames: string[] = [];

  constructor(
    private readonly onFrame: (from: number, to: number) => void,
    private readonly onRecord: (from: number, to: number) => void,
  ) {}

  /** Closing tags for the elements open outside the records (the wrapper and feedback). */
  closers(): string {
    let out = '';
    for (let level = Math.min(this.depth, 2) - 1; level >= 0; level--) out += `</${this.openNames[level] ?? ''}>`;
    return out;
  }

  /** Drops the text already handed out; the record being cut, if any, stays. */
  trim(): void {
    if (this.recordStart < 0) this.flushFrame();
    const keep = this.recordStart >= 0 ? Math.min(this.recordStart, this.copied) : this.copied;
    if (keep === 0) return;
    this.text = this.text.slice(keep);
    this.at -= keep;
    this.copied -= keep;
    if (this.recordStart >= 0) this.recordStart -= keep;
    this.nextDouble = this.nextDouble >= 0 ? this.nextDouble - keep : -1;
    this.nextSingle = this.nextSingle >= 0 ? this.nextSingle - keep : -1;
  }

  /** Hands out the frame text up to where the scan is. */
  flushFrame(): void {
    const to = Math.min(this.at, this.text.length);
    if (this.recordStart < 0 && to > this.copied) {
      this.onFrame(this.copied, to);
      this.copied = to;
    }
  }

  scan(final: boolean): RecordScan | null {
    const text = this.text;
    const length = text.length;
    // more text may follow: what is not found yet may still come
    const wait = (at: number): null => {
      this.at = at;
      return null;
    };
    if (!final) {
      // a quote not found in this text may come in the next chunk
      if (this.nextDouble === -2) this.nextDouble = -1;
      if (this.nextSingle === -2) this.nextSingle = -1;
    }
    let at = this.at;
    for (at = text.indexOf('<', at); at !== -1; at = text.indexOf('<', at)) {
      // enough text to tell a comment, CDATA section or closing tag from the rest
      if (!final && at + 4 > length) return wait(at);
      const next = text.charCodeAt(at + 1);
      if (next === SLASH) {
        const close = text.indexOf('>', at);
        if (close === -1) return final ? { kind: 'broken' } : wait(at);
        if (this.depth === 0) return { kind: 'unsure', why: 'a closing tag without an open element' };
        this.depth--;
        if (this.recordStart >= 0 && this.depth === this.recordDepth) {
          if (localName(text.slice(at + 2, close).trim()) !== 'record')
            return { kind: 'unsure', why: 'a record closed by another tag' };
          if (this.recordStart > this.copied) this.onFrame(this.copied, this.recordStart);
          this.onRecord(this.recordStart, close + 1);
          this.copied = close + 1;
          this.recordStart = -1;
        } else if (this.depth === this.recordDepth - 1) this.recordDepth = -1;
        at = close + 1;
        continue;
      }
      if (next === QUESTION) {
        const close = quotedEnd(text, at + 1, '?>');
        if (close === -1) return final ? { kind: 'broken' } : wait(at);
        at = close + 2;
        continue;
      }
      if (next === BANG) {
        if (text.charCodeAt(at + 2) === DASH && text.charCodeAt(at + 3) === DASH) {
          const close = text.indexOf('-->', at + 4);
          if (close === -1) return final ? { kind: 'broken' } : wait(at);
          at = close + 3;
          continue;
        }
        if (text.charCodeAt(at + 2) === BRACKET) {
          const close = text.indexOf(']]>', at);
          if (close === -1) return final ? { kind: 'broken' } : wait(at);
          at = close + 3;
          continue;
        }
        return { kind: 'unsure', why: 'a DOCTYPE or other declaration' };
      }

      // an opening or self-closing tag; '>' inside a quoted attribute value does not end it
      let close = text.indexOf('>', at);
      if (close === -1) return final ? { kind: 'broken' } : wait(at);
      if (this.nextDouble !== -2 && this.nextDouble < at) this.nextDouble = indexOrNone(text, '"', at);
      if (this.nextSingle !== -2 && this.nextSingle < at) this.nextSingle = indexOrNone(text, "'", at);
      if ((this.nextDouble >= 0 && this.nextDouble < close) || (this.nextSingle >= 0 && this.nextSingle < close)) {
        close = quotedEnd(text, at + 1, '>');
        if (close === -1) return final ? { kind: 'broken' } : wait(at);
      }
      const selfClosing = text.charCodeAt(close - 1) === SLASH && close - 1 > at;
      const depth = this.depth;
      if (depth <= 1 || depth === this.recordDepth) {
        const name = tagName(text, at + 1, close, selfClosing);
        if (depth === this.recordDepth && this.recordStart < 0 && name === 'record') {
          if (selfClosing) {
            if (at > this.copied) this.onFrame(this.copied, at);
            this.onRecord(at, close + 1);
            this.copied = close + 1;
          } else this.recordStart = at;
        } else if (depth <= 1 && name === 'feedback' && !selfClosing) {
          if (++this.feedbacks > 1) return { kind: 'unsure', why: 'more than one feedback element' };
          this.recordDepth = depth + 1;
        }
        if (depth <= 1 && !selfClosing) this.openNames[depth] = rawName(text, at + 1, close);
      }
      if (!selfClosing) {
        this.depth++;
        if (this.depth > this.maxDepth) {
          this.maxDepth = this.depth;
          if (this.maxDepth > MAX_SCAN_DEPTH) return { kind: 'unsure', why: 'nested deeper than the scan follows' };
        }
      }
      at = close + 1;
      if (at >= length) break;
    }
    if (!final) return wait(at === -1 ? length : at);
    if (this.recordStart >= 0) return { kind: 'broken' };
    this.at = length;
    if (length > this.copied) this.onFrame(this.copied, length);
    this.copied = length;
    return null;
  }
}

/** A tag's name as written, prefix included. */
function rawName(text: string, from: number, close: number): string {
  let end = from;
  while (end < close && !isSpace(text.charCodeAt(end)) && text.charCodeAt(end) !== SLASH) end++;
  return text.slice(from, end);
}

function indexOrNone(text: string, char: string, from: number): number {
  const found = text.indexOf(char, from);
  // -2: none left in the text, never search again
  return found === -1 ? -2 : found;
}

/** Where `end` closes a tag that starts at `from`, stepping over quoted values; -1 when never. */
function quotedEnd(text: string, from: number, end: string): number {
  const first = end.charCodeAt(0);
  for (let at = from; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === DOUBLE_QUOTE || code === SINGLE_QUOTE) {
      at = text.indexOf(text[at]!, at + 1);
      if (at === -1) return -1;
    } else if (code === first && (end.length === 1 || text.startsWith(end, at))) return at;
  }
  return -1;
}

/** The tag's name without its namespace prefix, as fast-xml-parser names it. */
function tagName(text: string, from: number, close: number, selfClosing: boolean): string {
  let end = from;
  while (end < close && !isSpace(text.charCodeAt(end))) end++;
  let name = text.slice(from, end);
  if (selfClosing && end === close) name = name.slice(0, -1);
  return localName(name);
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

// what /\s/ matches: the separator between a tag's name and its attributes
export function isSpace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
