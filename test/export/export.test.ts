// `dmarc-bot export` against a real SQLite store filled with generated reports: the rows equal the
// store's figures (per report and source, per domain and day range, failure and TLS rows), CSV is
// RFC 4180 with formulas defused, JSON is one object a line, and bad usage exits 2.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMonth } from '../../src/generate/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { csvField } from '../../src/export/rows.ts';
import { aggregate, failure, record, tls } from '../store/factories.ts';

const execFileAsync = promisify(execFile);
let dir: string;
let storeUrl: string;
let store: ReportStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-export-'));
  storeUrl = `sqlite://${join(dir, 'store.sqlite')}`;
  store = await openStore(storeUrl);
  for (const report of exampleMonth({ endDay: '2026-01-31', seed: 'export' }).reports)
    await store.ingest(report, 'generated');
  // a second domain, a report over three days, and names a spreadsheet would run as formulas
  await store.ingest(
    aggregate({
      domain: 'other.example',
      org: '=HYPERLINK("http://evil.example","click"), Inc.',
      reportId: '@multi',
      begin: '2026-01-10T12:00:00Z',
      end: '2026-01-13T11:59:59Z',
      records: [
        record('198.51.100.7', 30, { headerFrom: 'other.example' }),
        record('203.0.113.9', 9, { dmarc: 'fail', headerFrom: 'other.example' }),
      ],
    }),
    'generated',
  );
  await store.ingest(
    failure({ domain: 'example.com', arrivalDate: '2026-01-20T10:00:00.000Z', subject: '-1+1 "quoted"\nsecond line' }),
    'generated',
  );
  await store.ingest(
    failure({ domain: 'other.example', arrivalDate: '2026-01-21T10:00:00.000Z', messageId: '<b@x>' }),
    'generated',
  );
  await store.ingest(
    tls({ begin: '2026-01-15T00:00:00Z', end: '2026-01-15T23:59:59Z', domains: ['example.com'], failed: 3 }),
    'generated',
  );
  await store.flush();
});
afterAll(async () => store?.close());

async function exportCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [join(process.cwd(), 'src/bin.mjs'), 'export', ...args],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: dir, DMARC_STORE: storeUrl, DMARC_DEMO: '0', RETENTION_DAYS: '0' },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      fields.push(field);
      records.push(fields);
      fields = [];
      field = '';
      i++;
    } else if (c === '\n' || c === '\r' || c === '"') throw new Error(`bare ${JSON.stringify(c)} at ${i}`);
    else field += c;
  }
  expect(field).toBe('');
  expect(fields).toEqual([]);
  return records;
}

function objects(records: string[][]): Array<Record<string, string>> {
  const [header, ...rows] = records;
  for (const row of rows) expect(row).toHaveLength(header!.length);
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i]!])));
}

/** messages per report and source, as the store's day documents hold them over from..to */
async function storeFigures(from: string, to: string, domain: string | null = null): Promise<Map<string, number>> {
  const figures = new Map<string, number>();
  for (const doc of await store.days(domain, from, to))
    for (const part of Object.values(doc.reports))
      for (const source of part.sources) {
        const key = `${part.reportKey} ${source.ip}`;
        figures.set(key, (figures.get(key) ?? 0) + source.messages);
      }
  return figures;
}

describe('dmarc-bot export', () => {
  it('CSV: one row per report and source with the store’s figures, failure and TLS rows', async () => {
    const { code, stdout } = await exportCli(['--format', 'csv']);
    expect(code).toBe(0);
    const rows = objects(parseCsv(stdout));
    const aggregateRows = rows.filter((row) => row.kind === 'aggregate');
    const exported = new Map(aggregateRows.map((row) => [`${row.report_key} ${row.source_ip}`, Number(row.messages)]));
    expect(exported.size).toBe(aggregateRows.length);
    expect(exported).toEqual(await storeFigures('1970-01-01', new Date().toISOString().slice(0, 10)));
    // a report's rows add up to the report's messages as stored
    const multi = aggregateRows.filter((row) => row.report_id === "'@multi");
    expect(multi).toHaveLength(2);
    const stored = await store.report(multi[0]!.report_key!);
    expect(multi.reduce((sum, row) => sum + Number(row.messages), 0)).toBe(stored!.messages);
    for (const row of aggregateRows) expect(Number(row.dmarc_pass) + Number(row.dmarc_fail)).toBe(Number(row.messages));

    const failures = rows.filter((row) => row.kind === 'failure');
    expect(failures).toHaveLength((await store.failures(null, '1970-01-01', '2099-12-31')).length);
    expect(failures.find((row) => row.domain === 'example.com')!.subject).toBe(`'-1+1 "quoted"\nsecond line`);
    const tlsRows = rows.filter((row) => row.kind === 'tls');
    const storedTls = await store.tlsResults(null, '1970-01-01', '2099-12-31');
    expect(tlsRows.map((row) => Number(row.failed_sessions))).toEqual(storedTls.map((policy) => policy.failed));
  });

  it('CSV cells a spreadsheet would run as formulas start with a quote', async () => {
    const { stdout } = await exportCli(['--format', 'csv', '--domain', 'other.example', '--kind', 'aggregate']);
    const rows = objects(parseCsv(stdout));
    expect(rows.map((row) => row.org_name)).toEqual([
      `'=HYPERLINK("http://evil.example","click"), Inc.`,
      `'=HYPERLINK("http://evil.example","click"), Inc.`,
    ]);
    expect(stdout).toContain(`"'=HYPERLINK(""http://evil.example"",""click""), Inc."`);
    for (const cell of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx']) expect(csvField(cell).replace(/^"/, '')[0]).toBe("'");
    expect(csvField(-1)).toBe('-1');
  });

  it('JSON lines with --from, --to and --domain equal the store over that range', async () => {
    const { code, stdout } = await exportCli([
      '--format',
      'json',
      '--from',
      '2026-01-11',
      '--to',
      '2026-01-20',
      '--domain',
      'example.com',
    ]);
    expect(code).toBe(0);
    const lines = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const aggregateRows = lines.filter((row) => row.kind === 'aggregate');
    expect(new Set(aggregateRows.map((row) => row.domain))).toEqual(new Set(['example.com']));
    expect(
      new Map(aggregateRows.map((row) => [`${String(row.report_key)} ${String(row.source_ip)}`, row.messages])),
    ).toEqual(await storeFigures('2026-01-11', '2026-01-20', 'example.com'));
    expect(lines.filter((row) => row.kind === 'failure').map((row) => row.subject)).toEqual([
      '-1+1 "quoted"\nsecond line',
    ]);
    expect(lines.filter((row) => row.kind === 'tls')).toHaveLength(1);
  });

  it('--out writes a file only its owner can read', async () => {
    const out = join(dir, 'failures.ndjson');
    const { code, stderr } = await exportCli(['--format', 'json', '--kind', 'failure', '--out', out]);
    expect(code).toBe(0);
    expect(stderr).toBe(`exported 2 rows to ${out}\n`);
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(2);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it.each([
    [['--format', 'xml'], '--format must be csv or json'],
    [[], '--format must be csv or json'],
    [['--format', 'csv', '--from', '2026-02-30'], '--from must be a date YYYY-MM-DD'],
    [['--format', 'csv', '--from', '2026-02-02', '--to', '2026-02-01'], 'is after --to'],
    [['--format', 'csv', '--kind', 'forensic'], '--kind must be aggregate, failure or tls'],
    [['--format', 'csv', '--colour'], "Unknown option '--colour'"],
    [['--format', 'csv', 'stray'], 'positional'],
  ])('usage error %j exits 2', async (args, message) => {
    const { code, stderr, stdout } = await exportCli(args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).toBe('');
  });
});
