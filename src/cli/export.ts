// `dmarc-bot export --format csv|json [--from DATE] [--to DATE] [--domain D] [--kind K] [--out FILE]`:
// the stored reports as rows for a spreadsheet (CSV, RFC 4180) or a SIEM (NDJSON), streamed.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, EXIT_CONFIG } from '../config.ts';
import { loadSettings } from './settings.ts';
import { columnsFor, csvLine, csvRow, jsonRow, EXPORT_KINDS, type ExportKind } from '../export/rows.ts';
import { exportRows } from '../export/read.ts';

const help = `Usage: dmarc-bot export --format csv|json [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                        [--domain DOMAIN] [--kind aggregate|failure|tls] [--out FILE]

Writes the stored reports as rows: one per aggregate report and source (messages summed over the
days exported), one per failure report, one per SMTP TLS report and policy. CSV has a header line
(cells that a spreadsheet would run as a formula start with '); json writes one object per line.
Days are UTC; --from defaults to RETENTION_DAYS before today (1970-01-01 with RETENTION_DAYS=0),
--to to today. A report that straddles --from or --to counts only its days inside. Without --out
the rows go to stdout. --out FILE is created readable by its owner only (failure reports hold
addresses and subjects).
`;

function usageError(message: string): number {
  process.stderr.write(`dmarc-bot export: ${message}\n\n${help}`);
  return 2;
}

function isDay(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        format: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        domain: { type: 'string' },
        kind: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const format = values.format as string | undefined;
  if (format !== 'csv' && format !== 'json') return usageError('--format must be csv or json');
  const given = { from: values.from as string | undefined, to: values.to as string | undefined };
  if (given.from !== undefined && !isDay(given.from))
    return usageError(`--from must be a date YYYY-MM-DD (got "${given.from}")`);
  if (given.to !== undefined && !isDay(given.to))
    return usageError(`--to must be a date YYYY-MM-DD (got "${given.to}")`);
  if (given.from && given.to && given.from > given.to)
    return usageError(`--from ${given.from} is after --to ${given.to}`);
  const kind = values.kind as string | undefined;
  if (kind !== undefined && !EXPORT_KINDS.includes(kind as ExportKind))
    return usageError('--kind must be aggregate, failure or tls');
  const kinds: ExportKind[] = kind ? [kind as ExportKind] : [...EXPORT_KINDS];
  const domain = (values.domain as string | undefined)?.trim().toLowerCase().replace(/\.$/, '') || null;

  let config;
  try {
    config = loadSettings();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  // by default everything the store can hold: from the retention cut-off to today
  const today = new Date().toISOString().slice(0, 10);
  const from =
    given.from ??
    (config.RETENTION_DAYS > 0
      ? new Date(Date.now() - config.RETENTION_DAYS * 86_400_000).toISOString().slice(0, 10)
      : '1970-01-01');
  const to = given.to ?? today;
  const { openStore } = await import('../store/index.ts');
  let store;
  try {
    store = await openStore(config.DMARC_STORE, { connectTimeoutMs: config.STORE_CONNECT_TIMEOUT_MS });
  } catch (error) {
    process.stderr.write(`dmarc-bot export: ${(error as Error).message}\n`);
    return 1;
  }
  const outPath = values.out as string | undefined;
  const out = outPath ? createWriteStream(outPath, { mode: 0o600 }) : process.stdout;
  const failed = new Promise<never>((_resolve, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  let rows = 0;
  try {
    const columns = columnsFor(kinds);
    if (format === 'csv') await write(csvLine(columns));
    for await (const row of exportRows(store, { kinds, from, to, domain })) {
      await write(format === 'csv' ? csvRow(row, columns) : jsonRow(row));
      rows += 1;
    }
    if (outPath) {
      out.end();
      await Promise.race([once(out, 'finish'), failed]);
      process.stderr.write(`exported ${rows} rows to ${outPath}\n`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`dmarc-bot export: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await store.close().catch(() => undefined);
  }
}
