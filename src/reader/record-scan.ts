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
  let copied = 0;
  // open elements, counted as fast-xml-parser counts them (a closing tag closes the innermost one)
  let depth = 0;
  let maxDepth = 0;
  // depth of the feedback element's children while it is open, else -1
  let recordDepth = -1;
  let feedbacks = 0;
  let recordStart = -1;
  // next quote characters, searched again only once passed: tags without attributes stay cheap
  let nextDouble = -1;
  let nextSingle = -1;
  const length = text.length;

  for (let at = text.indexOf('<'); at !== -1; at = text.indexOf('<', at)) {
    const next = text.charCodeAt(at + 1);
    if (next === SLASH) {
      const close = text.indexOf('>', at);
      if (close === -1) return { kind: 'broken' };
      if (depth === 0) return { kind: 'unsure', why: 'a closing tag without an open element' };
      depth--;
      if (recordStart >= 0 && depth === recordDepth) {
        if (localName(text.slice(at + 2, close).trim()) !== 'record')
          return { kind: 'unsure', why: 'a record closed by another tag' };
        frame.push(text.slice(copied, recordStart));
        spans.push(recordStart, close + 1);
        copied = close + 1;
        recordStart = -1;
      } else if (depth === recordDepth - 1) recordDepth = -1;
      at = close + 1;
      continue;
    }
    if (next === QUESTION) {
      const close = quotedEnd(text, at + 1, '?>');
      if (close === -1) return { kind: 'broken' };
      at = close + 2;
      continue;
    }
    if (next === BANG) {
      if (text.charCodeAt(at + 2) === DASH && text.charCodeAt(at + 3) === DASH) {
        const close = text.indexOf('-->', at + 4);
        if (close === -1) return { kind: 'broken' };
        at = close + 3;
        continue;
      }
      if (text.charCodeAt(at + 2) === BRACKET) {
        const close = text.indexOf(']]>', at);
        if (close === -1) return { kind: 'broken' };
        at = close + 3;
        continue;
      }
      return { kind: 'unsure', why: 'a DOCTYPE or other declaration' };
    }

    // an opening or self-closing tag; '>' inside a quoted attribute value does not end it
    let close = text.indexOf('>', at);
    if (close === -1) return { kind: 'broken' };
    if (nextDouble !== -2 && nextDouble < at) nextDouble = indexOrNone(text, '"', at);
    if (nextSingle !== -2 && nextSingle < at) nextSingle = indexOrNone(text, "'", at);
    if ((nextDouble >= 0 && nextDouble < close) || (nextSingle >= 0 && nextSingle < close)) {
      close = quotedEnd(text, at + 1, '>');
      if (close === -1) return { kind: 'broken' };
    }
    const selfClosing = text.charCodeAt(close - 1) === SLASH && close - 1 > at;
    if (depth <= 1 || depth === recordDepth) {
      const name = tagName(text, at + 1, close, selfClosing);
      if (depth === recordDepth && recordStart < 0 && name === 'record') {
        if (selfClosing) {
          frame.push(text.slice(copied, at));
          spans.push(at, close + 1);
          copied = close + 1;
        } else recordStart = at;
      } else if (depth <= 1 && name === 'feedback' && !selfClosing) {
        if (++feedbacks > 1) return { kind: 'unsure', why: 'more than one feedback element' };
        recordDepth = depth + 1;
      }
    }
    if (!selfClosing) {
      depth++;
      if (depth > maxDepth) {
        maxDepth = depth;
        if (maxDepth > MAX_SCAN_DEPTH) return { kind: 'unsure', why: 'nested deeper than the scan follows' };
      }
    }
    at = close + 1;
    if (at >= length) break;
  }
  if (recordStart >= 0) return { kind: 'broken' };
  frame.push(text.slice(copied));
  return { kind: 'split', frame: frame.join(''), spans };
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
function isSpace(code: number): boolean {
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
