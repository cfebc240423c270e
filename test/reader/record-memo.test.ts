// The record memo (src/reader/record-memo.ts): a record that differs from an earlier one of its
// report only in the values of <source_ip> and <count> is built from that one instead of parsed.
// The reports, records and notes must be exactly those of the read without the memo (every record
// parsed): on every file of the test data, on generated reports, and on fuzzed records built to hit
// the edges of what may be cut out as a value.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/generate/prng.ts';
import { randomAggregateReport } from '../../src/generate/random.ts';
import { aggregateXml } from '../../src/generate/xml.ts';
import type { AggregateRecord, AggregateReport, Report } from '../../src/model.ts';
import { parseAggregateXml, type MemoStats } from '../../src/reader/aggregate.ts';
import { readReports, type OpenReportSink, type ReadOutcome } from '../../src/reader/index.ts';

const fixtures = join(import.meta.dirname, '../fixtures');
const now = new Date('2026-06-01T00:00:00Z');

function files(at: string): string[] {
  return readdirSync(at)
    .sort()
    .flatMap((name) => {
      const path = join(at, name);
      return statSync(path).isDirectory() ? files(path) : /\.(md|ts|json)$/.test(name) ? [] : [path];
    });
}

/** The whole read with or without the memo: the report, or the error it throws. */
function read(xml: string | Buffer, memo: boolean, stats?: MemoStats): AggregateReport | string {
  try {
    return parseAggregateXml(xml, 'memo.xml', { now, recordMemo: memo, memoStats: stats });
  } catch (error) {
    return `${(error as { code?: string }).code} ${String(error)}`;
  }
}

/** readReports with a sink (the streamed read) and without, each with or without the memo. */
async function readAll(bytes: Buffer, source: string, memo: boolean) {
  const ended = new Map<Report, AggregateRecord[]>();
  const open: OpenReportSink = () => {
    const records: AggregateRecord[] = [];
    return {
      add: (batch) => void records.push(...batch),
      end: (report) => void ended.set(report, records),
    };
  };
  const shown = (outcome: ReadOutcome) => ({
    reports: outcome.reports.map((report) =>
      report.kind === 'aggregate' && ended.has(report) ? { ...report, records: ended.get(report) } : report,
    ),
    errors: outcome.errors.map((error) => `${error.code} ${error.source}: ${error.message}`),
  });
  return {
    whole: shown(await readReports(bytes, { source, now, recordMemo: memo })),
    streamed: shown(await readReports(bytes, { source, now, recordMemo: memo }, open)),
  };
}

function expectSame(xml: string, label: string, stats?: MemoStats): AggregateReport | string {
  const withMemo = read(xml, true, stats);
  expect(withMemo, label).toEqual(read(xml, false));
  return withMemo;
}

const frame = (records: string, policy = '<adkim>r</adkim><aspf>s</aspf>') =>
  `<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata><org_name>memo.example</org_name><email>dmarc@memo.example</email><report_id>memo-1</report_id>
    <date_range><begin>1767225600</begin><end>1767311999</end></date_range></report_metadata>
  <policy_published><domain>example.com</domain>${policy}<p>none</p></policy_published>
${records}
</feedback>
`;

interface Parts {
  ip?: string;
  count?: string;
  /** the row's elements after the count */
  evaluated?: string;
  identifiers?: string;
  auth?: string;
  /** count before source_ip */
  countFirst?: boolean;
}

const defaults = {
  evaluated: '<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated>',
  identifiers: '<identifiers><header_from>example.com</header_from></identifiers>',
  auth: '<auth_results><dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim><spf><domain>bounce.example.com</domain><result>pass</result></spf></auth_results>',
};

function record(parts: Parts): string {
  const ip = parts.ip ?? '<source_ip>192.0.2.1</source_ip>';
  const count = parts.count ?? '<count>1</count>';
  const row = parts.countFirst ? count + ip : ip + count;
  return `  <record>
    <row>${row}${parts.evaluated ?? defaults.evaluated}</row>
    ${parts.identifiers ?? defaults.identifiers}
    ${parts.auth ?? defaults.auth}
  </record>`;
}

const ipText = (value: string) => `<source_ip>${value}</source_ip>`;
const countText = (value: string) => `<count>${value}</count>`;

// values of the holes, plain and not: what the parser makes of each must be what the memo gives
const ipValues = [
  '192.0.2.7',
  '198.51.100.200',
  '2001:db8::1',
  '2001:DB8::A:1',
  '2001:0db8:0000:0000:0000:0000:0000:0001',
  '::ffff:192.0.2.9',
  '::FFFF:C000:0209',
  '0:0:0:0:0:ffff:192.0.2.10',
  '999.1.1.1',
  '192.0.2',
  '01.2.3.4',
  '1.2.3.4.5',
  ':::',
  'fe80::1%eth0',
  ' 192.0.2.8',
  '192.0.2.8 ',
  '\n 192.0.2.8\n ',
  '&#49;92.0.2.11',
  '192.0.2.1&#50;',
  '192&#x2e;0.2.13',
  '192.0.2.1&amp;',
  ' 999.1.1.1 ',
  '<![CDATA[192.0.2.14]]>',
  '192.0.<!-- c -->2.15',
  '',
  'a'.repeat(46),
  `2001:db8:${'0:'.repeat(20)}1`,
  'mail.example.com',
];
const countValues = [
  '1',
  '7',
  '0',
  '007',
  '123456789012345',
  '999999999999999',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '99999999999999999999',
  '-1',
  '+1',
  '',
  ' 5',
  '5 ',
  '\t5\n',
  '1.0',
  '1.5',
  '1e3',
  '0x10',
  '1&#48;',
  '&#55;',
  '1&#x30;0',
  '5&amp;',
  '&lt;7',
  '&#x20;5',
  '<![CDATA[5]]>',
  '1<!--x-->2',
  '1 2',
];

/** Records that differ from the plain ones elsewhere than in their holes, or hold their holes oddly. */
const oddRecords: Array<(ip: string, count: string) => string> = [
  // the same record written with the count first
  (ip, count) => record({ ip: ipText(ip), count: countText(count), countFirst: true }),
  // repeated holes: the first of each is the record's
  (ip, count) => record({ ip: ipText(ip) + ipText('192.0.2.99'), count: countText(count) }),
  (ip, count) => record({ ip: ipText(ip), count: countText(count) + countText('42') }),
  // a count elsewhere in the record (read from the row only)
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      identifiers: `<identifiers><header_from>example.com</header_from><count>${count}9</count></identifiers>`,
    }),
  // the row's count with a namespace prefix and a plain one elsewhere: the prefixed one is the count
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: '<p:count>5</p:count>',
      identifiers: `<identifiers><header_from>example.com</header_from><count>${count}</count></identifiers>`,
    }),
  (ip, count) =>
    record({
      ip: `<x:source_ip>198.51.100.1</x:source_ip>`,
      count: countText(count),
      identifiers: `<identifiers><header_from>example.com</header_from><source_ip>${ip}</source_ip></identifiers>`,
    }),
  // prefixed or attributed hole elements
  (ip, count) => record({ ip: `<p:source_ip>${ip}</p:source_ip>`, count: `<p:count>${count}</p:count>` }),
  (ip, count) => record({ ip: `<source_ip kind="v4">${ip}</source_ip>`, count: `<count unit="1">${count}</count>` }),
  (ip, count) => record({ ip: ipText(ip), count: `<count >${count}</count >` }),
  // holes in nested places
  (ip, count) => record({ ip: `<source_ip><v>${ip}</v></source_ip>`, count: countText(count) }),
  (ip, count) => record({ ip: ipText(ip), count: `<count><n>${count}</n></count>` }),
  (ip, count) => record({ ip: `<wrap>${ipText(ip)}</wrap>`, count: countText(count) }),
  // empty or self-closing holes
  (ip) => record({ ip: ipText(ip), count: '<count/>' }),
  (_ip, count) => record({ ip: '<source_ip/>', count: countText(count) }),
  // a comment holding a hole's tags, and CDATA elsewhere
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: `<!-- <count>3</count> -->${countText(count)}`,
    }),
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      identifiers: '<identifiers><header_from><![CDATA[Example.COM]]></header_from></identifiers>',
    }),
  // the name of a hole inside values
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      identifiers:
        '<identifiers><header_from>account.example.com</header_from><envelope_from>a/count:x source_ip</envelope_from></identifiers>',
    }),
  // entities elsewhere in the record
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      identifiers: '<identifiers><header_from>ex&#97;mple.com</header_from></identifiers>',
    }),
  // records whose build writes a note, or that are skipped for something else than their holes
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      evaluated: `<policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf><reason><type>forwarded</type><comment>${'c'.repeat(300)}</comment></reason></policy_evaluated>`,
    }),
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      evaluated:
        '<policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf><reason></reason><reason><type></type><comment></comment></reason></policy_evaluated>',
    }),
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      auth: `<auth_results><dkim><domain>${'d'.repeat(260)}.example</domain><result>pass</result></dkim></auth_results>`,
    }),
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      auth: `<auth_results><dkim><domain>example.com</domain><result>${'P'.repeat(300)}</result><human_result>${'h'.repeat(400)}</human_result></dkim></auth_results>`,
    }),
  // control characters in a value (cleaned) and upper case (lowered)
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      evaluated:
        '<policy_evaluated><disposition>Quarantine</disposition><dkim>PASS</dkim><spf>fail\u0007</spf></policy_evaluated>',
    }),
  // a broken shape (a record that is no element of elements)
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      identifiers: '<identifiers>stray<header_from>example.com</header_from></identifiers>',
    }),
  // longer than a key may be
  (ip, count) =>
    record({
      ip: ipText(ip),
      count: countText(count),
      auth: `<auth_results>${'<dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim>'.repeat(60)}</auth_results>`,
    }),
];

/** A report's records from a few shapes, mostly with plain values, so that keys repeat and odd values meet templates. */
function fuzzedRecords(rng: Rng): string[] {
  const plainShape = (ip: string, count: string) => record({ ip: ipText(ip), count: countText(count) });
  const shapes = [plainShape, rng.pick(oddRecords), rng.pick(oddRecords), rng.pick(oddRecords)];
  return Array.from({ length: rng.int(1, 150) }, () => {
    const ip = rng.chance(0.75)
      ? rng.pick([`192.0.2.${rng.int(1, 254)}`, `2001:db8::${rng.hex(3)}`])
      : rng.pick(ipValues);
    const count = rng.chance(0.75) ? String(rng.int(1, 500)) : rng.pick(countValues);
    return rng.pick(shapes)(ip, count);
  });
}

describe('the record memo', () => {
  it('gives the reads without it on every file of the test data, whole and streamed', async () => {
    let aggregates = 0;
    for (const path of files(fixtures)) {
      const bytes = readFileSync(path);
      const withMemo = await readAll(bytes, path, true);
      expect(withMemo, path).toEqual(await readAll(bytes, path, false));
      aggregates += withMemo.whole.reports.filter((report) => report.kind === 'aggregate').length;
    }
    expect(aggregates).toBeGreaterThan(15);
  });

  it('gives the reads without it on generated reports, and builds most of their records from the memo', async () => {
    const stats: MemoStats = { records: 0, hits: 0 };
    for (const [index, records] of [1, 2, 17, 500, 2_345].entries()) {
      const report = randomAggregateReport({ seed: `memo-${index}`, records, days: 2, overrideShare: 0.3 });
      for (const options of [{}, { indent: false }, { namespace2: true }]) {
        const xml = aggregateXml(report, options);
        expectSame(xml, `${records} ${JSON.stringify(options)}`, stats);
        const bytes = Buffer.from(xml);
        expect((await readAll(bytes, 'g.xml', true)).streamed).toEqual((await readAll(bytes, 'g.xml', false)).streamed);
      }
    }
    expect(stats.hits).toBeGreaterThan(stats.records / 2);
  });

  it('gives the reads without it on fuzzed records, whole and streamed', async () => {
    const stats: MemoStats = { records: 0, hits: 0 };
    for (let round = 0; round < 60; round++) {
      const rng = createRng(`memo-fuzz-${round}`);
      const records = fuzzedRecords(rng);
      const xml = frame(records.join('\n'), rng.pick(['<adkim>r</adkim><aspf>s</aspf>', '<adkim>s</adkim>', '']));
      expectSame(xml, `round ${round}`, stats);
      const bytes = Buffer.from(xml);
      expect((await readAll(bytes, 'f.xml', true)).streamed, `round ${round}`).toEqual(
        (await readAll(bytes, 'f.xml', false)).streamed,
      );
    }
    // the fuzz met the memo, and it refused some of what it met
    expect(stats.hits).toBeGreaterThan(500);
    expect(stats.hits).toBeLessThan(stats.records * 0.9);
  });

  it('reads every value that is no plain one as the parser reads it, after a template of its record', () => {
    const template = record({ ip: ipText('192.0.2.1'), count: countText('5') });
    for (const ip of ipValues)
      for (const count of countValues) {
        const xml = frame(`${template}\n${template}\n${record({ ip: ipText(ip), count: countText(count) })}`);
        expectSame(xml, `${JSON.stringify(ip)} ${JSON.stringify(count)}`);
      }
    // values that a memo which cut out any text would read wrong: the parser decodes named entities
    // (not numeric ones) and trims, and a skipped record's note quotes the value it read
    const third = (ip: string, count: string) => {
      const report = read(
        frame(`${template}\n${template}\n${record({ ip: ipText(ip), count: countText(count) })}`),
        true,
      );
      if (typeof report === 'string') throw new Error(report);
      return report.records.length === 3 ? report.records[2] : report.errors;
    };
    expect(third('192.0.2.3', '5&amp;')).toEqual([
      'record 3 skipped: <count> "5&" for 192.0.2.3 is not a whole number up to 2^53',
    ]);
    expect(third('192.0.2.3', '1&#48;')).toEqual([
      'record 3 skipped: <count> "1&#48;" for 192.0.2.3 is not a whole number up to 2^53',
    ]);
    expect(third(' 999.1.1.1 ', '1')).toEqual(['record 3 skipped: <source_ip> "999.1.1.1" is not an IP address']);
    expect(third('192.0.2.1&amp;', '1')).toEqual(['record 3 skipped: <source_ip> "192.0.2.1&" is not an IP address']);
    expect(third('192.0.2.3', '1<!--x-->2')).toMatchObject({ sourceIp: '192.0.2.3', count: 12 });
    expect(third('::FFFF:C000:0209', '007')).toMatchObject({ sourceIp: '192.0.2.9', count: 7 });
  });

  it('builds the count from the element the record is read from, not from one of the same name elsewhere', () => {
    // the row's count is the prefixed one; a plain <count> elsewhere is no hole
    const odd = (count: string) =>
      record({
        ip: ipText('192.0.2.1'),
        count: '<p:count>5</p:count>',
        identifiers: `<identifiers><header_from>example.com</header_from><count>${count}</count></identifiers>`,
      });
    const report = expectSame(frame([odd('5'), odd('5'), odd('9')].join('\n')), 'prefixed count');
    expect(typeof report === 'string' ? report : report.records.map((r) => r.count)).toEqual([5, 5, 5]);
  });

  it('writes the notes of records whose build writes one, for every such record', () => {
    const noted = (ip: string) =>
      record({
        ip: ipText(ip),
        evaluated: `<policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf><reason><type>forwarded</type><comment>${'c'.repeat(300)}</comment></reason></policy_evaluated>`,
      });
    const report = expectSame(frame(['192.0.2.1', '192.0.2.2', '192.0.2.3'].map(noted).join('\n')), 'notes');
    expect(typeof report === 'string' ? report : report.errors.filter((note) => note.startsWith('cut'))).toHaveLength(
      3,
    );
  });

  it('gives the read without it past its caps on keys and on key length, and past the cap on notes', () => {
    const distinct = Array.from({ length: 300 }, (_, index) =>
      record({
        ip: ipText(`192.0.2.${(index % 250) + 1}`),
        identifiers: `<identifiers><header_from>d${index}.example.com</header_from></identifiers>`,
      }),
    );
    expectSame(frame([...distinct, ...distinct, ...distinct].join('\n')), 'many keys');
    const long = (ip: string) =>
      record({
        ip: ipText(ip),
        auth: `<auth_results>${'<dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim>'.repeat(60)}</auth_results>`,
      });
    expectSame(frame(['192.0.2.1', '192.0.2.2', '192.0.2.3'].map(long).join('\n')), 'long records');
    // 150 skipped records: their notes are capped, in the same order
    const skipped = Array.from({ length: 150 }, (_, index) => record({ ip: ipText(`10.0.${index}.999`) }));
    const report = expectSame(frame([record({}), ...skipped].join('\n')), 'capped notes');
    expect(typeof report === 'string' ? report : report.errors.at(-1)).toMatch(/more note\(s\) not kept/);
  });

  it('gives the read without it on broken reports, errors and all', () => {
    const plainRecord = record({});
    for (const broken of [
      `${plainRecord}\n${plainRecord}\n  <record><row><source_ip>192.0.2.1</source_ip><count>1</count></row><identifiers></record>`,
      `${plainRecord}\n${plainRecord.replace('<row>', '<row><bad a="1>')}`,
      `${plainRecord}\n${plainRecord}\n${plainRecord.replace('</identifiers>', '</identifiers></x>')}`,
    ])
      expectSame(frame(broken), broken.slice(-60));
  });

  it('hands out records that share no object with each other', () => {
    const xml = aggregateXml(randomAggregateReport({ seed: 'memo-share', records: 300, overrideShare: 0.3 }));
    const stats: MemoStats = { records: 0, hits: 0 };
    const report = read(xml, true, stats);
    if (typeof report === 'string') throw new Error(report);
    expect(stats.hits).toBeGreaterThan(200);
    const objects = new Set<unknown>();
    let count = 0;
    const walk = (value: unknown) => {
      if (typeof value !== 'object' || value === null) return;
      objects.add(value);
      count++;
      for (const inner of Object.values(value)) walk(inner);
    };
    for (const each of report.records) walk(each);
    expect(objects.size).toBe(count);
    // a change to one record leaves the others as read
    const before = structuredClone(report.records);
    report.records[0]!.authResults.dkim.push({ domain: 'changed.example', selector: null, result: 'pass' });
    report.records[0]!.reasons.push({ type: 'other', comment: null });
    report.records[0]!.alignment.dkim = !report.records[0]!.alignment.dkim;
    expect(report.records.slice(1)).toEqual(before.slice(1));
  });
});
