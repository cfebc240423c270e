// The records of one report mostly differ only in their source IP and message count. A record's
// text with the values of its <source_ip> and <count> cut out is its key; a record whose key was
// seen before in the same report is built from the record built for that key, with its own IP and
// count, instead of being parsed again. A value is cut out only when nothing in its text can mean
// anything to the parser (a strict alphabet: no '<', '&', white space or controls), so the value the
// parser would give (no tag value parsing, trimmed, entities decoded) is the text itself, and the
// element is the record's only one of that name, so it is the one the record's fields are read from.
// Everything else in the record must match character for character.

import type { AggregateRecord } from '../model.ts';

/** A record's key and the texts of its holes. */
export interface Holes {
  key: string;
  sourceIp: string;
  count: string;
}

/** What a key stands for: the record built for it, and the empty <reason> elements it had. */
export interface Template {
  record: AggregateRecord;
  emptyReasons: number;
}

// Longer records are parsed as they are: a key is held for the whole report.
const MAX_KEY_CHARS = 4096;
// Keys a report remembers (templates and keys found unfit for one).
const MAX_KEYS = 256;
// an IPv6 address with an embedded IPv4 one is at most 45 characters
const MAX_IP_CHARS = 45;
// 15 digits stay below 2^53, so the count is never refused for its size
const MAX_COUNT_CHARS = 15;

const IP_OPEN = '<source_ip>';
const IP_CLOSE = '</source_ip>';
const COUNT_OPEN = '<count>';
const COUNT_CLOSE = '</count>';
const LESS_THAN = 0x3c;
const SLASH = 0x2f;
const COLON = 0x3a;

/** The memo of one report: never shared between reports. */
export class RecordMemo {
  private readonly known = new Map<string, Template | false>();
  /** record texts offered, and those built from a template */
  records = 0;
  hits = 0;

  /** The template of a key; false when a record with that key could not be one; undefined when unknown. */
  get(key: string): Template | false | undefined {
    return this.known.get(key);
  }

  /** Whether a new key can still be remembered. */
  get room(): boolean {
    return this.known.size < MAX_KEYS;
  }

  /** Remembers what a record with these holes was built to (null when it cannot be a template). */
  learn(key: string, template: Template | null): void {
    if (this.known.has(key) || !this.room) return;
    this.known.set(key, template ?? false);
  }
}

/** The holes of a record's text and its key; null when the record must be parsed as it is. */
export function recordHoles(text: string): Holes | null {
  if (text.length > MAX_KEY_CHARS) return null;
  // a hole's tag text inside a comment, CDATA section or instruction would not be an element
  if (text.includes('<!') || text.includes('<?')) return null;
  const ipOpen = text.indexOf(IP_OPEN);
  if (ipOpen === -1) return null;
  const ipFrom = ipOpen + IP_OPEN.length;
  const ipTo = valueEnd(text, ipFrom, MAX_IP_CHARS, isIpChar);
  if (ipTo === -1 || !text.startsWith(IP_CLOSE, ipTo) || !onlyElement(text, 'source_ip', ipOpen, ipTo)) return null;
  const countOpen = text.indexOf(COUNT_OPEN);
  if (countOpen === -1) return null;
  const countFrom = countOpen + COUNT_OPEN.length;
  const countTo = valueEnd(text, countFrom, MAX_COUNT_CHARS, isDigit);
  if (countTo === -1 || !text.startsWith(COUNT_CLOSE, countTo) || !onlyElement(text, 'count', countOpen, countTo))
    return null;
  const key =
    ipFrom < countFrom
      ? text.slice(0, ipFrom) + text.slice(ipTo, countFrom) + text.slice(countTo)
      : text.slice(0, countFrom) + text.slice(countTo, ipFrom) + text.slice(ipTo);
  return { key, sourceIp: text.slice(ipFrom, ipTo), count: text.slice(countFrom, countTo) };
}

/** Where a value of 1 to `most` characters of the alphabet ends (at a '<'); -1 when it does not. */
function valueEnd(text: string, from: number, most: number, allowed: (code: number) => boolean): number {
  const last = Math.min(text.length, from + most + 1);
  for (let at = from; at < last; at++) {
    const code = text.charCodeAt(at);
    if (code === LESS_THAN) return at > from ? at : -1;
    if (!allowed(code)) return -1;
  }
  return -1;
}

/**
 * Whether the only place `name` can be an element's name (after '<', '/' or a namespace prefix's
 * ':', or after white space, as an attribute) is the opening tag at `open` and the closing tag at
 * `close`. Stricter than the parser: a value such as "a/count" makes the record parsed as it is.
 */
function onlyElement(text: string, name: string, open: number, close: number): boolean {
  for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + name.length)) {
    if (at === open + 1 || at === close + 2) continue;
    const before = text.charCodeAt(at - 1);
    if (before === LESS_THAN || before === SLASH || before === COLON || isSpace(before)) return false;
  }
  return true;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

// digits, a-f, A-F, '.' and ':'
function isIpChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x3a) || (code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46) || code === 0x2e
  );
}

// anything the parser or a regular expression may count as white space, as the record scan reads it
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

/** A fresh copy of a built record with its own IP and count: nothing is shared between records. */
export function recordFrom(template: AggregateRecord, sourceIp: string, count: number): AggregateRecord {
  const record = copy(template) as AggregateRecord;
  record.sourceIp = sourceIp;
  record.count = count;
  return record;
}

/** A deep copy of plain data (objects, arrays, primitives), keys in the same order. */
function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copy);
  const out: Record<string, unknown> = {};
  for (const key in value as Record<string, unknown>) out[key] = copy((value as Record<string, unknown>)[key]);
  return out;
}
