// ingestInput with the real reader and a real SQLite store: counting, errors naming the input,
// and the "new report stored" callback.

import { afterEach, describe, expect, it } from 'vitest';
import type { Report, TlsReport } from '../../src/model.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { IngestTotals, StoreWriteError, ingestInput, summaryLine } from '../../src/ingest/pipeline.ts';
import { corpusBytes, corpusMail, distinctAggregateXml } from '../support/mail.ts';
import { freshSqliteStore } from './totals.ts';

let store: ReportStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('ingestInput', () => {
  it('stores a report once and calls onReport only for the new one', async () => {
    ({ store } = await freshSqliteStore());
    const seen: Array<{ report: Report; source: string; reportKey: string }> = [];
    const deps = {
      store,
      onReport: (report: Report, event: { source: string; reportKey: string }) => seen.push({ report, ...event }),
    };

    const plain = await ingestInput(
      { source: 'nice-input.xml', bytes: corpusBytes('extract_report/nice-input.xml') },
      deps,
    );
    const zipped = await ingestInput(
      { source: 'nice-input.xml.zip', bytes: corpusBytes('extract_report/nice-input.xml.zip') },
      deps,
    );

    expect(plain).toMatchObject({ new: 1, duplicates: 0, reports: 1, errors: [] });
    expect(zipped).toMatchObject({ new: 0, duplicates: 1, reports: 1, errors: [] });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.source).toBe('nice-input.xml');
    expect(seen[0]!.report).toMatchObject({
      kind: 'aggregate',
      orgName: 'google.com',
      policy: { domain: 'example.com' },
    });
    // the key leads to what the store kept
    expect(await store.report(seen[0]!.reportKey)).toMatchObject({
      kind: 'aggregate',
      source: 'nice-input.xml',
      reportId: '11038226378739404135',
    });
  });

  it('returns an error naming the input for bytes without a report, and stores nothing', async () => {
    ({ store } = await freshSqliteStore());
    const empty = await ingestInput({ source: 'inbox/empty.xml', bytes: new Uint8Array() }, { store });
    expect(empty).toMatchObject({ new: 0, reports: 0 });
    expect(empty.errors).toHaveLength(1);
    expect(empty.errors[0]!.source).toContain('inbox/empty.xml');
    expect(empty.errors[0]!.message).toMatch(/empty/i);
  });

  it('reads every report of a mail and counts kinds alike', async () => {
    ({ store } = await freshSqliteStore());
    const tls = await ingestInput(
      { source: 'tls.eml', bytes: corpusMail('smtp_tls/google.com_smtp_tls_report.eml') },
      { store },
    );
    const failure = await ingestInput(
      { source: 'ruf.eml', bytes: corpusMail('failure/dmarc_ruf_report_linkedin.eml') },
      { store },
    );
    const aggregate = await ingestInput({ source: 'agg.xml', bytes: distinctAggregateXml(7) }, { store });
    const totals = new IngestTotals();
    for (const result of [tls, failure, aggregate]) totals.add(result);
    expect(totals.summaryLine()).toBe('ingested 3 reports (0 duplicates, 0 errors)');
    expect(totals.emptyInputs).toBe(0);
  });

  it('names a report the store cannot place and goes on with the rest of the input', async () => {
    ({ store } = await freshSqliteStore());
    const good: TlsReport = {
      kind: 'tls',
      orgName: 'Company-X',
      reportId: 'r-1',
      begin: '2026-01-01T00:00:00.000Z',
      end: '2026-01-01T23:59:59.000Z',
      contactInfo: null,
      policies: [],
    };
    const undated: TlsReport = { ...good, reportId: 'r-2', begin: 'yesterday' };
    const read = async () => ({ reports: [undated, good], errors: [] });
    const result = await ingestInput({ source: 'odd.json', bytes: new Uint8Array([1]) }, { store, read });
    expect(result).toMatchObject({ new: 1, reports: 1 });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ source: 'odd.json' });
    expect(result.errors[0]!.message).toMatch(/r-2.*date/);
  });

  it('stops with a StoreWriteError naming the input when the store fails', async () => {
    const failing = { ingest: async () => Promise.reject(new Error('disk full')) };
    await expect(ingestInput({ source: 'a.xml', bytes: distinctAggregateXml(1) }, { store: failing })).rejects.toThrow(
      StoreWriteError,
    );
    await expect(ingestInput({ source: 'a.xml', bytes: distinctAggregateXml(1) }, { store: failing })).rejects.toThrow(
      /a\.xml.*disk full/,
    );
  });
});

describe('summaryLine', () => {
  it('keeps its fixed wording', () => {
    expect(summaryLine({ new: 12, duplicates: 3, errors: [1, 2] })).toBe(
      'ingested 12 reports (3 duplicates, 2 errors)',
    );
  });
});
