// The reader's own fixtures for what the corpus lacks: nested and broken containers, bombs, mails
// with several parts, reports without records. All generated here.

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { AggregateReport } from '../../src/model.ts';
import { parseAggregateXml, readReports } from '../../src/reader/index.ts';
import { openMergingSink } from '../../src/store/merge.ts';
import { aggregateXml, gzipBomb, mail, zip } from '../fixtures/build.ts';

const xml = aggregateXml({
  reportId: 'nested-1',
  records: [
    { ip: '192.0.2.1', count: 3, dkim: 'pass' },
    { ip: '192.0.2.2', count: 4, spf: 'pass' },
    { ip: '198.51.100.9', count: 5 },
  ],
});

async function single(bytes: Uint8Array, source = 'fixture'): Promise<AggregateReport> {
  const { reports, errors } = await readReports(bytes, { source });
  expect(errors.map((error) => error.message)).toEqual([]);
  expect(reports).toHaveLength(1);
  return reports[0] as AggregateReport;
}

describe('containers', () => {
  it('reads a report the same way plain, gzipped, gzipped twice and zipped', async () => {
    const plain = await single(Buffer.from(xml));
    expect(plain.records.map((r) => [r.sourceIp, r.count, r.dmarc])).toEqual([
      ['192.0.2.1', 3, 'pass'],
      ['192.0.2.2', 4, 'pass'],
      ['198.51.100.9', 5, 'fail'],
    ]);
    expect(await single(gzipSync(xml))).toEqual(plain);
    expect(await single(gzipSync(gzipSync(xml)))).toEqual(plain);
    expect(await single(zip([{ name: 'report.xml', content: Buffer.from(xml) }]))).toEqual(plain);
    expect(await single(zip([{ name: 'report.xml.gz', content: gzipSync(xml) }]))).toEqual(plain);
  });

  it('ignores bytes after the gzip member', async () => {
    const withTrailer = Buffer.concat([gzipSync(xml), Buffer.from('\r\n\0\0 padding')]);
    expect((await single(withTrailer)).reportId).toBe('nested-1');
  });

  it('refuses corrupt gzip with bad-gzip and names the input', async () => {
    const truncated = gzipSync(xml).subarray(0, 40);
    const { reports, errors } = await readReports(truncated, { source: 'cut.xml.gz' });
    expect(reports).toEqual([]);
    expect(errors[0]!.code).toBe('bad-gzip');
    expect(errors[0]!.message).toContain('cut.xml.gz');
  });

  it('refuses a truncated zip with bad-zip', async () => {
    const whole = zip([{ name: 'report.xml', content: Buffer.from(xml) }]);
    const { reports, errors } = await readReports(whole.subarray(0, whole.length - 30), { source: 'cut.zip' });
    expect(reports).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('bad-zip');
    expect(errors[0]!.source).toBe('cut.zip');
  });

  it('refuses a zip with more entries than allowed, before reading any', async () => {
    const files = Array.from({ length: 5 }, (_, i) => ({ name: `r${i}.xml`, content: Buffer.from(xml) }));
    const { reports, errors } = await readReports(zip(files), { source: 'many.zip', maxZipEntries: 4 });
    expect(reports).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['too-many-entries']);
    expect(errors[0]!.message).toMatch(/5 entries.*limit of 4/);
  });

  it('reads the good entries of a zip and names the bad one', async () => {
    const archive = zip([
      { name: 'a.xml', content: Buffer.from(aggregateXml({ reportId: 'a' })) },
      { name: 'notes.txt', content: Buffer.from('just some notes') },
      { name: 'b.xml', content: Buffer.from(aggregateXml({ reportId: 'b' })) },
    ]);
    const { reports, errors } = await readReports(archive, { source: 'mixed.zip' });
    expect(reports.map((r) => (r as AggregateReport).reportId)).toEqual(['a', 'b']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('not-a-report');
    expect(errors[0]!.source).toBe('mixed.zip > notes.txt');
  });
});

describe('bombs', () => {
  it('refuses a gzip bomb with too-large without inflating it (memory stays flat)', async () => {
    const bomb = await gzipBomb(512); // 512 MiB of zeros in half a megabyte
    expect(bomb.length).toBeLessThan(1024 * 1024);
    global.gc?.();
    const before = process.memoryUsage();
    const { reports, errors } = await readReports(bomb, { source: 'bomb.xml.gz' });
    const after = process.memoryUsage();
    expect(reports).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['too-large']);
    expect(errors[0]!.message).toContain('bomb.xml.gz');
    // The cap is 64 MiB: growth must stay near it, far below the 512 MiB the bomb holds.
    expect(after.rss - before.rss).toBeLessThan(256 * 1024 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(128 * 1024 * 1024);
  });

  it('honours a smaller cap', async () => {
    const { errors } = await readReports(gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20)), {
      source: 'two-mib.gz',
      maxBytes: 1024 * 1024,
    });
    expect(errors.map((e) => e.code)).toEqual(['too-large']);
  });

  it('refuses a zip entry that declares more than the cap, without inflating it', async () => {
    const archive = zip([{ name: 'huge.xml', content: Buffer.from('<x/>'), declaredSize: 0xfffffff0 }]);
    const { errors } = await readReports(archive, { source: 'declared.zip' });
    expect(errors.map((e) => e.code)).toEqual(['too-large']);
    expect(errors[0]!.source).toBe('declared.zip > huge.xml');
  });

  it('refuses a zip entry that lies about its size and inflates past it', async () => {
    const content = Buffer.alloc(4 * 1024 * 1024, 0x20);
    const archive = zip([{ name: 'liar.xml', content, declaredSize: 100 }]);
    const { reports, errors } = await readReports(archive, { source: 'liar.zip', maxBytes: 1024 * 1024 });
    expect(reports).toEqual([]);
    expect(errors).toHaveLength(1);
    // yauzl notices the size mismatch first (bad-zip); our own counter would stop it at the cap
    expect(['bad-zip', 'too-large']).toContain(errors[0]!.code);
    expect(errors[0]!.source).toBe('liar.zip > liar.xml');
  });

  it('refuses a small zip entry that declares more than it inflates to, with or without a sink', async () => {
    const content = Buffer.from(aggregateXml());
    const archive = zip([{ name: 'short.xml', content, declaredSize: content.length + 10 }]);
    for (const sink of [undefined, openMergingSink]) {
      const { reports, errors } = await readReports(archive, { source: 'short.zip' }, sink);
      expect(reports).toEqual([]);
      expect(errors.map((e) => [e.code, e.source])).toEqual([['bad-zip', 'short.zip > short.xml']]);
    }
  });

  it('refuses an XML entity bomb (billion laughs) with xml-entities', async () => {
    const entities = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i++) entities.push(`<!ENTITY lol${i} "${`&lol${i - 1 || ''};`.repeat(10)}">`);
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE feedback [\n${entities.join('\n')}\n]>\n<feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>`;
    const { reports, errors } = await readReports(Buffer.from(bomb), { source: 'laughs.xml' });
    expect(reports).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['xml-entities']);
    expect(errors[0]!.message).toContain('laughs.xml');
    expect(() => parseAggregateXml(bomb, 'direct')).toThrow(/entities/);
  });
});

describe('mails', () => {
  it('returns every report of a mail with two report attachments and a named error for a broken third', async () => {
    const raw = mail({
      subject: 'Reports',
      parts: [
        {
          contentType: 'application/gzip',
          filename: 'one.xml.gz',
          content: gzipSync(aggregateXml({ reportId: 'one' })),
        },
        // a zip labelled octet-stream and named .gz: detected by content
        {
          contentType: 'application/octet-stream',
          filename: 'two.xml.gz',
          content: zip([{ name: 'two.xml', content: Buffer.from(aggregateXml({ reportId: 'two' })) }]),
        },
        {
          contentType: 'application/gzip',
          filename: 'three.xml.gz',
          content: gzipSync(aggregateXml({ reportId: 'three' })).subarray(0, 50),
        },
      ],
    });
    const { reports, errors } = await readReports(raw, { source: 'inbox/42.eml' });
    expect(reports.map((r) => (r as AggregateReport).reportId)).toEqual(['one', 'two']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('bad-gzip');
    expect(errors[0]!.source).toBe('inbox/42.eml > three.xml.gz');
    expect(errors[0]!.message).toContain('three.xml.gz');
  });

  it('reads an uncompressed XML attachment sent as text (7bit)', async () => {
    const raw = mail({
      subject: 'Report',
      parts: [{ contentType: 'text/xml', filename: 'r.xml', content: aggregateXml({ reportId: 'plain' }) }],
    });
    expect((await single(raw)).reportId).toBe('plain');
  });

  it('reads an ARF report whose original comes as text/rfc822-headers, with repeated Auth-Failure fields', async () => {
    const feedback = [
      'Feedback-Type: auth-failure',
      'User-Agent: Fixture/1.0',
      'Version: 1',
      'Original-Mail-From: <bounce@esp.example>',
      'Arrival-Date: Tue, 14 Nov 2023 23:13:20 +0100',
      'Source-IP: 192.0.2.44',
      'Reported-Domain: Example.COM',
      'Auth-Failure: dkim',
      'Auth-Failure: spf',
      'Delivery-Result: reject',
    ].join('\n');
    const headers = [
      'From: "Shop" <news@example.com>',
      'Subject: =?utf-8?B?R3LDvMOfZQ==?=',
      'Message-ID: <m1@esp.example>',
      'To: someone@reporter.example',
    ].join('\n');
    const raw = mail({
      subject: 'Failure',
      parts: [
        { contentType: 'message/feedback-report', content: feedback },
        { contentType: 'text/rfc822-headers', content: headers },
      ],
    });
    const { reports, errors } = await readReports(raw, { source: 'arf.eml' });
    expect(errors).toEqual([]);
    expect(reports).toEqual([
      expect.objectContaining({
        kind: 'failure',
        reportedDomain: 'example.com',
        sourceIp: '192.0.2.44',
        arrivalDate: '2023-11-14T22:13:20.000Z',
        authFailure: ['dkim', 'spf'],
        deliveryResult: 'reject',
        originalMailFrom: 'bounce@esp.example',
        headerFrom: 'news@example.com',
        subject: 'Grüße',
        messageId: '<m1@esp.example>',
        reporter: 'dmarc@reporter.example',
      }),
    ]);
  });

  it('reads a mail saved with an mbox envelope line', async () => {
    const raw = mail({
      subject: 'Report',
      parts: [
        {
          contentType: 'application/gzip',
          filename: 'r.xml.gz',
          content: gzipSync(aggregateXml({ reportId: 'mbox' })),
        },
      ],
    });
    const withEnvelope = Buffer.concat([Buffer.from('From dmarc@reporter.example Tue Nov 14 22:13:20 2023\n'), raw]);
    expect((await single(withEnvelope)).reportId).toBe('mbox');
  });

  it('refuses a mail that holds no report with not-a-report, naming its subject', async () => {
    const raw = Buffer.from('From: a@example.com\r\nTo: b@example.com\r\nSubject: Lunch?\r\n\r\nShall we?\r\n');
    const { reports, errors } = await readReports(raw, { source: 'lunch.eml' });
    expect(reports).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['not-a-report']);
    expect(errors[0]!.message).toContain('lunch.eml');
    expect(errors[0]!.message).toContain('Lunch?');
  });
});

describe('aggregate edge cases', () => {
  it('reads a report with zero records', async () => {
    const report = await single(Buffer.from(aggregateXml({ reportId: 'nothing', records: [] })));
    expect(report.reportId).toBe('nothing');
    expect(report.records).toEqual([]);
  });

  it('refuses XML that is not a DMARC report, naming its root element', async () => {
    const { errors } = await readReports(Buffer.from('<?xml version="1.0"?><rss><channel/></rss>'), {
      source: 'feed.xml',
    });
    expect(errors.map((e) => e.code)).toEqual(['not-a-report']);
    expect(errors[0]!.message).toContain('<rss>');
  });

  it('refuses truncated XML as bad-xml, naming the input', async () => {
    const text = aggregateXml();
    const { reports, errors } = await readReports(Buffer.from(text.slice(0, text.length / 2)), { source: 'half.xml' });
    expect(reports).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['bad-xml']);
    expect(errors[0]!.message).toContain('half.xml');
  });

  it('refuses a report without report_id as bad-xml', async () => {
    const { errors } = await readReports(Buffer.from(aggregateXml().replace(/<report_id>.*<\/report_id>/, '')), {
      source: 'noid.xml',
    });
    expect(errors.map((e) => e.code)).toEqual(['bad-xml']);
    expect(errors[0]!.message).toContain('report_id');
  });

  it('refuses JSON that is not a TLS report, and broken JSON', async () => {
    expect((await readReports(Buffer.from('{"hello": 1}'), { source: 'h.json' })).errors.map((e) => e.code)).toEqual([
      'not-a-report',
    ]);
    expect((await readReports(Buffer.from('{"hello": '), { source: 'b.json' })).errors.map((e) => e.code)).toEqual([
      'bad-json',
    ]);
  });

  it('refuses unknown binary content and whitespace-only input', async () => {
    expect((await readReports(Buffer.from([0, 1, 2, 3, 250]), { source: 'x.bin' })).errors.map((e) => e.code)).toEqual([
      'not-a-report',
    ]);
    expect((await readReports(Buffer.from(' \n\t'), { source: 'blank.xml' })).errors.map((e) => e.code)).toEqual([
      'empty',
    ]);
  });

  it('parses numbers with whitespace and keeps leading zeros of report ids', async () => {
    const text = aggregateXml({ reportId: '0123' }).replace('<count>3</count>', '<count> 3\n</count>');
    const report = await single(Buffer.from(text));
    expect(report.reportId).toBe('0123');
    expect(report.records[0]!.count).toBe(3);
  });

  it('skips a record without a readable count, says so, and keeps the rest', async () => {
    const text = aggregateXml({
      records: [
        { ip: '192.0.2.1', count: 1 },
        { ip: '192.0.2.2', count: 2 },
      ],
    }).replace('<count>1</count>', '<count>many</count>');
    const report = await single(Buffer.from(text));
    expect(report.records.map((r) => r.sourceIp)).toEqual(['192.0.2.2']);
    expect(report.errors.some((e) => e.includes('record 1') && e.includes('192.0.2.1'))).toBe(true);
  });

  it('reads a namespace-prefixed RFC 9990 report', async () => {
    const prefixed = aggregateXml({ reportId: 'ns' })
      .replace('<feedback>', '<dmarc:feedback xmlns:dmarc="urn:ietf:params:xml:ns:dmarc-2.0">')
      .replace('</feedback>', '</dmarc:feedback>')
      .replace(/<(\/?)(report_metadata|policy_published|record|row)>/g, '<$1dmarc:$2>');
    expect((await single(Buffer.from(prefixed))).reportId).toBe('ns');
  });

  it('reads a report declared in ISO-8859-1', async () => {
    const text = aggregateXml({ orgName: 'Müller GmbH' }).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"');
    const report = await single(Buffer.from(text, 'latin1'));
    expect(report.orgName).toBe('Müller GmbH');
    expect(report.errors).toEqual([]);
  });
});
