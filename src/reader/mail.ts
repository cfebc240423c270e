// RFC 5322 mail: find every report a message carries. Attachments go back through content detection
// (a zip labelled octet-stream is still a zip); ARF and Exim failure reports are read from their parts.

import type { Attachment, ParsedMail, simpleParser as SimpleParser } from 'mailparser';
import type { Report } from '../model.ts';
import { ReportReadError, partSource } from './errors.ts';
import { checkMimeBounds, type MimeLimits } from './mime.ts';
import { simpleAttachments } from './mail-simple.ts';
import {
  eximHeaderCopy,
  failureFromArf,
  failureFromEximText,
  looksLikeEximFailure,
  looksLikeFeedbackReport,
  type OriginalHeaders,
} from './failure.ts';

export interface PartOutcome {
  reports: Report[];
  errors: ReportReadError[];
}

export type ReadPart = (bytes: Uint8Array, source: string) => Promise<PartOutcome>;

/** mailparser as the reader runs it (tests hold the one-pass walk to this). */
export const parserOptions = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipImageLinks: true,
  skipTextLinks: true,
  keepDeliveryStatus: true,
  checksumAlgo: false,
} as const;

// Parts that carry the reported message of a failure report, not a report of their own.
const originalMessageTypes = new Set(['message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers']);

export interface MailOptions {
  mime: MimeLimits;
  now: Date;
  /** always take mailparser's full parse, never the plain-mail walk (tests compare the two) */
  fullParse?: boolean;
}

// mailparser is loaded on the first mail the plain-mail walk cannot read
let parser: Promise<typeof SimpleParser> | null = null;
function simpleParser(...args: Parameters<typeof SimpleParser>): ReturnType<typeof SimpleParser> {
  parser ??= import('mailparser').then((module) => module.simpleParser);
  return parser.then((parse) => parse(...args));
}

export async function readMail(
  bytes: Uint8Array,
  source: string,
  readPart: ReadPart,
  options: MailOptions,
): Promise<PartOutcome> {
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const message = stripMboxFromLine(raw);
  checkMimeBounds(message, source, options.mime);
  // The plain multipart of base64 attachments most reports come in: read without mailparser. A
  // mail it finds no report in gets the full parse (which names what is wrong with it).
  const simple = options.fullParse ? null : simpleAttachments(message);
  if (simple && simple.length > 0) {
    const outcome: PartOutcome = { reports: [], errors: [] };
    const done = new Map<string, { content: Buffer; outcome: PartOutcome }>();
    for (const part of simple) {
      const partName = partSource(source, part.filename ?? `part ${part.partId} (${part.contentType})`);
      const read = await readPart(part.content, partName);
      done.set(partName, { content: part.content, outcome: read });
      outcome.reports.push(...read.reports);
      outcome.errors.push(...read.errors);
    }
    if (outcome.reports.length > 0) return outcome;
    // the full parse finds the same attachments: what was read already is not read again
    const again = readPart;
    readPart = (bytes, partName) => {
      const known = done.get(partName);
      return known && known.content.equals(bytes) ? Promise.resolve(known.outcome) : again(bytes, partName);
    };
  }
  const mail = await parseMail(message, source);
  const reporter = mail.from?.value[0]?.address ?? null;
  const reports: Report[] = [];
  const errors: ReportReadError[] = [];

  const feedbackParts = mail.attachments.filter(
    (part) =>
      part.contentType === 'message/feedback-report' ||
      looksLikeFeedbackReport(part.content.subarray(0, 200).toString('latin1')),
  );
  if (feedbackParts.length > 0) {
    const original = await originalHeaders(mail.attachments, raw);
    for (const part of feedbackParts)
      reports.push(failureFromArf(part.content.toString('utf8'), original, reporter, options.now));
  }

  let index = 0;
  for (const part of mail.attachments) {
    index++;
    if (feedbackParts.includes(part)) continue;
    if (feedbackParts.length > 0 && originalMessageTypes.has(part.contentType)) continue;
    if (part.contentType === 'message/delivery-status') continue;
    const outcome = await readPart(
      part.content,
      partSource(source, part.filename ?? `part ${part.partId ?? index} (${part.contentType})`),
    );
    reports.push(...outcome.reports);
    errors.push(...outcome.errors);
  }

  const text = mail.text ?? '';
  if (reports.length === 0 && looksLikeEximFailure(text)) {
    const copy = eximHeaderCopy(text);
    reports.push(
      failureFromEximText(text, copy ? await headersOf(Buffer.from(copy, 'utf8')) : null, reporter, options.now),
    );
  }
  if (reports.length === 0 && errors.length === 0) {
    const what =
      mail.attachments.length === 0
        ? 'no attachment and no failure report in the text'
        : 'no report in its attachments';
    errors.push(new ReportReadError('not-a-report', source, `mail "${mail.subject ?? '(no subject)'}" holds ${what}`));
  }
  return { reports, errors };
}

async function parseMail(raw: Buffer, source: string): Promise<ParsedMail> {
  try {
    return await simpleParser(raw, parserOptions);
  } catch (error) {
    throw new ReportReadError(
      'bad-mail',
      source,
      `unreadable mail message (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}

/** An mbox "From " separator line is not a header; mailparser would take it for one. */
function stripMboxFromLine(raw: Buffer): Buffer {
  if (raw.subarray(0, 5).toString('latin1') !== 'From ') return raw;
  const newline = raw.indexOf(0x0a);
  return newline < 0 ? raw : raw.subarray(newline + 1);
}

/**
 * Headers of the reported message: an attached message/rfc822 or text/rfc822-headers part, or,
 * when mailparser inlined a `Content-Disposition: inline` message into the text, that part in the raw mail.
 */
async function originalHeaders(attachments: Attachment[], raw: Buffer): Promise<OriginalHeaders | null> {
  const attached = attachments.find((part) => originalMessageTypes.has(part.contentType));
  if (attached) return headersOf(attached.content);
  const text = raw.toString('latin1');
  const partHeader = /^content-type:[ \t]*(?:message\/rfc822|text\/rfc822-headers)\b/im.exec(text);
  if (!partHeader) return null;
  const bodyStart = /\r?\n\r?\n/g;
  bodyStart.lastIndex = partHeader.index;
  const blank = bodyStart.exec(text);
  if (!blank) return null;
  const start = blank.index + blank[0].length;
  const end = /\r?\n\r?\n/.exec(text.slice(start));
  return headersOf(raw.subarray(start, end ? start + end.index : raw.length));
}

async function headersOf(block: Buffer): Promise<OriginalHeaders | null> {
  try {
    // A copy of headers is a header block: end it with its blank line. Without one, mailparser never
    // settles on a copy that holds `Content-Type: message/rfc822` and `Content-Disposition: inline`.
    const parsed = await simpleParser(Buffer.concat([block, Buffer.from('\r\n\r\n')]), parserOptions);
    const from = parsed.from?.value[0]?.address?.toLowerCase() ?? null;
    const result = { from, subject: parsed.subject ?? null, messageId: parsed.messageId ?? null };
    return result.from || result.subject || result.messageId ? result : null;
  } catch {
    return null;
  }
}
