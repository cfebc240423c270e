import { gunzipSync } from 'node:zlib';
import { simpleParser } from 'mailparser';
import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import {
  aggregateAttachment,
  aggregateReportMail,
  failureReportMail,
  gzipBytes,
  reportFileName,
  reportMail,
  tlsReportJson,
  tlsReportMail,
} from '../../src/generate/mail.ts';
import { randomAggregateReport } from '../../src/generate/random.ts';
import { crc32, zipFiles } from '../../src/generate/zip.ts';
import { aggregateXml } from '../../src/generate/xml.ts';
import { readReports } from '../../src/reader/index.ts';
import type { FailureReport, TlsReport } from '../../src/model.ts';

/** Unzips with yauzl, an independent implementation, to check our zip writer's bytes. */
function unzip(bytes: Buffer): Promise<Array<{ name: string; content: Buffer }>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const out: Array<{ name: string; content: Buffer }> = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err ?? new Error('no stream'));
          const parts: Buffer[] = [];
          stream.on('data', (c: Buffer) => parts.push(c));
          stream.on('end', () => {
            out.push({ name: entry.fileName, content: Buffer.concat(parts) });
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('crc32', () => {
  it('gives the standard check value for "123456789"', () => {
    // 0xCBF43926 is the published check value of CRC-32 (IEEE 802.3)
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('zip and gzip wrappers', () => {
  it('writes zips that another zip reader accepts, deflated and stored, with the exact contents', async () => {
    const big = Buffer.from(aggregateXml(randomAggregateReport({ seed: 'zip', records: 300 })));
    const entries = await unzip(
      zipFiles([
        { name: 'a!example.com!1!2.xml', content: big },
        { name: 'stored.txt', content: Buffer.from('hello'), stored: true },
      ]),
    );
    expect(entries.map((e) => e.name)).toEqual(['a!example.com!1!2.xml', 'stored.txt']);
    expect(entries[0]!.content.equals(big)).toBe(true);
    expect(entries[1]!.content.toString()).toBe('hello');
  });

  it('gzip wrapper decompresses to the original bytes', () => {
    const xml = aggregateXml(randomAggregateReport({ seed: 'gz', records: 10 }));
    expect(gunzipSync(gzipBytes(xml)).toString('utf8')).toBe(xml);
  });

  it('plain, gzip and zip attachments of one report read back to the same report', async () => {
    const report = randomAggregateReport({ seed: 'three', records: 25 });
    const results = [];
    for (const container of ['xml', 'gzip', 'zip'] as const) {
      const attachment = aggregateAttachment(report, container);
      const { reports, errors } = await readReports(attachment.content, { source: attachment.filename });
      expect(errors).toEqual([]);
      results.push(reports);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(results[0]![0]).toMatchObject({ reportId: report.reportId, orgName: report.orgName });
  });

  it('names files receiver!domain!begin!end!id like real senders', () => {
    const report = randomAggregateReport({
      seed: 'name',
      records: 1,
      org: 'google.com',
      begin: '2026-03-01T00:00:00Z',
    });
    const begin = Date.UTC(2026, 2, 1) / 1000;
    expect(reportFileName(report)).toBe(`google.com!example.com!${begin}!${begin + 86399}!${report.reportId}.xml`);
    expect(aggregateAttachment(report, 'gzip').filename).toBe(`${reportFileName(report)}.gz`);
    expect(aggregateAttachment(report, 'zip').filename).toMatch(/\.zip$/);
  });
});

describe('report mails', () => {
  it('builds a CRLF multipart/mixed mail whose attachments a mail parser decodes byte for byte', async () => {
    const content = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
    const raw = reportMail(
      [
        { filename: 'one!example.com!1!2.xml.gz', contentType: 'application/gzip', content },
        { filename: 'two.xml', contentType: 'text/xml', content: Buffer.from('<feedback/>') },
      ],
      {
        from: 'noreply-dmarc-support@google.com',
        to: 'me@example.com',
        subject: 'Report Domain: example.com',
        date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
        messageId: 'abc@google.com',
      },
    );
    const text = raw.toString('latin1');
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/); // no bare CR or LF
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe('Report Domain: example.com');
    expect(mail.messageId).toBe('<abc@google.com>');
    expect(mail.date?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(mail.attachments.map((a) => a.filename)).toEqual(['one!example.com!1!2.xml.gz', 'two.xml']);
    expect(mail.attachments[0]!.content.equals(content)).toBe(true);
  });

  it('gives a report mail that the reader turns back into the report, for every container', async () => {
    const report = randomAggregateReport({ seed: 'mail', records: 40 });
    for (const container of ['xml', 'gzip', 'zip'] as const) {
      const { reports, errors } = await readReports(aggregateReportMail(report, container), {
        source: `mail-${container}`,
      });
      expect(errors).toEqual([]);
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ kind: 'aggregate', reportId: report.reportId, records: expect.any(Array) });
      expect((reports[0] as typeof report).records).toHaveLength(40);
    }
  });

  it('writes an ARF failure report that the reader reads back', async () => {
    const failure: FailureReport = {
      kind: 'failure',
      feedbackType: 'auth-failure',
      reportedDomain: 'example.com',
      sourceIp: '203.0.113.9',
      arrivalDate: '2026-01-05T10:11:12.000Z',
      authFailure: ['dmarc'],
      deliveryResult: 'reject',
      originalMailFrom: 'ceo@example.com',
      originalRcptTo: 'victim@example.net',
      headerFrom: 'example.com',
      subject: 'Urgent invoice',
      messageId: '<spoof-1@203.0.113.9>',
    };
    const raw = failureReportMail(failure, {
      from: 'dmarc@example.net',
      to: 'ruf@example.com',
      subject: 'DMARC failure report',
      date: new Date(Date.UTC(2026, 0, 5, 11)),
      messageId: 'ruf-1@example.net',
    });
    const { reports, errors } = await readReports(raw, { source: 'arf' });
    expect(errors).toEqual([]);
    expect(reports[0]).toMatchObject({
      kind: 'failure',
      reportedDomain: 'example.com',
      sourceIp: '203.0.113.9',
      arrivalDate: failure.arrivalDate,
      authFailure: ['dmarc'],
      deliveryResult: 'reject',
      originalMailFrom: 'ceo@example.com',
      subject: 'Urgent invoice',
    });
  });

  it('writes an RFC 8460 TLS report, as JSON and as a mail, that the reader reads back', async () => {
    const tls: TlsReport = {
      kind: 'tls',
      orgName: 'Google Inc.',
      reportId: '2026-01-05T00:00:00Z_example.com',
      begin: '2026-01-05T00:00:00.000Z',
      end: '2026-01-05T23:59:59.000Z',
      contactInfo: 'smtp-tls-reporting@google.com',
      policies: [
        {
          domain: 'example.com',
          type: 'sts',
          strings: ['version: STSv1', 'mode: enforce'],
          mxHosts: ['mail.example.com'],
          successful: 120,
          failed: 2,
          failures: [
            {
              resultType: 'certificate-expired',
              count: 2,
              sendingMtaIp: '209.85.220.41',
              receivingMxHostname: 'mail.example.com',
              receivingIp: '192.0.2.10',
              reasonCode: null,
              info: null,
            },
          ],
        },
      ],
    };
    const fromJson = await readReports(Buffer.from(tlsReportJson(tls)), { source: 'tls.json' });
    const fromMail = await readReports(
      tlsReportMail(tls, {
        from: 'noreply-smtp-tls-reporting@google.com',
        to: 'tls@example.com',
        subject: 'Report Domain: example.com',
        date: new Date(Date.UTC(2026, 0, 6)),
        messageId: 'tls-1@google.com',
      }),
      { source: 'tls.eml' },
    );
    expect(fromJson.errors).toEqual([]);
    expect(fromMail.errors).toEqual([]);
    expect(fromJson.reports[0]).toMatchObject({
      kind: 'tls',
      orgName: 'Google Inc.',
      policies: [{ domain: 'example.com', successful: 120, failed: 2 }],
    });
    expect(fromMail.reports).toEqual(fromJson.reports);
  });
});
