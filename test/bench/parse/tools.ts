// The three parsers the benchmark compares, each as "bytes in, record count out".
import { XMLParser } from 'fast-xml-parser';
import { parseDmarcReportsFromXml } from 'dmarc-report-parser';
import { parseBatchesOnly } from '../../../src/reader/aggregate.ts';
import { readReports } from '../../../src/reader/index.ts';

export type ToolName = 'ours' | 'peer' | 'bare' | 'batches';
export const TOOL_NAMES: readonly ToolName[] = ['ours', 'peer', 'bare', 'batches'];
export const TOOL_LABELS: Record<ToolName, string> = {
  ours: 'readReports (ours)',
  peer: 'dmarc-report-parser',
  bare: 'fast-xml-parser bare',
  batches: 'f-x-p on our batches',
};

/** Parses one input and returns how many aggregate records it found; throws when it found no report. */
export type ParseOne = (bytes: Buffer, source: string) => Promise<number>;

const bareParser = new XMLParser({
  parseTagValue: false,
  isArray: (_name, jpath) => jpath === 'feedback.record',
});

export const TOOLS: Record<ToolName, ParseOne> = {
  ours: async (bytes, source) => {
    // cap raised so the 100k-record input (65 MB) is parsed, not refused: this compares parsing
    const { reports, errors } = await readReports(bytes, { source, maxBytes: 256 * 1024 * 1024 });
    if (reports.length === 0) throw errors[0] ?? new Error(`${source}: no report`);
    let n = 0;
    for (const r of reports) if (r.kind === 'aggregate') n += r.records.length;
    return n;
  },
  peer: async (bytes) => {
    const result = await parseDmarcReportsFromXml([bytes.toString('utf8')]);
    let n = 0;
    for (const r of result.reports) n += r.record.length;
    return n;
  },
  // fast-xml-parser's work alone on the frame and record batches our reader cuts: what ours cannot beat
  batches: async (bytes) => {
    const records = parseBatchesOnly(bytes.toString('utf8'));
    if (records < 0) throw new Error('the record scan cannot split it');
    return records;
  },
  bare: async (bytes) => {
    const doc = bareParser.parse(bytes.toString('utf8')) as { feedback?: { record?: unknown[] } };
    if (!doc.feedback) throw new Error('no <feedback> element');
    return doc.feedback.record?.length ?? 0;
  },
};
