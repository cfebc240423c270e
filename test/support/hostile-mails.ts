// Hostile report mail, generated: every way a stranger's mail has stopped, poisoned or flooded the
// bot, each built from seeded generators (src/generate) and bent one way, next to good report
// mails whose figures are known from how they were built. Each case says what it should come to:
// stored (moved to DMARC/Processed, with the notes of the values that were skipped) or refused
// (moved to DMARC/Invalid with a reason). Big cases are written to disk in pieces, never held whole.

import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import {
  ALL_REPORTERS,
  aggregateXml,
  aggregateXmlChunks,
  createRng,
  failureReportMail,
  gzipBytes,
  randomAggregateReport,
  reportFileName,
  reportMail,
  zipBytes,
  zipFiles,
  type Attachment,
  type MailHeaders,
  type Rng,
} from '../../src/generate/index.ts';
import type { AggregateRecord, AggregateReport, FailureReport } from '../../src/model.ts';
import type { ReadErrorCode } from '../../src/reader/errors.ts';

export type Expected =
  { folder: 'Processed'; notes: number } | { folder: 'Invalid'; code: ReadErrorCode; reason: RegExp };

export interface HostileCase {
  /** also the file name of the case's inputs */
  name: string;
  /** what the input is, and what it did to the bot before the bounds */
  what: string;
  expected: Expected;
  /** with angle brackets, as imapflow's envelope gives it */
  messageId: string;
  /** writes the mail (big ones in pieces) */
  writeMail(path: string): void | Promise<void>;
  /** the report file the mail carries, read bare by `parse` and `ingest PATH` */
  file?: { ext: string; write(path: string): void | Promise<void> };
  /** the aggregate reports stored from it, holding only the records that must survive */
  stored: AggregateReport[];
  failures: number;
}

const DAY_MS = 86_400_000;
const MIB = 1024 * 1024;
/** the default MAX_ATTACHMENT_MB */
const CAP = 64 * MIB;

export function utcDay(daysAgo: number, now = Date.now()): string {
  return new Date(now - daysAgo * DAY_MS).toISOString().slice(0, 10);
}

function headers(name: string, subject: string): MailHeaders {
  return {
    from: 'noreply-dmarc@reporter.example',
    to: 'dmarc@example.com',
    subject,
    date: new Date(),
    messageId: `<${name}@hostile.example>`,
  };
}

function mailCase(
  base: Omit<HostileCase, 'writeMail' | 'messageId' | 'failures' | 'stored'> &
    Partial<Pick<HostileCase, 'stored' | 'failures'>>,
  mail: Buffer,
): HostileCase {
  return {
    stored: [],
    failures: 0,
    ...base,
    messageId: `<${base.name}@hostile.example>`,
    writeMail: (path) => writeFileSync(path, mail),
  };
}

function attachmentCase(
  base: Omit<HostileCase, 'writeMail' | 'messageId' | 'failures' | 'stored' | 'file'> &
    Partial<Pick<HostileCase, 'stored'>>,
  attachment: Attachment,
  ext: string,
): HostileCase {
  const mail = reportMail([attachment], headers(base.name, `Report Domain: ${base.name}`));
  return mailCase({ ...base, file: { ext, write: (path) => writeFileSync(path, attachment.content) } }, mail);
}

/** Replaces the text of the n-th `<tag>` element of the XML. */
export function setElement(xml: string, tag: string, value: string, n = 0): string {
  let seen = -1;
  return xml.replace(new RegExp(`<${tag}>[^<]*</${tag}>`, 'g'), (match) =>
    ++seen === n ? `<${tag}>${value}</${tag}>` : match,
  );
}

export function utf16(text: string, order: 'le' | 'be'): Buffer {
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  if (order === 'le') return le;
  const be = Buffer.from(le);
  be.swap16();
  return be;
}

export function utf32(text: string, littleEndian: boolean): Buffer {
  const points = [0xfeff, ...Array.from(text, (char) => char.codePointAt(0)!)];
  const bytes = Buffer.alloc(points.length * 4);
  points.forEach((point, i) => (littleEndian ? bytes.writeUInt32LE(point, i * 4) : bytes.writeUInt32BE(point, i * 4)));
  return bytes;
}

export interface HostileSetOptions {
  seed: string;
  /** the days (UTC, YYYY-MM-DD) the good reports cover: one old, one recent */
  oldDay: string;
  recentDay: string;
}

/** The good report mails: two domains, two days, three reporters, every container. */
function goodCases(options: HostileSetOptions, rng: Rng): HostileCase[] {
  const cases: HostileCase[] = [];
  const containers = ['zip', 'gzip', 'xml'] as const;
  let n = 0;
  for (const domain of ['good-a.example', 'good-b.example'])
    for (const day of [options.oldDay, options.recentDay])
      for (const reporter of ALL_REPORTERS.slice(0, 3)) {
        const name = `good-${n}`;
        const report = randomAggregateReport({
          seed: `${options.seed}:${name}`,
          records: rng.int(2, 30),
          domain,
          org: reporter.orgName,
          begin: `${day}T00:00:00Z`,
        });
        const container = containers[n++ % containers.length]!;
        const xml = aggregateXml(report);
        const fileName = reportFileName(report, reporter.receiver);
        const attachment: Attachment =
          container === 'zip'
            ? {
                filename: fileName.replace(/\.xml$/, '.zip'),
                contentType: 'application/zip',
                content: zipBytes(fileName, xml),
              }
            : container === 'gzip'
              ? { filename: `${fileName}.gz`, contentType: 'application/gzip', content: gzipBytes(xml) }
              : { filename: fileName, contentType: 'text/xml', content: Buffer.from(xml) };
        const mail = reportMail([attachment], { ...headers(name, `Report Domain: ${domain}`), from: reporter.email });
        cases.push(
          mailCase(
            {
              name,
              what: `a good ${container} report of ${domain}`,
              expected: { folder: 'Processed', notes: 0 },
              stored: [report],
            },
            mail,
          ),
        );
      }
  return cases;
}

/** A report of odd.example on the recent day, from its own reporter (so no two collide). */
function oddReport(options: HostileSetOptions, name: string, records: number): AggregateReport {
  return randomAggregateReport({
    seed: `${options.seed}:${name}`,
    records,
    domain: 'odd.example',
    org: `${name}.reporter.example`,
    begin: `${options.recentDay}T00:00:00Z`,
  });
}

function without(
  report: AggregateReport,
  skipped: number[],
  change: (record: AggregateRecord, i: number) => AggregateRecord = (r) => r,
): AggregateReport {
  return { ...report, records: report.records.map(change).filter((_, i) => !skipped.includes(i)) };
}

/** Writes head, then body repeated until the file holds `size` bytes or more, then tail. */
function writeRepeated(path: string, head: string, body: string, tail: string, size: number): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    const block = Buffer.from(body);
    for (let written = head.length; written < size; written += block.length) writeSync(fd, block);
    writeSync(fd, tail);
  } finally {
    closeSync(fd);
  }
}

/** Writes bytes as base64 in 76-character lines, as mail does, without holding more than one piece. */
function base64Writer(fd: number): { write(bytes: Buffer | string): void; end(): void } {
  let carry = Buffer.alloc(0);
  const flush = (bytes: Buffer) => {
    const text = bytes.toString('base64');
    const lines: string[] = [];
    for (let i = 0; i < text.length; i += 76) lines.push(text.slice(i, i + 76));
    if (lines.length) writeSync(fd, lines.join('\r\n') + '\r\n');
  };
  return {
    write(bytes) {
      const all = Buffer.concat([carry, Buffer.from(bytes)]);
      const whole = all.length - (all.length % 57);
      flush(all.subarray(0, whole));
      carry = Buffer.from(all.subarray(whole));
    },
    end() {
      flush(carry);
      carry = Buffer.alloc(0);
    },
  };
}

/** gzip of `size` zero bytes, made in pieces so the test never holds the inflated bytes. */
export async function gzipOfZeros(size: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => parts.push(chunk));
  const finished = new Promise<void>((resolve, reject) => (gzip.on('end', resolve), gzip.on('error', reject)));
  const zeros = Buffer.alloc(4 * MIB);
  for (let written = 0; written < size; written += zeros.length)
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  gzip.end();
  await finished;
  return Buffer.concat(parts);
}

/** Every hostile case, then the good mails between them. */
export async function hostileSet(options: HostileSetOptions): Promise<HostileCase[]> {
  const rng = createRng(options.seed);
  const cases: HostileCase[] = [];

  // -- mails that hang mailparser --------------------------------------------------------------
  cases.push(
    mailCase(
      {
        name: 'header-only-rfc822',
        what: 'a header-only message/rfc822 inline mail: mailparser never settles on it',
        expected: { folder: 'Invalid', code: 'deadline', reason: /took longer than \d+ ms; stopped/ },
      },
      Buffer.from(
        [
          'From: a@reporter.example',
          'To: dmarc@example.com',
          `Subject: header only ${rng.hex(6)}`,
          'Message-ID: <header-only-rfc822@hostile.example>',
          'Content-Type: message/rfc822',
          'Content-Disposition: inline',
          '',
        ].join('\r\n'),
      ),
    ),
  );
  const failure: FailureReport = {
    kind: 'failure',
    reportedDomain: 'odd.example',
    sourceIp: `192.0.2.${rng.int(1, 254)}`,
    arrivalDate: `${options.recentDay}T10:00:00.000Z`,
    authFailure: ['dmarc'],
    deliveryResult: 'reject',
    originalMailFrom: 'x@odd.example',
    originalRcptTo: 'y@example.net',
    headerFrom: 'odd.example',
    subject: 'hello',
    messageId: `${rng.hex(8)}@odd.example`,
  };
  cases.push(
    mailCase(
      {
        name: 'failure-quoting-rfc822',
        what: 'a failure report whose original-headers part quotes the never-settling headers: read as a failure report',
        expected: { folder: 'Processed', notes: 0 },
        failures: 1,
      },
      Buffer.from(
        failureReportMail(failure, headers('failure-quoting-rfc822', 'FW: auth failure'))
          .toString('latin1')
          .replace(
            'Content-Type: text/rfc822-headers\r\n\r\n',
            'Content-Type: text/rfc822-headers\r\n\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n',
          ),
        'latin1',
      ),
    ),
  );

  // -- dates that never end the day arithmetic ---------------------------------------------------
  const dated = aggregateXml(oddReport(options, 'millis', 4));
  const nowSeconds = Math.floor(Date.now() / 1000);
  const millis = setElement(
    setElement(dated, 'begin', String((nowSeconds - 86_400) * 1000)),
    'end',
    String(nowSeconds * 1000 - rng.int(0, 1000)),
  );
  cases.push(
    attachmentCase(
      {
        name: 'millisecond-epoch',
        what: 'a date range in milliseconds: a year past 50000, which poisoned every later prune',
        expected: { folder: 'Invalid', code: 'bad-date', reason: /is year \d{5,}, outside the window/ },
      },
      { filename: 'ms.example!odd.example!1!2.xml', contentType: 'text/xml', content: Buffer.from(millis) },
      'xml',
    ),
  );
  const year10000 = Date.UTC(10000, 0, 1) / 1000;
  cases.push(
    attachmentCase(
      {
        name: 'year-10000',
        what: 'a report dated in the year 10000 (toISOString gives +010000-...)',
        expected: {
          folder: 'Invalid',
          code: 'bad-date',
          reason: /<begin> 253402300800 is year 10000, outside the window/,
        },
      },
      {
        filename: 'y10k.example!odd.example!1!2.xml.gz',
        contentType: 'application/gzip',
        content: gzipBytes(
          setElement(setElement(dated, 'begin', String(year10000)), 'end', String(year10000 + 86_399)),
        ),
      },
      'xml.gz',
    ),
  );

  // -- prototype keys ----------------------------------------------------------------------------
  const proto = oddReport(options, 'proto', 6);
  const protoXml = setElement(
    setElement(
      setElement(setElement(aggregateXml(proto), 'source_ip', '__proto__', 0), 'header_from', 'constructor', 1),
      'disposition',
      'constructor',
      2,
    ),
    'header_from',
    '__proto__',
    3,
  );
  cases.push(
    attachmentCase(
      {
        name: 'prototype-keys',
        what: '__proto__ as a source IP (polluted Object.prototype), constructor as header_from and disposition, __proto__ as header_from',
        expected: { folder: 'Processed', notes: 1 },
        stored: [
          without(proto, [0], (record, i) =>
            i === 1
              ? { ...record, identifiers: { ...record.identifiers, headerFrom: 'constructor' } }
              : i === 2
                ? { ...record, disposition: 'constructor' }
                : i === 3
                  ? { ...record, identifiers: { ...record.identifiers, headerFrom: '__proto__' } }
                  : record,
          ),
        ],
      },
      { filename: 'proto.example!odd.example!1!2.xml', contentType: 'text/xml', content: Buffer.from(protoXml) },
      'xml',
    ),
  );

  // -- a tiny attachment that grew the store to 3 GB --------------------------------------------
  const bloated = { ...oddReport(options, 'bloat', 3000), orgName: 'A'.repeat(MIB) };
  const bloatedGz = gzipBytes(aggregateXml(bloated));
  cases.push(
    attachmentCase(
      {
        name: 'megabyte-org-name',
        what: `a ${Math.round(bloatedGz.length / 1024)} KB attachment: a 1 MB org_name and 3,000 records (copied into every per-IP entry: 3 GB)`,
        expected: { folder: 'Invalid', code: 'field-too-long', reason: /<org_name> is 1048576 characters long/ },
      },
      { filename: 'bloat.example!odd.example!1!2.xml.gz', contentType: 'application/gzip', content: bloatedGz },
      'xml.gz',
    ),
  );

  // -- a plain 70 MB XML attachment (8bit, not base64: the mail itself stays under the mail cap) --
  const big = oddReport(options, 'plain-70mb', 200);
  const [head, body, tail] = [...aggregateXmlChunks(big, {}, 200)] as [string, string, string];
  const bigSize = 70 * MIB;
  const mailHead = [
    'From: noreply-dmarc@reporter.example',
    'To: dmarc@example.com',
    'Subject: Report Domain: odd.example',
    'Message-ID: <plain-xml-70mb@hostile.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="big-boundary"',
    '',
    '--big-boundary',
    'Content-Type: text/xml; name="big.example!odd.example!1!2.xml"',
    'Content-Transfer-Encoding: 8bit',
    'Content-Disposition: attachment; filename="big.example!odd.example!1!2.xml"',
    '',
    '',
  ].join('\r\n');
  cases.push({
    name: 'plain-xml-70mb',
    what: 'a 70 MB plain XML attachment (the cap held only for compressed input: read whole, 3.5 GB)',
    expected: { folder: 'Invalid', code: 'too-large', reason: /over the cap of 67108864 bytes/ },
    messageId: '<plain-xml-70mb@hostile.example>',
    writeMail: (path) => writeRepeated(path, mailHead + head, body, `${tail}\r\n--big-boundary--\r\n`, bigSize),
    file: { ext: 'xml', write: (path) => writeRepeated(path, head, body, tail, bigSize) },
    stored: [],
    failures: 0,
  });

  const base64Head = mailHead
    .replace('<plain-xml-70mb@', '<base64-xml-70mb@')
    .replace('Content-Transfer-Encoding: 8bit', 'Content-Transfer-Encoding: base64');
  cases.push({
    name: 'base64-xml-70mb',
    what: 'the same 70 MB XML base64-encoded: a 96 MB mail, bigger than any report mail may be',
    expected: {
      folder: 'Invalid',
      code: 'too-large',
      reason: /over the cap of 93952409 bytes|more than the \d+ a report mail may have/,
    },
    messageId: '<base64-xml-70mb@hostile.example>',
    writeMail: (path) => {
      const fd = openSync(path, 'w');
      try {
        writeSync(fd, base64Head);
        const encoder = base64Writer(fd);
        encoder.write(head);
        const block = Buffer.from(body);
        for (let written = head.length; written < bigSize; written += block.length) encoder.write(block);
        encoder.write(tail);
        encoder.end();
        writeSync(fd, '\r\n--big-boundary--\r\n');
      } finally {
        closeSync(fd);
      }
    },
    stored: [],
    failures: 0,
  });

  // -- values at the edge of the model ------------------------------------------------------------
  const counted = oddReport(options, 'huge-count', 4);
  const digits = Array.from({ length: 400 }, (_, i) => (i === 0 ? rng.int(1, 9) : rng.int(0, 9))).join('');
  cases.push(
    attachmentCase(
      {
        name: 'count-400-digits',
        what: 'a 400-digit count (became Infinity, stored as null, shown as 0): that record skipped',
        expected: { folder: 'Processed', notes: 1 },
        stored: [without(counted, [2])],
      },
      {
        filename: 'count.example!odd.example!1!2.xml',
        contentType: 'text/xml',
        content: Buffer.from(setElement(aggregateXml(counted), 'count', digits, 2)),
      },
      'xml',
    ),
  );
  const legacy = oddReport(options, 'legacy-ip', 4);
  cases.push(
    attachmentCase(
      {
        name: 'legacy-ip',
        what: 'source IPs in legacy forms (010.000.000.001 was stored as 8.0.0.1; 10.1 as 10.0.0.1): those records skipped',
        expected: { folder: 'Processed', notes: 2 },
        stored: [without(legacy, [1, 3])],
      },
      {
        filename: 'legacy.example!odd.example!1!2.xml',
        contentType: 'text/xml',
        content: Buffer.from(
          setElement(setElement(aggregateXml(legacy), 'source_ip', '010.000.000.001', 1), 'source_ip', '10.1', 3),
        ),
      },
      'xml',
    ),
  );
  const ansi = oddReport(options, 'ansi', 3);
  const evilName = `Evil\x1b[31m Corp\x1b]0;pwned\x07\x1b[2J`;
  cases.push(
    attachmentCase(
      {
        name: 'ansi-org-name',
        what: 'ANSI escapes in org_name (reached the terminal raw): stripped',
        expected: { folder: 'Processed', notes: 0 },
        stored: [{ ...ansi, orgName: 'Evil Corp' }],
      },
      {
        filename: 'ansi.example!odd.example!1!2.xml',
        contentType: 'text/xml',
        content: Buffer.from(setElement(aggregateXml(ansi), 'org_name', evilName)),
      },
      'xml',
    ),
  );
  for (const [name, encode] of [
    ['utf16le-bom', (text: string) => utf16(text, 'le')],
    ['utf16be-bom', (text: string) => utf16(text, 'be')],
    ['utf32le-bom', (text: string) => utf32(text, true)],
    ['utf32be-bom', (text: string) => utf32(text, false)],
  ] as const) {
    const report = { ...oddReport(options, name, rng.int(2, 6)), orgName: `Rapporteur Ünïcødé ${name}` };
    cases.push(
      attachmentCase(
        {
          name,
          what: `a ${name.slice(0, 5).toUpperCase()} report with a BOM (was refused as "not a report")`,
          expected: { folder: 'Processed', notes: 0 },
          stored: [report],
        },
        {
          filename: `${name}.example!odd.example!1!2.xml`,
          contentType: 'application/octet-stream',
          content: encode(aggregateXml(report)),
        },
        'xml',
      ),
    );
  }

  // -- containers -------------------------------------------------------------------------------
  cases.push(
    attachmentCase(
      {
        name: 'gzip-bomb',
        what: 'a gzip that inflates to 256 MB of zeros',
        expected: { folder: 'Invalid', code: 'too-large', reason: /inflates past the cap/ },
      },
      {
        filename: 'bomb.example!odd.example!1!2.xml.gz',
        contentType: 'application/gzip',
        content: await gzipOfZeros(256 * MIB),
      },
      'xml.gz',
    ),
  );
  const entryCount = rng.int(101, 2000);
  const small = aggregateXml(oddReport(options, 'entries', 1));
  cases.push(
    attachmentCase(
      {
        name: 'zip-many-entries',
        what: `a zip with ${entryCount} entries`,
        expected: {
          folder: 'Invalid',
          code: 'too-many-entries',
          reason: new RegExp(`zip holds ${entryCount} entries`),
        },
      },
      {
        filename: 'entries.example!odd.example!1!2.zip',
        contentType: 'application/zip',
        content: zipFiles(
          Array.from({ length: entryCount }, (_, i) => ({ name: `r${i}.xml`, content: Buffer.from(small) })),
        ),
      },
      'zip',
    ),
  );
  const depth = rng.int(9, 60);
  let nested = [
    'Content-Type: text/xml',
    'Content-Disposition: attachment; filename=r.xml',
    '',
    aggregateXml(oddReport(options, 'deep', 2)),
  ].join('\r\n');
  for (let level = depth; level > 0; level--)
    nested = [
      `Content-Type: multipart/mixed; boundary="b${level}"`,
      '',
      `--b${level}`,
      nested,
      `--b${level}--`,
      '',
    ].join('\r\n');
  cases.push(
    mailCase(
      {
        name: 'deep-mime',
        what: `MIME parts nested ${depth} deep`,
        expected: { folder: 'Invalid', code: 'too-deep', reason: /MIME parts nested more than 8 deep/ },
      },
      Buffer.from(
        `From: a@reporter.example\r\nTo: dmarc@example.com\r\nSubject: nested\r\nMessage-ID: <deep-mime@hostile.example>\r\nMIME-Version: 1.0\r\n${nested}`,
      ),
    ),
  );

  // the good mails between the hostile ones
  const good = goodCases(options, rng);
  const mixed: HostileCase[] = [];
  for (let i = 0; i < Math.max(cases.length, good.length); i++) {
    if (good[i]) mixed.push(good[i]!);
    if (cases[i]) mixed.push(cases[i]!);
  }
  return mixed;
}

export { CAP as DEFAULT_CAP_BYTES };
