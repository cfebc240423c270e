// `dmarc-bot parse [--json] PATH...`: read report files and folders and print what they hold, one
// line per report. Nothing is stored. Exit status 0 when every input held at least one report.

import { parseArgs } from 'node:util';
import { ConfigError, configSchema } from '../config.ts';
import type { Report } from '../model.ts';
import type { JsonReadOutcome } from '../reader/bounded.ts';
import type { ReadOptions, ReadOutcome } from '../reader/index.ts';
import { readReportsBoundedJson, readReportsMerged, warmBoundedReader } from '../reader/bounded.ts';
import { sniff } from '../reader/sniff.ts';
import { listInputs } from '../sources/files.ts';
import { isMerged } from '../store/merge.ts';
import { EXIT_FAILURE, EXIT_OK, helpOption, parseCommandArgs, usageError } from './args.ts';

const help = `Usage: dmarc-bot parse [--json] PATH...

Reads DMARC aggregate, failure and SMTP TLS reports from files and folders (read recursively):
.xml, .json, gzip, zip, mail messages (.eml) and mbox files, recognized by content.

  --json   one JSON object per line: {"source","report"} for every report found,
           {"source","error"} for an input that holds none (or a part that was refused)

Without --json, one short summary line per report. MAX_ATTACHMENT_MB caps decompressed sizes.
Exit status: 0 when every input held at least one report, 1 otherwise (or a bad setting), 2 for a usage error.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('parse', help, () =>
    parseArgs({ args: argv, options: { ...helpOption, json: { type: 'boolean' } }, allowPositionals: true }),
  );
  if (typeof parsed === 'number') return parsed;
  const json = parsed.values.json ?? false;
  const paths = parsed.positionals;
  if (paths.length === 0) return usageError('parse', 'give at least one PATH');
  // the reader's thread loads its modules while this one loads the settings and lists the inputs;
  // not for plain XML or JSON files, which are read in this thread (see readsInThread)
  if (paths.some((path) => !/\.(xml|json)$/i.test(path))) warmBoundedReader();

  let maxBytes: number;
  try {
    maxBytes = configSchema.shape.MAX_ATTACHMENT_MB.parse(process.env.MAX_ATTACHMENT_MB) * 1024 * 1024;
  } catch {
    process.stderr.write(
      new ConfigError('MAX_ATTACHMENT_MB', 'a whole number of megabytes, at least 1').message + '\n',
    );
    return EXIT_FAILURE;
  }

  const print = (line: string) => process.stdout.write(line + '\n');
  const printError = (source: string, message: string) =>
    print(
      json
        ? JSON.stringify({ source, error: message })
        : message.startsWith(source)
          ? `error: ${message}`
          : `${source}: error: ${message}`,
    );
  let failedInputs = 0;

  // the summary needs no records: files are read by the worker as streams, records merged as read
  const inputs = listInputs(paths, {
    byPath: !json,
    onError: (source, error) => {
      failedInputs++;
      printError(source, `cannot read: ${error.message}`);
    },
  });
  for await (const input of inputs) {
    const options = { source: input.source, maxBytes };
    // with --json each report's JSON is written where it was read (in the worker, it crosses as one
    // string): `{"source":...,"report":` + it + `}` is exactly JSON.stringify({ source, report })
    const { lines, errors } = json
      ? await (
          readsInThread(input.bytes)
            ? readJsonInThread(input.bytes, options)
            : readReportsBoundedJson(input.bytes, options)
        ).then(({ reportsJson, errors }) => ({
          lines: reportsJson.map((report) => `{"source":${JSON.stringify(input.source)},"report":${report}}`),
          errors,
        }))
      : await readReportsMerged(input.path !== undefined ? { path: input.path } : input.bytes, options).then(
          ({ reports, errors }) => ({
            lines: reports.map((report) => `${input.source}: ${summarize(report)}`),
            errors,
          }),
        );
    if (lines.length === 0) {
      failedInputs++;
      printError(input.source, errors.map((error) => error.message).join('; ') || 'no report found');
      continue;
    }
    for (const line of lines) print(line);
    // Parts refused next to good ones: shown, but the input did yield reports.
    for (const error of errors) printError(input.source, error.message);
  }
  return failedInputs === 0 ? EXIT_OK : EXIT_FAILURE;
}

/**
 * Plain XML and JSON (also as UTF-16/32) are read in this thread: their reading is linear and the
 * size cap bounds it, and a big report costs less without a worker's start, the transfer of the
 * input and the copy of its JSON back. Mail (mailparser can stall on some) and gzip or zip (which
 * may hold mail) go to the bounded reader's worker, under its deadline and heap limit.
 */
function readsInThread(bytes: Uint8Array): boolean {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return true;
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff) return true;
  const kind = sniff(bytes);
  return kind === 'xml' || kind === 'json' || kind === 'empty' || kind === 'unknown';
}

// loaded on the first input read here: the reader's modules are not needed for other inputs
async function readInThread(bytes: Uint8Array, options: ReadOptions): Promise<ReadOutcome> {
  const { readReports } = await import('../reader/index.ts');
  return readReports(bytes, options);
}

async function readJsonInThread(bytes: Uint8Array, options: ReadOptions): Promise<JsonReadOutcome> {
  const { reports, errors } = await readInThread(bytes, options);
  return { reportsJson: reports.map((report) => JSON.stringify(report)), errors };
}

export function summarize(report: Report): string {
  switch (report.kind) {
    case 'aggregate': {
      let messages = 0;
      let passing = 0;
      let records = report.records.length;
      if (isMerged(report)) {
        // the store's rows hold every message of the report once (shares add up to each count)
        records = report.merged.records;
        for (const split of report.merged.splits)
          for (const stat of split.sources) {
            messages += stat.messages;
            passing += stat.dmarcPass;
          }
      }
      for (const record of report.records) {
        messages += record.count;
        if (record.dmarc === 'pass') passing += record.count;
      }
      const repaired = report.errors.length ? `, ${report.errors.length} note(s)` : '';
      return `aggregate ${report.policy.domain} from ${report.orgName} (${report.reportId}), ${report.begin} to ${report.end}: ${records} records, ${messages} messages, ${passing} DMARC pass${repaired}`;
    }
    case 'failure':
      return `failure ${report.reportedDomain ?? '?'} from ${report.sourceIp ?? '?'} at ${report.arrivalDate ?? '?'}: ${report.authFailure.join(',') || 'auth failure'}, header From ${report.headerFrom ?? '?'}, subject ${JSON.stringify(report.subject ?? '')}`;
    case 'tls': {
      const successful = report.policies.reduce((sum, policy) => sum + policy.successful, 0);
      const failed = report.policies.reduce((sum, policy) => sum + policy.failed, 0);
      const domains = [...new Set(report.policies.map((policy) => policy.domain))].join(', ');
      return `tls ${domains} from ${report.orgName} (${report.reportId}), ${report.begin} to ${report.end}: ${successful} successful, ${failed} failed sessions`;
    }
  }
}
