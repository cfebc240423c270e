// Small mail builders for the ingest tests: corpus files as mails (an .eml as it is, any other
// file as an attachment), distinct aggregate reports made from one corpus report, and mail
// without any report.

import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { gzipBytes, reportMail } from '../../src/generate/mail.ts';

/** The real-world corpus kept in the repository (test/fixtures/corpus). */
export const CORPUS = join(import.meta.dirname, '../fixtures/corpus');

export function corpusBytes(relativePath: string): Buffer {
  return readFileSync(join(CORPUS, relativePath));
}

const headers = (subject: string, id: string) => ({
  from: 'noreply-dmarc@reporter.example',
  to: 'dmarc@example.com',
  subject,
  date: new Date(Date.UTC(2026, 10, 1, 12, 0, 0)),
  messageId: `<${id}@reporter.example>`,
});

/** A corpus file as a mail: .eml files as they are, others attached as octet-stream (the reader sniffs bytes). */
export function corpusMail(relativePath: string): Buffer {
  const bytes = corpusBytes(relativePath);
  if (relativePath.endsWith('.eml')) return bytes;
  const name = basename(relativePath);
  return reportMail(
    [{ filename: name, contentType: 'application/octet-stream', content: bytes }],
    headers(`Report ${name}`, `corpus-${name.replace(/[^A-Za-z0-9]/g, '')}`),
  );
}

const NICE = 'extract_report/nice-input.xml';

/**
 * The n-th of a family of distinct aggregate reports: the corpus' nice-input.xml with its own
 * report id, so each one is new to the store. gzip'd every other time (two containers in play).
 */
export function distinctAggregateXml(n: number): Buffer {
  const xml = corpusBytes(NICE)
    .toString('utf8')
    .replace(/<report_id>[^<]*<\/report_id>/, `<report_id>test-${n}</report_id>`);
  return Buffer.from(xml, 'utf8');
}

export function distinctAggregateMail(n: number): Buffer {
  const xml = distinctAggregateXml(n);
  const attachment =
    n % 2 === 0
      ? {
          filename: `google.com!example.com!1718236800!1718323199!test-${n}.xml`,
          contentType: 'text/xml',
          content: xml,
        }
      : {
          filename: `google.com!example.com!1718236800!1718323199!test-${n}.xml.gz`,
          contentType: 'application/gzip',
          content: gzipBytes(xml),
        };
  return reportMail([attachment], headers(`Report Domain: example.com Report-ID: test-${n}`, `distinct-${n}`));
}

/** A mail that holds no report at all. */
export function mailWithoutReport(subject = 'Lunch on Friday?'): Buffer {
  return Buffer.from(
    [
      'From: colleague@example.com',
      'To: dmarc@example.com',
      `Subject: ${subject}`,
      'Date: Sun, 01 Nov 2026 12:00:00 +0000',
      'Message-ID: <no-report@example.com>',
      'Content-Type: text/plain; charset=UTF-8',
      '',
      'Shall we meet at noon?',
      '',
    ].join('\r\n'),
  );
}

/** A connected client for arranging and inspecting a test mailbox. */
export async function testClient(
  server: { host: string; port: number },
  account: { user: string; password: string },
): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: server.host,
    port: server.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: account.user, pass: account.password },
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Message counts per mailbox path. */
export async function mailboxCounts(client: ImapFlow): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const box of await client.list({ statusQuery: { messages: true } })) {
    if (box.status?.messages !== undefined) counts[box.path] = box.status.messages;
  }
  return counts;
}
