// The attachments of a plain report mail without mailparser: a multipart/mixed of leaf parts,
// the attachments base64. Nearly every aggregate report mail has this shape, and mailparser's full
// parse (streams, charset conversion, every header decoded) costs more than reading the report.
// The walk is strict: anything it does not understand exactly as mailparser does (nested parts,
// attached messages, comments, encoded or RFC 2231 names, other encodings, loose delimiter lines,
// a part that looks like a feedback report) makes it give up, and the mail gets the full parse.
// Linear in the mail's size: one pass over the lines, no backtracking patterns.

import { looksLikeFeedbackReport } from './failure.ts';

/** One attachment as mailparser would hand it over. */
export interface SimpleAttachment {
  /** the part's name (Content-Disposition filename, else Content-Type name), or null */
  filename: string | null;
  /**
   * the declared type (for a named application/octet-stream part mailparser guesses a type from
   * the name; the reader goes by the name then, and the names it would read as messages are refused)
   */
  contentType: string;
  /** the part's position among the mail's parts, counted from 1 (IMAP style, as mailparser) */
  partId: string;
  content: Buffer;
}

interface Field {
  value: string;
  params: Map<string, string>;
}

// RFC 2046 boundary characters; ASCII and not ending in a space
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;
const PARAMETER = /;[ \t]*([A-Za-z0-9!#$%&'+.^_`|~-]+)[ \t]*=[ \t]*(?:"([^"\\\r\n]*)"|([^\s;"\\()<>@,:[\]{}]+))[ \t]*/y;
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+:/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const LINE_BREAKS = /\r?\n/g;
// extensions mailparser reads an application/octet-stream attachment as an attached message by
const MESSAGE_EXTENSIONS = new Set(['eml', 'mht', 'mhtml', 'nws', 'mime']);
const TEXT_TYPES = new Set(['text/plain', 'text/html']);
const CONTENT_FIELDS = new Set(['content-type', 'content-transfer-encoding', 'content-disposition']);

/**
 * The mail's attachments in order, exactly as mailparser's simpleParser lists them, or null when
 * the mail is not of the simple shape (then only the full parse may read it).
 */
export function simpleAttachments(raw: Buffer): SimpleAttachment[] | null {
  const text = raw.toString('latin1');
  const top = headerBlock(text, 0, text.length);
  if (!top) return null;
  const type = top.get('content-type');
  if (!type || type.value !== 'multipart/mixed') return null;
  const encoding = top.get('content-transfer-encoding')?.value;
  if (encoding !== undefined && encoding !== '7bit' && encoding !== '8bit' && encoding !== 'binary') return null;
  const boundary = type.params.get('boundary');
  if (boundary === undefined || !BOUNDARY.test(boundary)) return null;

  const delimiter = `--${boundary}`;
  const attachments: SimpleAttachment[] = [];
  let partStart = -1;
  let parts = 0;
  let closed = false;
  for (let start = top.end; start < text.length;) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const next = newline < 0 ? text.length : newline + 1;
    if (text.startsWith(delimiter, start)) {
      const rest = text.slice(start + delimiter.length, end).replace(/\r$/, '');
      if (rest !== '' && rest !== '--') return null;
      if (partStart >= 0) {
        // the line break before a delimiter belongs to the delimiter
        const partEnd = start >= 2 && text[start - 2] === '\r' ? start - 2 : Math.max(partStart, start - 1);
        parts++;
        const part = readPart(text, partStart, partEnd, parts);
        if (part === null) return null;
        if (part !== 'text') attachments.push(part);
      }
      if (rest === '--') {
        closed = true;
        break;
      }
      partStart = next;
    }
    start = next;
  }
  return closed ? attachments : null;
}

/** One part: an attachment, 'text' for a body text part, or null when it is not simple. */
function readPart(text: string, start: number, end: number, position: number): SimpleAttachment | 'text' | null {
  const fields = headerBlock(text, start, end);
  if (!fields) return null;
  const type = fields.get('content-type');
  if (!type || !MEDIA_TYPE.test(type.value)) return null;
  const contentType = type.value;
  if (contentType.startsWith('multipart/') || contentType.startsWith('message/')) return null;
  const disposition = fields.get('content-disposition');
  const dispositionValue = disposition?.value ?? '';
  if (dispositionValue !== '' && dispositionValue !== 'attachment' && dispositionValue !== 'inline') return null;
  if (TEXT_TYPES.has(contentType) && dispositionValue !== 'attachment') return 'text';

  if (fields.get('content-transfer-encoding')?.value !== 'base64') return null;
  const filename = disposition?.params.get('filename') || type.params.get('name') || null;
  if (filename !== null && (filename.includes('=?') || filename !== filename.trim())) return null;
  if (contentType === 'application/octet-stream' && filename !== null) {
    const extension = filename.toLowerCase().replace(/\s/g, '').split('.').pop() ?? '';
    if (MESSAGE_EXTENSIONS.has(extension)) return null;
  }
  const base64 = text.slice(fields.end, Math.max(fields.end, end)).replace(LINE_BREAKS, '');
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) return null;
  const content = Buffer.from(base64, 'base64');
  if (looksLikeFeedbackReport(content.subarray(0, 200).toString('latin1'))) return null;
  return { filename, contentType, partId: String(position), content };
}

/**
 * The Content-* fields of the header block at `start` and where its body begins; null when the
 * block is malformed, has no end before `end`, names a Content-* field twice or writes one in a
 * form this walk does not read.
 */
function headerBlock(text: string, start: number, end: number): (Map<string, Field> & { end: number }) | null {
  const fields = new Map<string, Field>() as Map<string, Field> & { end: number };
  let current: { name: string; value: string } | null = null;
  const finish = (): boolean => {
    if (current === null || !CONTENT_FIELDS.has(current.name)) return true;
    if (fields.has(current.name)) return false;
    const parsed = parseField(current.value);
    if (!parsed) return false;
    fields.set(current.name, parsed);
    return true;
  };
  for (let at = start; at < end;) {
    const newline = text.indexOf('\n', at);
    if (newline < 0 || newline >= end) return null;
    const line = text.slice(at, text[newline - 1] === '\r' ? newline - 1 : newline);
    at = newline + 1;
    if (line === '') {
      if (!finish()) return null;
      fields.end = at;
      return fields;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (current === null) return null;
      current.value += ` ${line.trim()}`;
      continue;
    }
    if (!FIELD_NAME.test(line)) return null;
    if (!finish()) return null;
    const colon = line.indexOf(':');
    current = { name: line.slice(0, colon).toLowerCase(), value: line.slice(colon + 1).trim() };
  }
  return null;
}

/** `value; name=token; name="quoted"`, strictly; null for comments, escapes, RFC 2231 or encoded words. */
function parseField(raw: string): Field | null {
  if (raw.includes('(') || raw.includes('=?')) return null;
  const semicolon = raw.indexOf(';');
  const value = (semicolon < 0 ? raw : raw.slice(0, semicolon)).trim().toLowerCase();
  const params = new Map<string, string>();
  if (semicolon >= 0) {
    let at = semicolon;
    while (at < raw.length) {
      PARAMETER.lastIndex = at;
      const match = PARAMETER.exec(raw);
      if (!match) {
        // a trailing `;` is harmless; anything else is not read here
        if (raw.slice(at).trim() === ';') break;
        return null;
      }
      const name = match[1]!.toLowerCase();
      if (name.includes('*') || params.has(name)) return null;
      params.set(name, match[2] ?? match[3]!);
      at = PARAMETER.lastIndex;
    }
  }
  return { value, params };
}
