// Acceptance: every file of the real-world corpus (test/fixtures/corpus) is read into the figures written below, or
// refused with a clear reason. The figures come from reading the files themselves (dates checked
// with `date -u -d @EPOCH`); the two big files are checked against counts taken with plain regular
// expressions over the XML, independently of the parser.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AggregateReport, FailureReport, Report, TlsReport } from '../../src/model.ts';
import { readReports, type ReadOutcome } from '../../src/reader/index.ts';

const corpus = join(import.meta.dirname, '../fixtures/corpus');

async function read(path: string): Promise<ReadOutcome> {
  return readReports(readFileSync(join(corpus, path)), { source: path });
}

async function only<K extends Report['kind']>(path: string, kind: K): Promise<Extract<Report, { kind: K }>> {
  const outcome = await read(path);
  expect(outcome.errors.map((error) => error.message)).toEqual([]);
  expect(outcome.reports).toHaveLength(1);
  const report = outcome.reports[0]!;
  expect(report.kind).toBe(kind);
  return report as Extract<Report, { kind: K }>;
}

const aggregate = (path: string) => only(path, 'aggregate') as Promise<AggregateReport>;
const failure = (path: string) => only(path, 'failure') as Promise<FailureReport>;
const tls = (path: string) => only(path, 'tls') as Promise<TlsReport>;

interface Figures {
  orgName: string;
  reportId: string;
  begin: string;
  end: string;
  domain: string;
  p: string | null;
  records: number;
  messages: number;
  /** messages whose reporter-evaluated DKIM or SPF passed */
  passing: number;
}

function figures(report: AggregateReport): Figures {
  return {
    orgName: report.orgName,
    reportId: report.reportId,
    begin: report.begin,
    end: report.end,
    domain: report.policy.domain,
    p: report.policy.p,
    records: report.records.length,
    messages: report.records.reduce((sum, record) => sum + record.count, 0),
    passing: report.records.filter((record) => record.dmarc === 'pass').reduce((sum, record) => sum + record.count, 0),
  };
}

/** Record figures taken with regular expressions straight from the XML text. */
function regexFigures(xml: string): { records: number; messages: number; passing: number } {
  const records = xml.match(/<record>[\s\S]*?<\/record>/g) ?? [];
  let messages = 0;
  let passing = 0;
  for (const record of records) {
    const count = Number(/<count>\s*(\d+)\s*<\/count>/.exec(record)![1]);
    const evaluated = /<policy_evaluated>([\s\S]*?)<\/policy_evaluated>/.exec(record)![1]!;
    messages += count;
    if (/<(dkim|spf)>\s*pass\s*<\/\1>/i.test(evaluated)) passing += count;
  }
  return { records: records.length, messages, passing };
}

const aggregateFigures: Record<string, Figures> = {
  'aggregate/!example.com!1538204542!1538463818.xml': {
    orgName: 'accurateplastics.com',
    reportId: 'example.com:1538463741',
    begin: '2018-10-01T17:07:12.000Z',
    end: '2018-10-01T17:07:12.000Z',
    domain: 'example.com',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml': {
    orgName: 'google.com',
    reportId: '949348866075514174',
    begin: '2019-02-12T00:00:00.000Z',
    end: '2019-02-12T23:59:59.000Z',
    domain: 'borschow.com',
    p: 'reject',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml': {
    orgName: 'addisonfoods.com',
    reportId: '3ceb5548498640beaeb47327e202b0b9',
    begin: '2018-09-05T00:00:00.000Z',
    end: '2018-09-05T23:59:59.000Z',
    domain: 'example.com',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/empty_reason.xml': {
    orgName: 'example.org',
    reportId: '20240125141224705995',
    begin: '2024-01-25T05:12:24.000Z',
    end: '2024-01-25T12:28:53.000Z',
    domain: 'example.com',
    p: 'quarantine',
    records: 1,
    messages: 2,
    passing: 2,
  },
  'aggregate/estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip': {
    orgName: 'XYZ Corporation',
    reportId: '2940',
    begin: '2018-09-13T15:41:42.000Z',
    end: '2018-09-14T15:41:42.000Z',
    domain: 'example.com',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/example.net!example.com!1529366400!1529452799.xml': {
    orgName: 'example.net',
    reportId: 'b043f0e264cf4ea995e93765242f6dfb',
    begin: '2018-06-19T00:00:00.000Z',
    end: '2018-06-19T23:59:59.000Z',
    domain: 'example.com',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz': {
    orgName: 'FastMail Pty Ltd',
    reportId: '102675056',
    begin: '2018-01-16T00:00:00.000Z',
    end: '2018-01-16T23:59:59.000Z',
    domain: 'indemed.com',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/ikea.com!example.de!1538690400!1538776800.xml': {
    orgName: 'ikea.com',
    reportId: 'aggr_report_2018_10_05_5bc7e9b4f3e8a',
    begin: '2018-10-04T22:00:00.000Z',
    end: '2018-10-05T22:00:00.000Z',
    domain: 'example.de',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/invalid_utf_8.xml': {
    orgName: 'accurateplastics.com',
    reportId: 'example.com:1538463741',
    begin: '2018-10-01T17:07:12.000Z',
    end: '2018-10-01T17:07:12.000Z',
    domain: 'example.com',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/invalid_xml.xml': {
    orgName: 'veeam.com',
    reportId: 'sonexushealth.com:1530233361',
    begin: '2018-06-27T21:00:00.000Z',
    end: '2018-06-28T21:00:00.000Z',
    domain: 'example.com',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/mimecast-weird-gzip.eml': {
    orgName: 'Mimecast',
    reportId: '157a5fe30ec76f4bc0d8bccfc96c118a167a1280fee7c7465af5115e73082e5e',
    begin: '2023-08-30T00:00:00.000Z',
    end: '2023-08-30T23:59:59.000Z',
    domain: 'ab.id.au',
    p: 'reject',
    records: 1,
    messages: 1,
    passing: 1,
  },
  'aggregate/old_draft_from_wiki.xml': {
    orgName: 'acme.com',
    reportId: '9391651994964116463',
    begin: '2012-04-28T00:00:00.000Z',
    end: '2012-04-28T23:59:59.000Z',
    domain: 'example.com',
    p: 'none',
    records: 1,
    messages: 2,
    passing: 2,
  },
  'aggregate/protection.outlook.com!example.com!1711756800!1711843200.xml': {
    orgName: 'Outlook.com',
    reportId: 'cfeafefe4129445e8c81018bd9177197',
    begin: '2024-03-30T00:00:00.000Z',
    end: '2024-03-31T00:00:00.000Z',
    domain: 'example.com',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml': {
    orgName: 'example.net',
    reportId: 'dmarcbis-test-report-001',
    begin: '2023-11-14T22:13:20.000Z',
    end: '2023-11-15T22:13:19.000Z',
    domain: 'example.com',
    p: 'reject',
    records: 2,
    messages: 7,
    passing: 5,
  },
  'aggregate/twilight.eml': {
    orgName: 'google.com',
    reportId: '1627703331531660819',
    begin: '2019-02-10T00:00:00.000Z',
    end: '2019-02-10T23:59:59.000Z',
    domain: 'twlnet.com',
    p: 'reject',
    records: 1,
    messages: 1,
    passing: 1,
  },
  'aggregate/usssa.com!example.com!1538784000!1538870399.xml': {
    orgName: 'usssa.com',
    reportId: '8953b4d4a4ee4218b6ac0e2cb2667ee1',
    begin: '2018-10-06T00:00:00.000Z',
    end: '2018-10-06T23:59:59.000Z',
    domain: 'example.com',
    p: 'none',
    records: 2,
    messages: 2,
    passing: 0,
  },
  'aggregate/veeam.com!example.com!1530133200!1530219600.xml': {
    orgName: 'veeam.com',
    reportId: 'sonexushealth.com:1530233361',
    begin: '2018-06-27T21:00:00.000Z',
    end: '2018-06-28T21:00:00.000Z',
    domain: 'example.com',
    p: 'none',
    records: 1,
    messages: 1,
    passing: 0,
  },
  'aggregate_invalid/report_with_upper_cased_pass.xml': {
    orgName: 'example.com',
    reportId: 'aggr_report_example.com_20191202_1638',
    begin: '2019-11-28T15:35:00.000Z',
    end: '2019-12-02T16:38:03.000Z',
    domain: 'example.com',
    p: 'reject',
    records: 1,
    messages: 1,
    passing: 1,
  },
};

// Files checked by their own tests below rather than by the table.
const checkedElsewhere = new Set([
  'aggregate/!large-example.com!1711897200!1711983600.xml',
  'aggregate/rfc9990-sample.xml',
  'empty.xml',
  'extract_report/nice-input.xml',
  'extract_report/nice-input.xml.gz',
  'extract_report/nice-input.xml.zip',
  'extract_report/changed-input.xml',
  'failure/DMARC Failure Report for domain.de (mail-from=sharepoint@domain.de, ip=10.10.10.10).eml',
  'failure/[Netease DMARC Failure Report] Rent Reminder.eml',
  'failure/dmarc_ruf_report_linkedin.eml',
  'failure/dmarc_ruf_report_linkedin.crlf.eml',
  'failure/exim_plain_text_only_no_arf_part.eml',
  'smtp_tls/google.com_smtp_tls_report.eml',
  'smtp_tls/mail.ru.json',
  'smtp_tls/rfc8460.json',
  'smtp_tls/smtp_tls.json',
]);

function corpusFiles(dir = corpus): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) =>
      statSync(join(dir, name)).isDirectory() ? corpusFiles(join(dir, name)) : [relative(corpus, join(dir, name))],
    )
    .filter((path) => path !== 'README.md');
}

describe('the corpus', () => {
  it('has an expectation for every file (a new sample cannot slip through untested)', () => {
    const untested = corpusFiles().filter((path) => !(path in aggregateFigures) && !checkedElsewhere.has(path));
    expect(untested).toEqual([]);
  });

  it.each(Object.entries(aggregateFigures))('reads %s', async (path, expected) => {
    expect(figures(await aggregate(path))).toEqual(expected);
  });

  it('reads the large report: records, messages and passes as counted in the raw XML', async () => {
    const path = 'aggregate/!large-example.com!1711897200!1711983600.xml';
    const report = await aggregate(path);
    const oracle = regexFigures(readFileSync(join(corpus, path), 'utf8'));
    expect(oracle.records).toBe(2286);
    const { records, messages, passing } = figures(report);
    expect({ records, messages, passing }).toEqual(oracle);
    expect(report.begin).toBe('2024-03-31T15:00:00.000Z');
    expect(report.end).toBe('2024-04-01T15:00:00.000Z');
    expect(report.orgName).toBe('accurateplastics.com');
  });

  it('refuses the empty file with a clear reason', async () => {
    const { reports, errors } = await read('empty.xml');
    expect(reports).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('empty');
    expect(errors[0]!.message).toContain('empty.xml');
    expect(errors[0]!.message).toMatch(/empty|0 bytes/);
  });

  it('gives identical reports for nice-input as .xml, .xml.gz and .xml.zip, and a different one for changed-input', async () => {
    const plain = await aggregate('extract_report/nice-input.xml');
    expect(await aggregate('extract_report/nice-input.xml.gz')).toEqual(plain);
    expect(await aggregate('extract_report/nice-input.xml.zip')).toEqual(plain);
    const changed = await aggregate('extract_report/changed-input.xml');
    expect(changed).not.toEqual(plain);
    expect(changed.orgName).toBe('fred.com');
    expect(plain.orgName).toBe('google.com');
    const oracle = regexFigures(readFileSync(join(corpus, 'extract_report/nice-input.xml'), 'utf8'));
    expect(oracle).toEqual({ records: 20, messages: 3047, passing: 3047 });
    const { records, messages, passing } = figures(plain);
    expect({ records, messages, passing }).toEqual(oracle);
    expect(plain.policy.np).toBe('none');
  });
});

describe('aggregate quirks in the corpus', () => {
  it('falls back to the email domain for an empty org_name, and says so', async () => {
    const report = await aggregate('aggregate/!example.com!1538204542!1538463818.xml');
    expect(report.orgEmail).toBe('administrator@accurateplastics.com');
    expect(report.errors.some((note) => note.includes('org_name'))).toBe(true);
    const record = report.records[0]!;
    expect(record.identifiers).toEqual({ headerFrom: 'example.com', envelopeFrom: null, envelopeTo: null });
    expect(record.authResults.spf).toEqual([{ domain: '', scope: null, result: 'none' }]);
    expect(record.alignment.spf).toBe(false);
    expect(report.policy).toMatchObject({ sp: 'reject', pct: 100, adkim: 'r', aspf: 'r', np: null, testing: null });
  });

  it('keeps an unrelated passing DKIM domain as unaligned (addisonfoods)', async () => {
    const report = await aggregate('aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml');
    const record = report.records[0]!;
    expect(record.authResults.dkim).toEqual([
      { domain: 'toptierhighticket.club', selector: 'default', result: 'pass' },
    ]);
    expect(record.authResults.spf).toEqual([]);
    expect(record.alignment).toEqual({ dkim: false, spf: false, dkimUnalignedPass: ['toptierhighticket.club'] });
    expect(record.evaluated).toEqual({ dkim: 'fail', spf: 'fail' });
    expect(record.dmarc).toBe('fail');
    expect(report.version).toBe('1.0');
    expect(report.policy.fo).toBe('0');
  });

  it('skips an empty <reason>, keeps envelope_to and human_result, and tells aligned DKIM from unaligned SPF', async () => {
    const report = await aggregate('aggregate/empty_reason.xml');
    const record = report.records[0]!;
    expect(record.reasons).toEqual([]);
    expect(record.identifiers).toEqual({
      headerFrom: 'example.com',
      envelopeFrom: 'example.edu',
      envelopeTo: 'example.net',
    });
    expect(record.authResults.dkim[0]).toEqual({
      domain: 'example.com',
      selector: 'example',
      result: 'pass',
      humanResult: '2048-bit key',
    });
    expect(record.alignment).toEqual({ dkim: true, spf: false, spfUnalignedPass: ['example.edu'] });
    expect(report.extraContactInfo).toBe('https://support.example.org/dmarc');
  });

  it('ignores stray text in policy_published and reads an empty auth_results as none', async () => {
    const report = await aggregate('aggregate/example.net!example.com!1529366400!1529452799.xml');
    expect(report.policy).toMatchObject({ domain: 'example.com', sp: 'none', pct: 100 });
    expect(report.errors.some((note) => note.includes('stray text') && note.includes('11'))).toBe(true);
    expect(report.records[0]!.authResults).toEqual({ dkim: [], spf: [] });
  });

  it('reads the IKEA report behind an unclosed <xs:schema> tag, with a HELO-scoped SPF and a selector-less DKIM', async () => {
    const record = (await aggregate('aggregate/ikea.com!example.de!1538690400!1538776800.xml')).records[0]!;
    expect(record.authResults.dkim).toEqual([{ domain: 'example.de', selector: null, result: 'pass' }]);
    expect(record.authResults.spf).toEqual([{ domain: 'mailrelay.com', scope: 'helo', result: 'none' }]);
    expect(record.alignment.dkim).toBe(true);
    expect(record.alignment.spf).toBe(false);
  });

  it('replaces an invalid UTF-8 byte and records the repair', async () => {
    const report = await aggregate('aggregate/invalid_utf_8.xml');
    expect(report.records[0]!.identifiers.headerFrom).toBe('bad_byte\uFFFD');
    expect(report.errors.some((note) => /UTF-8/.test(note))).toBe(true);
  });

  it('repairs unescaped "<" in text and records each repair', async () => {
    const report = await aggregate('aggregate/invalid_xml.xml');
    expect(report.orgEmail).toBe('bad-xml@bad-xml.net');
    expect(report.records[0]!.identifiers.headerFrom).toBe('bad<xml.net');
    expect(report.errors.filter((note) => note.includes("'<'"))).toHaveLength(2);
  });

  it('reads the pre-RFC draft without <version>', async () => {
    const report = await aggregate('aggregate/old_draft_from_wiki.xml');
    expect(report.version).toBeNull();
    expect(report.records[0]!.authResults.dkim).toEqual([{ domain: 'example.com', selector: null, result: 'fail' }]);
    expect(report.records[0]!.alignment).toEqual({ dkim: false, spf: true });
  });

  it('reads RFC 9990 fields without a namespace', async () => {
    const report = await aggregate('aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml');
    expect(report.version).toBe('2.0');
    expect(report.policy).toEqual({
      domain: 'example.com',
      p: 'reject',
      sp: 'quarantine',
      np: 'reject',
      pct: null,
      adkim: 's',
      aspf: 's',
      fo: '1',
      testing: 'y',
      discoveryMethod: 'treewalk',
    });
    const [good, spoofed] = report.records;
    expect(good!.alignment).toEqual({ dkim: true, spf: true });
    expect(spoofed!.disposition).toBe('reject');
    expect(spoofed!.reasons).toEqual([{ type: 'other', comment: 'sender not authorized' }]);
    expect(spoofed!.alignment).toEqual({ dkim: false, spf: false });
  });

  it('refuses the RFC 9990 sample as it stands: it is dated 1979, before DMARC reports existed', async () => {
    const { reports, errors } = await read('aggregate/rfc9990-sample.xml');
    expect(reports).toEqual([]);
    expect(errors.map((error) => [error.code, error.message])).toEqual([
      ['bad-date', expect.stringMatching(/<begin> 302832000 is 1979-08-07T00:00:00.000Z, outside the window/)],
    ]);
  });

  it('reads the RFC 9990 namespaced sample with generator and disposition pass (re-dated into the window)', async () => {
    // the same bytes with its begin and end moved by 1.4e9 s (44 years), so that the date window passes
    const xml = readFileSync(join(corpus, 'aggregate/rfc9990-sample.xml'), 'utf8').replace(
      /<(begin|end)>(\d+)</g,
      (_, tag: string, seconds: string) => `<${tag}>${Number(seconds) + 1_400_000_000}<`,
    );
    const outcome = await readReports(Buffer.from(xml), { source: 'rfc9990-sample.xml' });
    expect(outcome.errors).toEqual([]);
    const report = outcome.reports[0] as AggregateReport;
    expect(figures(report)).toEqual({
      orgName: 'Sample Reporter',
      reportId: '3v98abbp8ya9n3va8yr8oa3ya',
      begin: '2023-12-17T16:53:20.000Z',
      end: '2023-12-18T16:53:19.000Z',
      domain: 'example.com',
      p: 'quarantine',
      records: 1,
      messages: 123,
      passing: 123,
    });
    expect(report.generator).toBe('Example DMARC Aggregate Reporter v1.2');
    expect(report.policy).toMatchObject({ np: 'none', testing: 'n', discoveryMethod: 'treewalk', adkim: null });
    expect(report.records[0]!.disposition).toBe('pass');
    expect(report.records[0]!.authResults.spf).toEqual([{ domain: 'example.com', scope: null, result: 'fail' }]);
  });

  it('lower-cases capitalised results and trims the org name', async () => {
    const report = await aggregate('aggregate_invalid/report_with_upper_cased_pass.xml');
    const record = report.records[0]!;
    expect(record.disposition).toBe('none');
    expect(record.evaluated).toEqual({ dkim: 'pass', spf: 'pass' });
    expect(record.authResults.dkim[0]!.result).toBe('pass');
    expect(record.authResults.spf[0]!.result).toBe('pass');
    expect(report.orgName).toBe('example.com');
    expect(report.policy.sp).toBeNull();
  });

  it('reads empty and missing envelope_from as null (usssa, veeam)', async () => {
    for (const record of (await aggregate('aggregate/usssa.com!example.com!1538784000!1538870399.xml')).records) {
      expect(record.identifiers.envelopeFrom).toBeNull();
      expect(record.authResults).toEqual({ dkim: [], spf: [] });
    }
    expect(
      (await aggregate('aggregate/veeam.com!example.com!1530133200!1530219600.xml')).records[0]!.identifiers
        .envelopeFrom,
    ).toBeNull();
  });

  it('reads envelope_to of Outlook and FastMail', async () => {
    expect(
      (await aggregate('aggregate/protection.outlook.com!example.com!1711756800!1711843200.xml')).records[0]!
        .identifiers.envelopeTo,
    ).toBe('hotmail.com');
    const fastmail = (await aggregate('aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz'))
      .records[0]!;
    expect(fastmail.identifiers.envelopeTo).toBe('fastmail.fm');
    expect(fastmail.authResults.spf).toEqual([{ domain: 'example.com', scope: 'mfrom', result: 'softfail' }]);
  });
});

describe('failure reports in the corpus', () => {
  it('reads the standard ARF report with its inline original message', async () => {
    expect(
      await failure('failure/DMARC Failure Report for domain.de (mail-from=sharepoint@domain.de, ip=10.10.10.10).eml'),
    ).toMatchObject({
      kind: 'failure',
      feedbackType: 'auth-failure',
      reportedDomain: 'domain.de',
      sourceIp: '10.10.10.10',
      arrivalDate: '2018-10-01T09:20:27.000Z',
      authFailure: ['dmarc'],
      deliveryResult: 'smg-policy-action',
      originalMailFrom: 'sharepoint@domain.de',
      originalRcptTo: 'peter.pan@domain.de',
      headerFrom: 'sharepoint@domain.de',
      subject: 'Subject',
      messageId: '<38.E7.30937.BD6E1BB5@ mailrelay.de>',
    });
  });

  it('reads the NetEase report: feedback part ATT00001 (base64) inside multipart/mixed', async () => {
    expect(await failure('failure/[Netease DMARC Failure Report] Rent Reminder.eml')).toMatchObject({
      feedbackType: 'auth-failure',
      userAgent: 'NtesDmarcReporter/1.0',
      reportedDomain: 'cardinal.com',
      sourceIp: '167.89.69.24',
      arrivalDate: '2018-09-28T08:48:42.000Z',
      deliveryResult: 'delivered',
      originalMailFrom: 'bounces+1137616-c1ad-xsj399=163.com@email.entrata.com',
      identityAlignment: 'spf,dkim',
      dkimDomain: 'entrata.com',
      headerFrom: 'info@cardinal.com',
      subject: 'Rent Reminder',
      messageId: '<oguVx1AxQayV5Sv2nYK-rA@ismtpd0007p1las1.sendgrid.net>',
      reporter: 'abuse@163.com',
    });
  });

  it('gives the same report for the LinkedIn sample with LF and with CRLF line ends', async () => {
    const lf = await failure('failure/dmarc_ruf_report_linkedin.eml');
    const crlf = await failure('failure/dmarc_ruf_report_linkedin.crlf.eml');
    expect(crlf).toEqual(lf);
    expect(lf).toMatchObject({
      reportedDomain: 'example.com',
      sourceIp: '10.10.10.10',
      arrivalDate: '2019-04-30T02:09:00.000Z',
      authFailure: ['dmarc'],
      deliveryResult: 'delivered',
      originalMailFrom: null,
      originalRcptTo: 'recipient@linkedin.com',
      headerFrom: 'sender@example.com',
      subject: 'Subject line, could be UTF8 encoded',
      messageId: '<01010101010101010101010101010101@ABAB01MS0016.someserver.loc>',
    });
  });

  it('reads the plain-text Exim report and the headers it copies', async () => {
    expect(await failure('failure/exim_plain_text_only_no_arf_part.eml')).toMatchObject({
      reportedDomain: 'example.com',
      sourceIp: '203.0.113.68',
      arrivalDate: '2025-04-07T21:16:09.000Z',
      authFailure: ['dmarc'],
      identityAlignment: 'none',
      headerFrom: 'user@example.com',
      subject: 'Payment from your account.',
      messageId: '<134117F8-2145-AECE-9CCA-25FC98731341@example.com>',
    });
  });
});

describe('SMTP TLS reports in the corpus', () => {
  it('reads the Google mail with an application/tlsrpt+gzip attachment', async () => {
    const report = await tls('smtp_tls/google.com_smtp_tls_report.eml');
    expect(report).toEqual({
      kind: 'tls',
      orgName: 'Google Inc.',
      reportId: '2024-09-03T00:00:00Z_cardinalhealth.ca',
      begin: '2024-09-03T00:00:00.000Z',
      end: '2024-09-03T23:59:59.000Z',
      contactInfo: 'smtp-tls-reporting@google.com',
      policies: [
        {
          domain: 'cardinalhealth.ca',
          type: 'no-policy-found',
          strings: [],
          mxHosts: [],
          successful: 48,
          failed: 0,
          failures: [],
        },
      ],
    });
  });

  it('reads Mail.ru failures without sending-mta-ip', async () => {
    const report = await tls('smtp_tls/mail.ru.json');
    expect(report.contactInfo).toBe('tls_support@corp.mail.ru');
    const policy = report.policies[0]!;
    expect(policy).toMatchObject({ domain: 'example.com', type: 'sts', successful: 0, failed: 1 });
    expect(policy.failures.map((f) => [f.resultType, f.count, f.reasonCode, f.sendingMtaIp])).toEqual([
      ['sts-policy-fetch-error', 1, 'bad https response code: 404', null],
      ['sts-policy-fetch-error', 1, 'bad https response code: 500', null],
    ]);
  });

  it('reads the RFC 8460 example: mx-host as a string, additional-information', async () => {
    const report = await tls('smtp_tls/rfc8460.json');
    const policy = report.policies[0]!;
    expect(policy).toMatchObject({
      domain: 'company-y.example',
      type: 'sts',
      mxHosts: ['*.mail.company-y.example'],
      successful: 5326,
      failed: 303,
    });
    expect(policy.strings).toHaveLength(4);
    expect(policy.failures.map((f) => f.count)).toEqual([100, 200, 3]);
    expect(policy.failures[1]!.info).toBe(
      'https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported',
    );
    expect(policy.failures[2]).toMatchObject({
      receivingIp: '203.0.113.58',
      reasonCode: 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED',
    });
  });

  it('reads the Google-style validation failures', async () => {
    const report = await tls('smtp_tls/smtp_tls.json');
    expect(report).toMatchObject({
      orgName: 'Example Inc.',
      begin: '2024-01-09T00:00:00.000Z',
      end: '2024-01-09T23:59:59.000Z',
    });
    expect(report.policies[0]!.failures.map((f) => [f.resultType, f.count, f.sendingMtaIp])).toEqual([
      ['validation-failure', 2, '209.85.222.201'],
      ['validation-failure', 1, '209.85.208.176'],
    ]);
  });

  it('reads zone-less date-times as UTC, a null contact-info and an mx-host list', async () => {
    const json = JSON.parse(readFileSync(join(corpus, 'smtp_tls/smtp_tls.json'), 'utf8'));
    json['date-range'] = { 'start-datetime': '2024-01-09T00:00:00', 'end-datetime': '2024-01-09T23:59:59' };
    json['contact-info'] = null;
    json.policies[0].policy['mx-host'] = ['mx1.example.com', 'mx2.example.com'];
    const { reports } = await readReports(Buffer.from(JSON.stringify(json)), { source: 'zone-less.json' });
    const report = reports[0] as TlsReport;
    expect(report.begin).toBe('2024-01-09T00:00:00.000Z');
    expect(report.end).toBe('2024-01-09T23:59:59.000Z');
    expect(report.contactInfo).toBeNull();
    expect(report.policies[0]!.mxHosts).toEqual(['mx1.example.com', 'mx2.example.com']);
  });
});
