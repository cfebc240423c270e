// The report reader: raw bytes of a file or mail in, every report found out, and a named error for
// every part that held none or was refused. One bad part never hides the good ones next to it.

import type { Report } from '../model.ts';
import { parseAggregateXml } from './aggregate.ts';
import { gunzipCapped, unzipCapped } from './containers.ts';
import { ReportReadError, partSource, type ReadErrorCode } from './errors.ts';
import { decodeUnicodeBom } from './encoding.ts';
import type { PartOutcome } from './mail.ts';
import { defaultMimeLimits } from './mime.ts';
import { sniff, type ContentKind } from './sniff.ts';
import { parseJsonReport } from './tls.ts';

export { ReportReadError, type ReadErrorCode } from './errors.ts';
export { parseAggregateXml } from './aggregate.ts';
export { parseJsonReport } from './tls.ts';
export { computeAlignment, isAligned, organizationalDomain } from './alignment.ts';
export { sniff, type ContentKind } from './sniff.ts';

export interface ReadOptions {
  /** names the input in errors: a path, `path#3` for a message in an mbox, an IMAP uid */
  source: string;
  /** cap on decompressed bytes per attachment or file; default 64 MiB */
  maxBytes?: number;
  /** most entries a zip may hold; default 100 */
  maxZipEntries?: number;
  /** most MIME parts a mail may hold; default 100 */
  maxMimeParts?: number;
  /** deepest MIME nesting (multiparts, attached messages); default 8 */
  maxMimeDepth?: number;
  /** largest header block of a mail or a part; default 64 KiB */
  maxHeaderBytes?: number;
  /** the clock dates are checked against; default the current time */
  now?: Date;
  /** parse aggregate XML as one tree, never as a frame and record batches (slower; for checks) */
  wholeDocumentXml?: boolean;
}

export interface ReadOutcome {
  reports: Report[];
  errors: ReportReadError[];
}

export const defaultMaxBytes = 64 * 1024 * 1024;
export const defaultMaxZipEntries = 100;
// mail > zip > gzip > xml is three; anything deeper is a trick, not a report
const maxNesting = 6;

export async function readReports(bytes: Uint8Array, options: ReadOptions): Promise<ReadOutcome> {
  const limits = {
    maxBytes: options.maxBytes ?? defaultMaxBytes,
    maxEntries: options.maxZipEntries ?? defaultMaxZipEntries,
  };
  const now = options.now ?? new Date();
  const xmlOptions = { now, wholeDocument: options.wholeDocumentXml === true };
  const mailOptions = {
    now,
    mime: {
      maxParts: options.maxMimeParts ?? defaultMimeLimits.maxParts,
      maxDepth: options.maxMimeDepth ?? defaultMimeLimits.maxDepth,
      maxHeaderBytes: options.maxHeaderBytes ?? defaultMimeLimits.maxHeaderBytes,
    },
  };
  const readPart = async (part: Uint8Array, source: string, depth: number): Promise<PartOutcome> => {
    try {
      return await readOne(part, source, depth);
    } catch (error) {
      if (error instanceof ReportReadError) return { reports: [], errors: [error] };
      // A library failing in a way we did not foresee must not stop the batch: name it and go on.
      const message = error instanceof Error ? error.message : String(error);
      return {
        reports: [],
        errors: [
          new ReportReadError(
            unexpectedCodes[sniff(part)],
            source,
            `unexpected failure while reading it (${message})`,
            { cause: error },
          ),
        ],
      };
    }
  };

  const readOne = async (part: Uint8Array, source: string, depth: number): Promise<PartOutcome> => {
    if (depth > maxNesting)
      throw new ReportReadError('too-deep', source, `containers nested more than ${maxNesting} deep`);
    // the cap holds for what is read, not only for what is inflated: a plain 70 MB XML is refused too
    // (a mail may be a third larger: base64 carries 3 bytes in 4)
    const cap = sniff(part) === 'mail' ? Math.floor(limits.maxBytes * 1.4) : limits.maxBytes;
    if (part.length > cap)
      throw new ReportReadError('too-large', source, `${part.length} bytes, over the cap of ${cap} bytes`);
    const decoded = decodeUnicodeBom(part);
    if (decoded !== null) return readText(decoded, source);
    const kind = sniff(part);
    switch (kind) {
      case 'empty':
        throw new ReportReadError(
          'empty',
          source,
          part.length === 0 ? 'empty input (0 bytes)' : 'input holds only whitespace',
        );
      case 'gzip':
        return readPart(await gunzipCapped(part, source, limits.maxBytes), source, depth + 1);
      case 'zip': {
        const { entries, errors } = await unzipCapped(part, source, limits);
        const outcome: PartOutcome = { reports: [], errors };
        for (const entry of entries) {
          const inner = await readPart(entry.bytes, partSource(source, entry.name), depth + 1);
          outcome.reports.push(...inner.reports);
          outcome.errors.push(...inner.errors);
        }
        if (entries.length === 0 && errors.length === 0)
          outcome.errors.push(new ReportReadError('not-a-report', source, 'zip archive holds no files'));
        return outcome;
      }
      case 'xml':
        return { reports: [parseAggregateXml(part, source, xmlOptions)], errors: [] };
      case 'json':
        return {
          reports: [
            parseJsonReport(Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('utf8'), source, {
              now,
            }),
          ],
          errors: [],
        };
      case 'mail': {
        // mailparser and its dependencies cost more to load than a small XML report costs to read
        const { readMail } = await import('./mail.ts');
        return readMail(part, source, (inner, innerSource) => readPart(inner, innerSource, depth + 1), mailOptions);
      }
      case 'unknown':
        throw new ReportReadError(
          'not-a-report',
          source,
          `not a report: neither XML, JSON, gzip, zip nor a mail message (starts with ${JSON.stringify(preview(part))})`,
        );
    }
  };

  /** A UTF-16/32 input, decoded: only XML and JSON reports are written that way. */
  const readText = (text: string, source: string): PartOutcome => {
    const start = text.trimStart()[0];
    if (start === '<') return { reports: [parseAggregateXml(text, source, xmlOptions)], errors: [] };
    if (start === '{' || start === '[') return { reports: [parseJsonReport(text, source, { now })], errors: [] };
    throw new ReportReadError('not-a-report', source, 'UTF-16/32 text that is neither XML nor JSON');
  };

  return readPart(bytes, options.source, 0);
}

const unexpectedCodes: Record<ContentKind, ReadErrorCode> = {
  empty: 'empty',
  gzip: 'bad-gzip',
  zip: 'bad-zip',
  xml: 'bad-xml',
  json: 'bad-json',
  mail: 'bad-mail',
  unknown: 'not-a-report',
};

function preview(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 16)).toString('latin1');
}
