// The plain-mail walk (src/reader/mail-simple.ts) against mailparser: wherever the walk reads a
// mail, it must list the very attachments simpleParser lists (name, type, part id, bytes); every
// shape it does not read exactly as mailparser does, it must refuse (the full parse reads those).

import { readdirSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { reportMailBacklog } from '../../src/generate/index.ts';
import { simpleAttachments } from '../../src/reader/mail-simple.ts';
import { readReports } from '../../src/reader/index.ts';
import { parserOptions } from '../../src/reader/mail.ts';
import { CORPUS, corpusBytes, corpusMail, distinctAggregateMail, mailWithoutReport } from '../support/mail.ts';

async function mailparserAttachments(raw: Buffer) {
  const mail = await simpleParser(raw, parserOptions);
  return mail.attachments.map((part) => ({
    filename: part.filename ?? null,
    // mailparser guesses the type of a named octet-stream part from its name; the reader then
    // goes by the name (and the walk refuses the names it would read as attached messages)
    contentType:
      part.filename &&
      (part.headers.get('content-type') as { value?: string } | undefined)?.value === 'application/octet-stream'
        ? 'application/octet-stream'
        : part.contentType,
    partId: part.partId ?? null,
    content: Buffer.from(part.content),
  }));
}

function corpusFiles(): string[] {
  return readdirSync(CORPUS, { recursive: true, encoding: 'utf8' }).filter(
    (path) => !path.endsWith('README.md') && path.includes('.'),
  );
}

const base64 = (bytes: Buffer) => bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
const ZIP_BYTES = corpusBytes('extract_report/nice-input.xml.zip');

/** A two-part multipart/mixed mail: a text part, then one attachment with the given headers. */
function mail(attachmentHeaders: string[], body = base64(ZIP_BYTES), options: { eol?: string; tail?: string } = {}) {
  const eol = options.eol ?? '\r\n';
  return Buffer.from(
    [
      'From: reports@reporter.example',
      'Subject: Report',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1_x"',
      '',
      'preamble',
      '--b1_x',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'A report.',
      '--b1_x',
      ...attachmentHeaders,
      '',
      body,
      options.tail ?? '--b1_x--',
      'epilogue',
      '',
    ].join(eol),
    'latin1',
  );
}

describe('the plain-mail walk', () => {
  it('lists exactly what mailparser lists for every mail it reads (generated backlog, corpus, variants)', async () => {
    const mails: Buffer[] = [];
    for (const generated of reportMailBacklog({ seed: 'simple-walk', count: 60, minRecords: 1, maxRecords: 20 }))
      mails.push(Buffer.from(generated.raw));
    for (const file of corpusFiles()) mails.push(corpusMail(file));
    mails.push(distinctAggregateMail(1), distinctAggregateMail(2), mailWithoutReport());
    mails.push(
      mail(['Content-Type: application/zip; name="a.zip"', 'Content-Transfer-Encoding: base64']),
      mail(['Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64']),
      mail(['Content-Type: application/zip', 'Content-Transfer-Encoding: base64', 'Content-Disposition: inline']),
      mail(['Content-Type: text/xml; name=r.xml', 'Content-Transfer-Encoding: base64'], base64(Buffer.from('<a/>'))),
      mail(
        ['Content-Type: text/plain', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment'],
        base64(Buffer.from('<a/>')),
      ),
      mail(
        ['Content-Type: application/zip;', '\tname="folded.zip"', 'Content-Transfer-Encoding: BASE64'],
        base64(ZIP_BYTES),
        { eol: '\n' },
      ),
      mail(['Content-Type: application/gzip', 'Content-Transfer-Encoding: base64'], ''),
    );
    let read = 0;
    for (const raw of mails) {
      const simple = simpleAttachments(raw);
      if (simple === null) continue;
      read++;
      expect(simple).toEqual(await mailparserAttachments(raw));
    }
    // the walk must cover the common shapes, or it saves nothing
    expect(read).toBeGreaterThan(mails.length / 2);
  });

  it.each([
    ['a nested multipart', ['Content-Type: multipart/alternative; boundary="inner"']],
    ['an attached message', ['Content-Type: message/rfc822']],
    ['a feedback report part', ['Content-Type: message/feedback-report']],
    [
      'an RFC 2231 name',
      ["Content-Type: application/zip; name*=utf-8''r%C3%A9.zip", 'Content-Transfer-Encoding: base64'],
    ],
    [
      'an encoded-word name',
      ['Content-Type: application/zip; name="=?utf-8?q?r=C3=A9.zip?="', 'Content-Transfer-Encoding: base64'],
    ],
    ['a comment', ['Content-Type: application/zip (a comment)', 'Content-Transfer-Encoding: base64']],
    ['quoted-printable', ['Content-Type: application/zip', 'Content-Transfer-Encoding: quoted-printable']],
    ['a 7bit attachment', ['Content-Type: application/zip', 'Content-Transfer-Encoding: 7bit']],
    ['no Content-Type', ['Content-Transfer-Encoding: base64']],
    [
      'a doubled Content-Type',
      ['Content-Type: application/zip', 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64'],
    ],
    [
      'an attached .eml named octet-stream',
      ['Content-Type: application/octet-stream; name="x.eml"', 'Content-Transfer-Encoding: base64'],
    ],
    [
      'an unknown disposition',
      ['Content-Type: application/zip', 'Content-Transfer-Encoding: base64', 'Content-Disposition: form-data'],
    ],
  ])('refuses %s', (_, headers) => {
    expect(simpleAttachments(mail(headers))).toBeNull();
  });

  it('refuses broken base64, a loose delimiter line, a missing closing delimiter and a feedback report in disguise', () => {
    const zip = ['Content-Type: application/zip', 'Content-Transfer-Encoding: base64'];
    expect(simpleAttachments(mail(zip, `${base64(ZIP_BYTES)}*`))).toBeNull();
    expect(simpleAttachments(mail(zip, `${base64(ZIP_BYTES)}\r\n--b1_x trailing`))).toBeNull();
    expect(simpleAttachments(mail(zip, base64(ZIP_BYTES), { tail: '' }))).toBeNull();
    const feedback = base64(Buffer.from('Feedback-Type: auth-failure\r\nSource-IP: 192.0.2.1\r\n'));
    expect(
      simpleAttachments(
        mail(['Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64'], feedback),
      ),
    ).toBeNull();
    // a mail that is not multipart/mixed at all
    expect(simpleAttachments(mailWithoutReport())).toBeNull();
  });

  it('gives the reader the same reports and errors as the full parse, also for mails with broken attachments', async () => {
    const broken = mail(
      ['Content-Type: application/gzip; name="r.xml.gz"', 'Content-Transfer-Encoding: base64'],
      base64(Buffer.from('not gzip')),
    );
    for (const raw of [
      ...[...reportMailBacklog({ seed: 'simple-read', count: 12, minRecords: 1, maxRecords: 30 })].map((m) =>
        Buffer.from(m.raw),
      ),
      mail(['Content-Type: application/zip; name="a.zip"', 'Content-Transfer-Encoding: base64']),
      broken,
    ]) {
      const now = new Date('2026-11-02T00:00:00Z');
      const simple = await readReports(raw, { source: 'mail', now });
      // the same bytes with a header the walk refuses (a comment) take the full parse
      const full = await readReports(
        Buffer.from(
          raw
            .toString('latin1')
            .replace(/^MIME-Version: 1.0/m, 'MIME-Version: 1.0 (full)')
            .replace(/^Content-Type: multipart\/mixed;/m, 'Content-Type: multipart/mixed (full);'),
          'latin1',
        ),
        { source: 'mail', now },
      );
      expect(simpleAttachments(raw)).not.toBeNull();
      const plain = (outcome: typeof simple) => ({
        reports: JSON.parse(JSON.stringify(outcome.reports)) as unknown,
        errors: outcome.errors.map(({ code, source, message }) => ({ code, source, message })),
      });
      expect(plain(simple)).toEqual(plain(full));
      expect(simple.reports.length + simple.errors.length).toBeGreaterThan(0);
    }
  });
});
