// The report reader: raw bytes of a file or mail in, every report found out, and a named error for
// every part that held none or was refused. One bad part never hides the good ones next to it.

import type { Report } from '../model.ts';
import { parseAggregateXml } from './aggregate.ts';
import { gunzipCapped, unzipCapped } from './containers.ts';
import { ReportReadError, partSource, type ReadErrorCode } from './errors.ts';
import type { PartOutcome } from './mail.ts';
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
        return { reports: [parseAggregateXml(part, source)], errors: [] };
      case 'json':
        return {
          reports: [
            parseJsonReport(Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('utf8'), source),
          ],
          errors: [],
        };
      case 'mail': {
        // mailparser and its dependencies cost more to load than a small XML report costs to read
        const { readMail } = await import('./mail.ts');
        return readMail(part, source, (inner, innerSource) => readPart(inner, innerSource, depth + 1));
      }
      case 'unknown':
        throw new ReportReadError(
          'not-a-report',
          source,
          `not a report: neither XML, JSON, gzip, zip nor a mail message (starts with ${JSON.stringify(preview(part))})`,
        );
    }
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
