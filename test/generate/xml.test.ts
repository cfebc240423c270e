import { PassThrough } from 'node:stream';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  aggregateXml,
  aggregateXmlChunks,
  DMARC2_NAMESPACE,
  escapeXml,
  writeAggregateXml,
} from '../../src/generate/xml.ts';
import { randomAggregateReport } from '../../src/generate/random.ts';
import { readReports } from '../../src/reader/index.ts';
import type { AggregateReport } from '../../src/model.ts';

const parser = new XMLParser({ parseTagValue: false, ignoreAttributes: false, isArray: (name) => name === 'record' });

async function readBack(xml: string): Promise<AggregateReport> {
  const { reports, errors } = await readReports(Buffer.from(xml, 'utf8'), { source: 'generated.xml' });
  expect(errors).toEqual([]);
  expect(reports).toHaveLength(1);
  const report = reports[0]!;
  if (report.kind !== 'aggregate') throw new Error(`expected an aggregate report, got ${report.kind}`);
  return report;
}

/** The model's optional fields may be absent or null; compare what both sides state. */
function comparable(report: AggregateReport): unknown {
  return JSON.parse(JSON.stringify(report, (_key, value) => (value === null ? undefined : value)));
}

describe('escapeXml', () => {
  it('escapes markup characters and replaces characters XML 1.0 cannot carry', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    expect(escapeXml('x\u0001y')).toBe('x\uFFFDy');
  });
});

describe('aggregateXml', () => {
  it('writes text with markup characters so that a parser gives the original text back', () => {
    const report = randomAggregateReport({ seed: 'escape', records: 2 });
    report.orgName = `Tom & Jerry's <Mail> "Co"`;
    report.reportId = 'id<1>&2';
    const parsed = parser.parse(aggregateXml(report));
    expect(parsed.feedback.report_metadata.org_name).toBe(report.orgName);
    expect(parsed.feedback.report_metadata.report_id).toBe(report.reportId);
  });

  it('omits absent fields instead of writing empty elements', () => {
    const report = randomAggregateReport({ seed: 'nulls', records: 1 });
    report.policy.sp = null;
    report.records[0]!.identifiers.envelopeFrom = null;
    const xml = aggregateXml(report);
    expect(xml).not.toContain('<sp>');
    expect(xml).not.toContain('<envelope_from>');
  });

  it('writes the RFC 9990 namespace, version 2.0 and the new fields when asked', () => {
    const report = randomAggregateReport({ seed: 'v2', records: 3 });
    report.version = null;
    report.generator = 'dmarc-bot generator';
    report.policy = { ...report.policy, np: 'reject', testing: 'y', pct: null, discoveryMethod: 'treewalk' };
    const parsed = parser.parse(aggregateXml(report, { namespace2: true }));
    expect(parsed.feedback['@_xmlns']).toBe(DMARC2_NAMESPACE);
    expect(parsed.feedback.version).toBe('2.0');
    expect(parsed.feedback.report_metadata.generator).toBe('dmarc-bot generator');
    expect(parsed.feedback.policy_published).toMatchObject({
      np: 'reject',
      testing: 'y',
      discovery_method: 'treewalk',
    });
    expect(parsed.feedback.policy_published.pct).toBeUndefined();
  });

  it('streams the same bytes as the joined string, in several chunks for a large report', async () => {
    const report = randomAggregateReport({ seed: 'stream', records: 1200 });
    expect(Array.from(aggregateXmlChunks(report)).length).toBeGreaterThan(2);
    const sink = new PassThrough();
    const parts: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => parts.push(chunk));
    await writeAggregateXml(report, sink);
    sink.end();
    expect(Buffer.concat(parts).toString('utf8')).toBe(aggregateXml(report));
  });
});

describe('round trip through the reader', () => {
  it('reads a random report with every source kind back to an equal report', async () => {
    const report = randomAggregateReport({ seed: 7, records: 400, overrideShare: 0.2 });
    // the sample must exercise what the serializer has to get right
    expect(report.records.some((r) => r.sourceIp.includes(':'))).toBe(true);
    expect(report.records.some((r) => r.reasons.length > 0)).toBe(true);
    expect(report.records.some((r) => r.identifiers.envelopeFrom === null)).toBe(true);
    expect(report.records.some((r) => r.alignment.spfUnalignedPass)).toBe(true);
    expect(comparable(await readBack(aggregateXml(report)))).toEqual(comparable(report));
  });

  it('reads the RFC 9990 form back to an equal report', async () => {
    const report = randomAggregateReport({ seed: 8, records: 50 });
    report.version = '2.0';
    report.generator = 'Example Reporter 1.2';
    report.policy = { ...report.policy, np: 'quarantine', testing: 'n', pct: null };
    expect(comparable(await readBack(aggregateXml(report, { namespace2: true })))).toEqual(comparable(report));
  });

  it('reads escaped text back unchanged', async () => {
    const report = randomAggregateReport({ seed: 9, records: 3 });
    report.orgName = 'A&B <Mail> "Reports"';
    report.records[0]!.reasons = [{ type: 'other', comment: 'x < y & "z"' }];
    report.records[0]!.disposition = 'none';
    const back = await readBack(aggregateXml(report, { indent: false }));
    expect(back.orgName).toBe(report.orgName);
    expect(back.records[0]!.reasons).toEqual(report.records[0]!.reasons);
  });
});
