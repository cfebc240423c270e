// Hostile input at the reader, built from generated reports and mails (src/generate) and bent one
// way per case: every bound exceeded, every value check, prototype keys, UTF-16/32 encodings. The
// inputs come from seeded generators, so each case covers a family of inputs, not one file.

import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  aggregateXml,
  createRng,
  failureReportMail,
  randomAggregateReport,
  reportMail,
  tlsReportJson,
  zipBytes,
  type Rng,
} from '../../src/generate/index.ts';
import type { AggregateReport, FailureReport, TlsReport } from '../../src/model.ts';
import { closeBoundedReader, readReportsBounded } from '../../src/reader/bounded.ts';
import { readReports, type ReadOutcome } from '../../src/reader/index.ts';

const now = new Date('2026-06-15T12:00:00Z');
const headers = {
  from: 'noreply-dmarc@reporter.example',
  to: 'dmarc@example.com',
  subject: 'Report Domain: example.com',
  date: new Date('2026-06-02T00:00:00Z'),
  messageId: 'hostile@reporter.example',
};

afterAll(() => closeBoundedReader());

function report(seed: string, records = 5): AggregateReport {
  return randomAggregateReport({ seed, records, begin: '2026-06-01T00:00:00Z', overrideShare: 0.3 });
}

const read = (bytes: Uint8Array | string, source = 'input', options: { maxBytes?: number } = {}) =>
  readReports(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, { source, now, ...options });

function codes(outcome: ReadOutcome): string[] {
  return outcome.errors.map((error) => error.code);
}

function onlyReport(outcome: ReadOutcome): AggregateReport {
  expect(outcome.errors.map((error) => error.message)).toEqual([]);
  expect(outcome.reports).toHaveLength(1);
  return outcome.reports[0] as AggregateReport;
}

/** Replaces the text of the n-th `<tag>` element of the XML. */
function setElement(xml: string, tag: string, value: string, n = 0): string {
  let seen = -1;
  return xml.replace(new RegExp(`<${tag}>[^<]*</${tag}>`, 'g'), (match) =>
    ++seen === n ? `<${tag}>${value}</${tag}>` : match,
  );
}

const attachment = (xml: string, name = 'report.xml') => ({
  filename: name,
  contentType: 'text/xml',
  content: Buffer.from(xml),
});

describe('bounds', () => {
  it('refuses a plain XML input over the size cap, as it does a gzip that inflates past it', async () => {
    for (const seed of ['size-1', 'size-2', 'size-3']) {
      const xml = aggregateXml(report(seed, 400));
      const cap = Math.floor(xml.length / 2);
      expect(codes(await read(xml, 'big.xml', { maxBytes: cap }))).toEqual(['too-large']);
      expect(codes(await read(gzipSync(xml), 'big.xml.gz', { maxBytes: cap }))).toEqual(['too-large']);
      expect(codes(await read(zipBytes('big.xml', xml), 'big.zip', { maxBytes: cap }))).toEqual(['too-large']);
      // the same report inside a mail: the decoded attachment is held to the cap, not the mail's size
      const mail = reportMail([attachment(xml)], headers);
      expect(codes(await read(mail, 'big.eml', { maxBytes: cap + 1000 }))).toEqual(['too-large']);
      expect(onlyReport(await read(xml, 'ok.xml', { maxBytes: xml.length })).records).toHaveLength(400);
    }
  });

  it('refuses MIME parts nested past the limit, and reads the same report nested within it', async () => {
    const xml = aggregateXml(report('nesting'));
    const nested = (depth: number) => {
      let body = ['Content-Type: text/xml', 'Content-Disposition: attachment; filename=r.xml', '', xml].join('\r\n');
      for (let level = depth; level > 0; level--)
        body = [
          `Content-Type: multipart/mixed; boundary="b${level}"`,
          '',
          `--b${level}`,
          body,
          `--b${level}--`,
          '',
        ].join('\r\n');
      return Buffer.from(`From: a@reporter.example\r\nSubject: nested\r\n${body}`);
    };
    expect(codes(await read(nested(9), 'deep.eml'))).toEqual(['too-deep']);
    expect(codes(await read(nested(40), 'deeper.eml'))).toEqual(['too-deep']);
    expect(onlyReport(await read(nested(7), 'ok.eml')).records).toHaveLength(5);
  });

  it('refuses a mail with more MIME parts than the limit', async () => {
    const rng = createRng('parts');
    for (const extra of [1, rng.int(2, 50), rng.int(51, 500)]) {
      const parts = Array.from({ length: 100 + extra }, (_, i) => ({
        filename: `note-${i}.txt`,
        contentType: 'text/plain',
        content: Buffer.from(`part ${i}`),
      }));
      expect(codes(await read(reportMail(parts, headers), 'parts.eml'))).toEqual(['too-many-parts']);
    }
  });

  it('refuses a header block larger than the limit, at the top or in a part', async () => {
    const xml = aggregateXml(report('header'));
    const big = 'x'.repeat(70 * 1024);
    const top = reportMail([attachment(xml)], { ...headers, subject: big });
    expect(codes(await read(top, 'subject.eml'))).toEqual(['header-too-large']);
    const folded = Buffer.from(
      reportMail([attachment(xml)], headers)
        .toString('latin1')
        .replace('Content-Type: text/xml', `Content-Type: text/xml\r\nX-Padding: ${big}`),
      'latin1',
    );
    expect(codes(await read(folded, 'part-header.eml'))).toEqual(['header-too-large']);
  });

  it('settles on the mail that never settles in mailparser: stopped at its deadline, the next input still read', async () => {
    const hanging = Buffer.from(
      'From: a@reporter.example\r\nSubject: header only\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n',
    );
    const stopped = await readReportsBounded(hanging, { source: 'hang.eml', deadlineMs: 1500, now });
    expect(codes(stopped)).toEqual(['deadline']);
    expect(stopped.errors[0]!.message).toBe('hang.eml: reading it took longer than 1500 ms; stopped');
    const xml = aggregateXml(report('after-hang'));
    const next = await readReportsBounded(Buffer.from(xml), { source: 'next.xml', now });
    expect(onlyReport(next).records).toHaveLength(5);
  }, 60_000);

  it('reads a failure report whose original-headers part quotes the never-settling headers', async () => {
    const failure: FailureReport = {
      kind: 'failure',
      reportedDomain: 'example.com',
      sourceIp: '192.0.2.7',
      arrivalDate: '2026-06-01T10:00:00.000Z',
      authFailure: ['dmarc'],
      deliveryResult: 'reject',
      originalMailFrom: 'x@example.com',
      originalRcptTo: 'y@example.net',
      headerFrom: 'example.com',
      subject: 'hello',
      messageId: 'm1@example.com',
    };
    const raw = failureReportMail(failure, headers)
      .toString('latin1')
      .replace(
        'Content-Type: text/rfc822-headers\r\n\r\n',
        'Content-Type: text/rfc822-headers\r\n\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n',
      );
    const outcome = await readReportsBounded(Buffer.from(raw, 'latin1'), {
      source: 'arf.eml',
      deadlineMs: 10_000,
      now,
    });
    expect(outcome.errors.map((error) => error.message)).toEqual([]);
    expect(outcome.reports).toMatchObject([{ kind: 'failure', sourceIp: '192.0.2.7', reportedDomain: 'example.com' }]);
  }, 60_000);
});

describe('values at the edge of the model', () => {
  const legacyForms = (rng: Rng): string[] => {
    const [a, b, c, d] = [rng.int(1, 223), rng.int(0, 255), rng.int(0, 255), rng.int(1, 254)];
    return [
      [a, b, c, d].map((octet) => String(octet).padStart(3, '0')).join('.'), // 010.000.000.001
      `${a}.${b}.${c}`, // three parts
      `${a}.${b * 65536 + c * 256 + d}`, // two parts
      `0x${a.toString(16)}.${b}.${c}.${d}`,
      `${a}.${b}.${c}.${d + 256}`,
      `${a}.${b}.${c}.${d}:25`,
      `fe80::${a.toString(16)}%eth0`,
      `${a}.${b}.${c}.${d}.${a}`,
      `[${a}.${b}.${c}.${d}]x`,
      '__proto__',
      'constructor',
    ];
  };

  it('skips a record whose source IP is not strictly an IP, with a note, and keeps the others', async () => {
    const rng = createRng('legacy-ip');
    for (let round = 0; round < 5; round++) {
      const base = report(`ip-${round}`, 3);
      for (const bad of legacyForms(rng)) {
        const xml = setElement(aggregateXml(base), 'source_ip', bad, 1);
        const read1 = onlyReport(await read(xml));
        expect(read1.records.map((record) => record.sourceIp)).toEqual([
          base.records[0]!.sourceIp,
          base.records[2]!.sourceIp,
        ]);
        expect(read1.errors).toContainEqual(
          expect.stringMatching(/^record 2 skipped: <source_ip> .* is not an IP address$/),
        );
      }
    }
  });

  it('stores IPv6 in its compressed lower-case normal form and IPv4-mapped addresses as IPv4', async () => {
    const rng = createRng('ipv6');
    for (let round = 0; round < 10; round++) {
      const groups = Array.from({ length: 8 }, (_, i) =>
        i === 0 ? 0x2001 : i === 1 ? 0xdb8 : i < 5 ? 0 : rng.int(0, 0xffff),
      );
      const expanded = groups.map((group) => group.toString(16).padStart(4, '0').toUpperCase()).join(':');
      const d = rng.int(1, 254);
      const xml = setElement(
        setElement(aggregateXml(report(`v6-${round}`, 2)), 'source_ip', expanded, 0),
        'source_ip',
        `::FFFF:192.0.2.${d}`,
        1,
      );
      const read1 = onlyReport(await read(xml));
      const compressed = `2001:db8::${groups
        .slice(5)
        .map((group) => group.toString(16))
        .join(':')}`;
      expect(read1.records.map((record) => record.sourceIp)).toEqual([compressed, `192.0.2.${d}`]);
    }
  });

  it('refuses reports dated before 2012, too far in the future, or in milliseconds', async () => {
    const rng = createRng('dates');
    const nowSeconds = Math.floor(now.getTime() / 1000);
    for (let round = 0; round < 5; round++) {
      const xml = aggregateXml(report(`dates-${round}`));
      const early = rng.int(0, Math.floor(Date.UTC(2012, 0, 1) / 1000) - 1);
      const late = nowSeconds + rng.int(8, 3000) * 86_400;
      const millis = nowSeconds * 1000 - rng.int(0, 1e9);
      for (const [tag, value] of [
        ['begin', early],
        ['end', late],
        ['begin', millis],
        ['end', millis],
      ] as const) {
        const outcome = await read(setElement(xml, tag, String(value)));
        expect(codes(outcome)).toEqual(['bad-date']);
        expect(outcome.errors[0]!.message).toContain(`<date_range><${tag}> ${value} is `);
      }
      const millisOutcome = await read(setElement(xml, 'end', String(millis)));
      expect(millisOutcome.errors[0]!.message).toMatch(/is year \d{5,}, outside the window/);
    }
    // the window follows the injected clock: the same report read a year later is fine
    const xml = setElement(aggregateXml(report('dates-clock')), 'end', String(nowSeconds + 30 * 86_400));
    expect(codes(await read(xml))).toEqual(['bad-date']);
    const later = await readReports(Buffer.from(xml), {
      source: 'later',
      now: new Date(now.getTime() + 365 * 86_400_000),
    });
    expect(later.errors).toEqual([]);
  });

  it('refuses failure-report and TLS dates outside the window', async () => {
    const tls: TlsReport = {
      kind: 'tls',
      orgName: 'Reporter',
      reportId: 'tls-1',
      begin: '2026-06-01T00:00:00.000Z',
      end: '2026-06-02T00:00:00.000Z',
      contactInfo: null,
      policies: [],
    };
    for (const [begin, end] of [
      ['2011-12-31T00:00:00.000Z', '2026-06-02T00:00:00.000Z'],
      ['2026-06-01T00:00:00.000Z', '+010000-01-01T00:00:00.000Z'],
    ]) {
      const json = tlsReportJson({ ...tls, begin: begin!, end: end! });
      expect(codes(await read(json, 'tls.json'))).toEqual([expect.stringMatching(/bad-date|not-a-report/)]);
    }
  });

  it('skips records whose count is no safe non-negative integer; a 400-digit count is not Infinity', async () => {
    const rng = createRng('counts');
    const digits = (n: number) =>
      Array.from({ length: n }, (_, i) => (i === 0 ? rng.int(1, 9) : rng.int(0, 9))).join('');
    for (const bad of [digits(400), digits(17), '9007199254740993', '-5', '1e3', '0x10', '12.5', 'NaN', '']) {
      const outcome = await read(setElement(aggregateXml(report('counts', 3)), 'count', bad, 2));
      const parsed = onlyReport(outcome);
      expect(parsed.records).toHaveLength(2);
      for (const record of parsed.records) expect(Number.isSafeInteger(record.count)).toBe(true);
    }
  });

  it('refuses identifiers over their caps and skips records with over-long domains', async () => {
    const rng = createRng('caps');
    for (const [tag, cap] of [
      ['org_name', 255],
      ['report_id', 255],
      ['email', 255],
      ['domain', 253],
    ] as const) {
      const long = 'a'.repeat(cap + rng.int(1, 5000));
      const outcome = await read(setElement(aggregateXml(report(`caps-${tag}`)), tag, long));
      expect(codes(outcome)).toEqual(['field-too-long']);
      const atCap = 'a'.repeat(cap);
      expect(codes(await read(setElement(aggregateXml(report(`caps-${tag}`)), tag, atCap)))).toEqual([]);
    }
    const headerFrom = onlyReport(
      await read(setElement(aggregateXml(report('caps-hf', 3)), 'header_from', 'a'.repeat(300), 0)),
    );
    expect(headerFrom.records).toHaveLength(2);
    expect(headerFrom.errors).toContain('record 1 skipped: <header_from> longer than 253 characters');
  });

  it('strips ANSI escapes and control characters from text before it is stored', async () => {
    const rng = createRng('ansi');
    const escapes = ['\x1b[31m', '\x1b[2J', '\x1b]0;title\x07', '\x1b[1;32;40m', '\x07', '\x08', '\u202e'];
    for (let round = 0; round < 5; round++) {
      const name = `Evil${rng.pick(escapes)} Corp${rng.pick(escapes)}`;
      const parsed = onlyReport(await read(setElement(aggregateXml(report(`ansi-${round}`)), 'org_name', name)));
      expect(parsed.orgName).toMatch(/^Evil ?Corp$/);
      expect(JSON.stringify(parsed)).not.toMatch(/\\u001b|\\u0007|\\b|\u202e/);
    }
  });

  it('reads UTF-16 and UTF-32 reports with a BOM as their UTF-8 twins', async () => {
    const xml = aggregateXml({ ...report('bom'), orgName: 'Rapporteur Ünïcødé 報告' });
    const json = tlsReportJson({
      kind: 'tls',
      orgName: 'Ünïcødé',
      reportId: 'tls-bom',
      begin: '2026-06-01T00:00:00.000Z',
      end: '2026-06-02T00:00:00.000Z',
      contactInfo: null,
      policies: [],
    });
    for (const text of [xml, json.replace('"', ' "')]) {
      const twin = await read(text);
      expect(twin.reports).toHaveLength(1);
      for (const encoded of [utf16(text, 'le'), utf16(text, 'be'), utf32(text, true), utf32(text, false)]) {
        expect(await read(encoded)).toEqual(twin);
        expect(await read(gzipSync(encoded))).toEqual(twin);
      }
    }
  });
});

describe('prototype keys', () => {
  it('never touches Object.prototype, whatever the names in the data', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const keys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
    for (const key of keys) {
      const xml = aggregateXml(report(`proto-${key}`, 3));
      const values = setElement(
        setElement(setElement(xml, 'source_ip', key, 0), 'header_from', key, 1),
        'disposition',
        key,
        2,
      );
      const outcome = await read(values);
      const parsed = onlyReport(outcome);
      expect(parsed.records).toHaveLength(2);
      expect(parsed.records[0]!.identifiers.headerFrom).toBe(key.toLowerCase());
      expect(typeof parsed.records[1]!.disposition).toBe('string');
      // as element names: refused by the XML parser or read as data, never as a prototype
      const tagged = xml.replace('<row>', `<row><${key}><polluted>yes</polluted></${key}>`);
      const tagOutcome = await read(tagged);
      expect(tagOutcome.reports.length + tagOutcome.errors.length).toBeGreaterThan(0);
      const json = tlsReportJson({
        kind: 'tls',
        orgName: 'o',
        reportId: key,
        begin: '2026-06-01T00:00:00.000Z',
        end: '2026-06-02T00:00:00.000Z',
        contactInfo: null,
        policies: [],
      }).replace('{', `{"${key}": {"polluted": "yes"}, `);
      await read(json, 'proto.json');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
  });
});

function utf16(text: string, order: 'le' | 'be'): Buffer {
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  if (order === 'le') return le;
  const be = Buffer.from(le);
  be.swap16();
  return be;
}

function utf32(text: string, littleEndian: boolean): Buffer {
  const points = [0xfeff, ...Array.from(text, (char) => char.codePointAt(0)!)];
  const bytes = Buffer.alloc(points.length * 4);
  points.forEach((point, i) => (littleEndian ? bytes.writeUInt32LE(point, i * 4) : bytes.writeUInt32BE(point, i * 4)));
  return bytes;
}
