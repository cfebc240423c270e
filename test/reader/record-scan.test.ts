// The aggregate reader cuts the XML into its frame and record batches (src/reader/record-scan.ts)
// and parses those; the report must be exactly what a parse of the whole document gives, on every
// file of the corpus and on generated reports in every spelling a sender may use.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomAggregateReport } from '../../src/generate/random.ts';
import { DMARC2_NAMESPACE, aggregateXml } from '../../src/generate/xml.ts';
import type { AggregateReport } from '../../src/model.ts';
import { parseAggregateXml, readReports, type ReadOutcome } from '../../src/reader/index.ts';
import { RecordScanner, scanRecords } from '../../src/reader/record-scan.ts';

const corpus = join(import.meta.dirname, '../fixtures/corpus');
const now = new Date('2026-06-01T00:00:00Z');

function corpusFiles(dir = corpus): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? corpusFiles(path) : name.endsWith('.md') ? [] : [path];
    });
}

function comparable(outcome: ReadOutcome) {
  return { reports: outcome.reports, errors: outcome.errors.map((error) => `${error.code}: ${error.message}`) };
}

const split = (xml: string) => parseAggregateXml(xml, 'split.xml', { now });
const whole = (xml: string) => parseAggregateXml(xml, 'split.xml', { now, wholeDocument: true });

/** The reader's report and the whole-document one, or their errors, side by side. */
function both(xml: string): [AggregateReport | string, AggregateReport | string] {
  const attempt = (read: (xml: string) => AggregateReport) => {
    try {
      return read(xml);
    } catch (error) {
      return String(error);
    }
  };
  return [attempt(split), attempt(whole)];
}

// reasons on a third of the records, two DKIM signatures and two SPF results on some
function generated(records: number, seed: string): AggregateReport {
  const report = randomAggregateReport({ seed, records, days: 2, overrideShare: 0.3 });
  report.records.forEach((record, index) => {
    if (index % 4 === 0) {
      record.authResults.dkim.push({ domain: 'mcsv.net', selector: 'k2', result: 'pass', humanResult: 'good & valid' });
      record.authResults.spf.push({ domain: 'bounce.example.org', scope: 'helo', result: 'softfail' });
    }
    if (index % 7 === 0) record.reasons.push({ type: 'local_policy', comment: 'arc <ok>' });
  });
  return report;
}

describe('record batches against the whole document', () => {
  it('gives the same outcome on every file of the corpus', async () => {
    const files = corpusFiles();
    expect(files.length).toBeGreaterThan(30);
    let aggregates = 0;
    for (const path of files) {
      const bytes = readFileSync(path);
      const fast = await readReports(bytes, { source: path, now });
      const reference = await readReports(bytes, { source: path, now, wholeDocumentXml: true });
      expect(comparable(fast), path).toEqual(comparable(reference));
      aggregates += fast.reports.filter((report) => report.kind === 'aggregate').length;
    }
    // the comparison ran over real aggregate reports, not only refusals
    expect(aggregates).toBeGreaterThan(15);
  });

  it('gives the same report for generated reports, RFC 7489 and RFC 9990, indented or not', () => {
    for (const [index, records] of [1, 2, 499, 500, 501, 1_234].entries()) {
      const report = generated(records, `scan-${index}`);
      report.generator = 'scan test 1.0';
      report.policy = { ...report.policy, np: 'reject', testing: 'n', discoveryMethod: 'treewalk', pct: null };
      for (const options of [{}, { indent: false }, { namespace2: true }, { namespace2: true, indent: false }]) {
        const xml = aggregateXml(report, options);
        expect(scanRecords(xml).kind).toBe('split');
        const [fast, reference] = both(xml);
        expect(fast).toEqual(reference);
        expect(typeof fast === 'string' ? fast : fast.records).toHaveLength(records);
      }
    }
  });

  it('reads the records of generated reports as they were written', () => {
    const report = generated(300, 'scan-written');
    const read = split(aggregateXml(report, { namespace2: true }));
    const dropAlignment = (records: AggregateReport['records']) =>
      records.map(({ alignment: _alignment, ...rest }) => rest);
    expect(dropAlignment(read.records)).toEqual(dropAlignment(report.records));
    expect(read.records.some((record) => record.reasons.length > 1)).toBe(true);
    expect(read.records.some((record) => record.authResults.dkim.length > 1)).toBe(true);
  });

  it('decodes entities in the one batch that holds them and leaves the batches without any as they are', () => {
    const report = randomAggregateReport({ seed: 'scan-entities', records: 100, overrideShare: 0 });
    report.records[70]!.reasons.push({ type: 'local_policy', comment: 'a & b <c> "d" \'e\'' });
    report.records[5]!.authResults.dkim.push({ domain: 'x.example', selector: 's&1', result: 'pass' });
    const xml = aggregateXml(report);
    expect(xml.match(/&amp;/g)).toHaveLength(2);
    const read = split(xml);
    expect(read.records[70]!.reasons).toEqual([{ type: 'local_policy', comment: 'a & b <c> "d" \'e\'' }]);
    expect(read.records[5]!.authResults.dkim.at(-1)!.selector).toBe('s&1');
    expect(read).toEqual(whole(xml));
  });

  const plain = aggregateXml(generated(60, 'scan-forms'));
  const records = (xml: string) => {
    const result = both(xml);
    expect(result[0]).toEqual(result[1]);
    return typeof result[0] === 'string' ? result[0] : result[0].records.length;
  };

  it('cuts prefixed, spaced and attributed record tags, and not elements whose name only starts with "record"', () => {
    const forms = [
      plain
        .replace('<feedback>', `<dmarc:feedback xmlns:dmarc="${DMARC2_NAMESPACE}">`)
        .replace('</feedback>', '</dmarc:feedback>')
        .replaceAll('<record>', '<dmarc:record>')
        .replaceAll('</record>', '</dmarc:record>'),
      plain.replaceAll('<record>', '<record >').replaceAll('</record>', '</record\n>'),
      plain.replaceAll('<record>', '<record\tid="a>b" note=\'<record>\'>'),
      plain.replace('<report_metadata>', '<report_metadata><record_count>60</record_count><records/>'),
      plain.replaceAll('<record>', '<record xmlns="urn:x">').replaceAll('\n', '\r\n'),
    ];
    for (const form of forms) {
      expect(scanRecords(form).kind).toBe('split');
      expect(records(form)).toBe(60);
    }
  });

  it('steps over comments, CDATA and processing instructions that hold record tags', () => {
    const first = plain.indexOf('<record>');
    const forms = [
      `${plain.slice(0, first)}<!-- <record> an old one </record> -->${plain.slice(first)}`,
      plain.replace('<header_from>', '<!-- </record> --><header_from>'),
      plain.replace('<comment>', '<comment><![CDATA[</record><record> a & b]]>'),
      plain.replace('<source_ip>', '<?sender note="</record>"?><source_ip>'),
      plain.replace('<header_from>', '<!--a--> <!--b--> <header_from>'),
      plain.replace('<org_name>', '<org_name> Org <!-- x --> <!-- y --> Name '),
    ];
    for (const form of forms) {
      expect(scanRecords(form).kind).toBe('split');
      expect(records(form)).toBe(60);
    }
    const cdata = split(plain.replaceAll('<comment>', '<comment><![CDATA[  <kept> as  is  ]]>'));
    // CDATA keeps its text as written, spaces included: no whitespace is dropped around it
    const comments = cdata.records.flatMap((record) => record.reasons.flatMap((reason) => reason.comment ?? []));
    expect(comments.length).toBeGreaterThan(0);
    for (const comment of comments) expect(comment).toMatch(/^ {2}<kept> as {2}is {2}/);
  });

  it('leaves records that are not the feedback element’s children where the whole document has them', () => {
    const nested = plain.replace(
      '</policy_published>',
      '</policy_published><extension><record><row><source_ip>192.0.2.1</source_ip><count>5</count></row></record></extension>',
    );
    expect(scanRecords(nested).kind).toBe('split');
    expect(records(nested)).toBe(60);
    const inside = plain.replace('<identifiers>', '<identifiers><record>inner</record>');
    expect(records(inside)).toBe(60);
  });

  it('reads the whole document when it cannot vouch for a split', () => {
    const doctype = plain.replace('<feedback>', '<!DOCTYPE feedback><feedback>');
    expect(scanRecords(doctype)).toMatchObject({ kind: 'unsure' });
    expect(records(doctype)).toBe(60);
    const mismatched = plain.replace('</record>', '</row-end>');
    expect(scanRecords(mismatched)).toMatchObject({ kind: 'unsure' });
    records(mismatched);
    const twoFeedbacks = `<root>${plain.replace(/<\?xml[^>]*>/, '')}${plain.replace(/<\?xml[^>]*>/, '')}</root>`;
    expect(scanRecords(twoFeedbacks)).toMatchObject({ kind: 'unsure' });
    records(twoFeedbacks);
    const onlyRecords = plain.replace(/<report_metadata>[\s\S]*<\/policy_published>/, '');
    records(onlyRecords);
  });

  it('gives the whole document’s answer for broken records', () => {
    const unclosed = plain.slice(0, plain.lastIndexOf('</record>'));
    expect(scanRecords(unclosed).kind).toBe('broken');
    records(unclosed);
    const empty = plain.replace(/<record>[\s\S]*<\/record>/, '<record/>');
    expect(records(empty)).toBe(0);
    const emptyAmong = plain.replace('<record>', '<record></record><record>');
    expect(records(emptyAmong)).toBe(60);
    expect(split(emptyAmong).errors.some((note) => /record 1 skipped/.test(note))).toBe(true);
  });
});

describe('the frame of a chunked scan', () => {
  const records = (count: number, between: (index: number) => string) =>
    Array.from({ length: count }, (_, index) => `<record><row>${index}</row></record>${between(index)}`).join('');
  const scanned = (xml: string, chunk: number) => {
    const scanner = new RecordScanner();
    for (let at = 0; at < xml.length; at += chunk) expect(scanner.push(xml.slice(at, at + chunk)).kind).toBe('split');
    expect(scanner.end().kind).toBe('split');
    expect(scanner.takeRecords()).toHaveLength(scanner.count);
    return scanner.frame();
  };
  const head = '<?xml version="1.0"?>\n<feedback><report_metadata><org_name>o</org_name></report_metadata>\n  ';

  it('keeps one run of the indentation between records, however many records there are', () => {
    const xml = `${head}${records(20_000, () => '\n  ')}</feedback>\n`;
    const frame = scanned(xml, 4_096);
    expect(frame).toBe(`${head}\n  \n  </feedback>\n`);
    expect(scanRecords(xml)).toMatchObject({ kind: 'split' });
  });

  it('keeps every comment between records, repeated or not, in order', () => {
    const between = (index: number) => (index % 3 === 2 ? `\r\n\t<!-- n${index} -->` : '<!-- same -->');
    const xml = `${head}${records(300, between)}</feedback>`;
    const whole = scanRecords(xml);
    expect(whole.kind).toBe('split');
    for (const chunk of [1, 13, 4_096])
      expect(scanned(xml, chunk), `chunks of ${chunk}`).toBe((whole as { frame: string }).frame);
  });
});
