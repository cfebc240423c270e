// The records of one report mostly differ only in their source IP and message count. A record's
// text with the values of its <source_ip> and <count> cut out is its key; a record whose key was
// seen before in the same report is built from the record built for that key, with its own IP and
// count, instead of being parsed again. A value is cut out only when nothing in its text can mean
// anything to the parser (a strict alphabet: no '<', '&', white space or controls), so the value the
// parser would give (no tag value parsing, trimmed, entities decoded) is the text itself, and the
// element is the record's only one of that name, so it is the one the record's fields are read from.
// Everything else in the record must match character for character.

import type { AggregateRecord, Alignment, DkimAuthResult, SpfAuthResult } from '../model.ts';
import { ownString } from '../text/own-string.ts';
import { isSpace } from './record-scan.ts';

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

/** A key: a record's text before, between and after its holes (own flat strings), and what it stands for. */
export class MemoKey {
  /** null until the key's first record is built; false when that record could not be a template */
  state: Template | false | null = null;

  constructor(
    readonly prefix: string,
    readonly middle: string,
    readonly suffix: string,
    readonly ipFirst: boolean,
  ) {}
}

/**
 * The memo of one report, never shared between reports. `locate` finds a record's holes; `find`
 * and `add` then look up or add its key. A key is only added after the checks that make its holes
 * the record's IP and count; a record that matches a key outside its holes passes the same checks,
 * since its holes hold no '<', no letter of a tag name and no '!' or '?'.
 */
export class RecordMemo {
  // keys by the length of their text, for a lookup without building the key
  private readonly byLength = new Map<number, MemoKey[]>();
  private size = 0;
  /** record texts offered, and those built from a template */
  records = 0;
  hits = 0;
  // the holes of the record last located: offsets into its text
  private ipFrom = 0;
  private ipTo = 0;
  private countFrom = 0;
  private countTo = 0;

  /** Finds the holes of a record's text; false when it has none that can be cut out. */
  locate(text: string): boolean {
    if (text.length > MAX_KEY_CHARS) return false;
    const ipOpen = text.indexOf(IP_OPEN);
    if (ipOpen === -1) return false;
    const ipFrom = ipOpen + IP_OPEN.length;
    const ipTo = valueEnd(text, ipFrom, MAX_IP_CHARS, isIpChar);
    if (ipTo === -1 || !text.startsWith(IP_CLOSE, ipTo)) return false;
    // mostly after the IP; wherever it is, a key's record has only one
    let countOpen = text.indexOf(COUNT_OPEN, ipTo);
    if (countOpen === -1) countOpen = text.indexOf(COUNT_OPEN);
    if (countOpen === -1) return false;
    const countFrom = countOpen + COUNT_OPEN.length;
    const countTo = valueEnd(text, countFrom, MAX_COUNT_CHARS, isDigit);
    if (countTo === -1 || !text.startsWith(COUNT_CLOSE, countTo)) return false;
    this.ipFrom = ipFrom;
    this.ipTo = ipTo;
    this.countFrom = countFrom;
    this.countTo = countTo;
    return true;
  }

  /** The key of the record last located, when the memo holds it. */
  find(text: string): MemoKey | undefined {
    const { ipFrom, ipTo, countFrom, countTo } = this;
    const list = this.byLength.get(text.length - (ipTo - ipFrom) - (countTo - countFrom));
    if (list === undefined) return undefined;
    const ipFirst = ipFrom < countFrom;
    const firstFrom = ipFirst ? ipFrom : countFrom;
    const firstTo = ipFirst ? ipTo : countTo;
    const secondFrom = ipFirst ? countFrom : ipFrom;
    const secondTo = ipFirst ? countTo : ipTo;
    for (let at = 0; at < list.length; at++) {
      const key = list[at]!;
      if (
        key.ipFirst === ipFirst &&
        key.prefix.length === firstFrom &&
        key.middle.length === secondFrom - firstTo &&
        // slices compared as strings (a memory compare), not startsWith (a loop over the characters)
        text.slice(secondTo) === key.suffix &&
        text.slice(firstTo, secondFrom) === key.middle &&
        text.slice(0, firstFrom) === key.prefix
      ) {
        // the keys met most are found first
        if (at > 0) [list[0], list[at]] = [key, list[0]!];
        return key;
      }
    }
    return undefined;
  }

  /**
   * A new key for the record last located; null when its holes may not be its IP and count (another
   * element of that name, a comment, CDATA section or instruction), or when the memo is full.
   */
  add(text: string): MemoKey | null {
    if (this.size >= MAX_KEYS) return null;
    const { ipFrom, ipTo, countFrom, countTo } = this;
    if (text.includes('<!') || text.includes('<?')) return null;
    if (!onlyElement(text, 'source_ip', ipFrom - IP_OPEN.length, ipTo)) return null;
    if (!onlyElement(text, 'count', countFrom - COUNT_OPEN.length, countTo)) return null;
    const ipFirst = ipFrom < countFrom;
    const key = ipFirst
      ? new MemoKey(
          ownString(text.slice(0, ipFrom)),
          ownString(text.slice(ipTo, countFrom)),
          ownString(text.slice(countTo)),
          true,
        )
      : new MemoKey(
          ownString(text.slice(0, countFrom)),
          ownString(text.slice(countTo, ipFrom)),
          ownString(text.slice(ipTo)),
          false,
        );
    const length = key.prefix.length + key.middle.length + key.suffix.length;
    const list = this.byLength.get(length);
    if (list) list.push(key);
    else this.byLength.set(length, [key]);
    this.size++;
    return key;
  }

  /** The text of the last located record's <source_ip>. */
  sourceIp(text: string): string {
    return text.slice(this.ipFrom, this.ipTo);
  }

  /** The text of the last located record's <count>. */
  count(text: string): string {
    return text.slice(this.countFrom, this.countTo);
  }
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

/**
 * A fresh copy of a built record with its own IP and count: nothing is shared between records.
 * Field by field, in the order buildRecord writes them (the differential test compares every field).
 */
export function recordFrom(t: AggregateRecord, sourceIp: string, count: number): AggregateRecord {
  const alignment: Alignment = { dkim: t.alignment.dkim, spf: t.alignment.spf };
  if (t.alignment.dkimUnalignedPass) alignment.dkimUnalignedPass = [...t.alignment.dkimUnalignedPass];
  if (t.alignment.spfUnalignedPass) alignment.spfUnalignedPass = [...t.alignment.spfUnalignedPass];
  return {
    sourceIp,
    count,
    disposition: t.disposition,
    evaluated: { dkim: t.evaluated.dkim, spf: t.evaluated.spf },
    dmarc: t.dmarc,
    identifiers: {
      headerFrom: t.identifiers.headerFrom,
      envelopeFrom: t.identifiers.envelopeFrom,
      envelopeTo: t.identifiers.envelopeTo,
    },
    reasons: t.reasons.map((reason) => ({ type: reason.type, comment: reason.comment })),
    authResults: { dkim: t.authResults.dkim.map(copyDkim), spf: t.authResults.spf.map(copySpf) },
    alignment,
  };
}

function copyDkim(signature: DkimAuthResult): DkimAuthResult {
  const copy: DkimAuthResult = { domain: signature.domain, selector: signature.selector, result: signature.result };
  if (signature.humanResult !== undefined) copy.humanResult = signature.humanResult;
  return copy;
}

function copySpf(check: SpfAuthResult): SpfAuthResult {
  return { domain: check.domain, scope: check.scope, result: check.result };
}
