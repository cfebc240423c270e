// One memory measurement in a fresh process: argv MODE FILE MAX_BYTES, MODE `in-process`
// (readReports on this thread) or `bounded` (readReportsBounded: the worker thread the bot uses;
// a worker's heap counts in this process's RSS). Prints one JSON line.
import { readFileSync } from 'node:fs';
import { closeBoundedReader, readReportsBounded } from '../../../src/reader/bounded.ts';
import { readReports } from '../../../src/reader/index.ts';

export interface MemoryResult {
  records: number;
  errors: string[];
  rssBefore: number;
  peakRss: number;
  cpuMs: number;
}

const [mode, path, maxBytesArg] = process.argv.slice(2);
const maxBytes = Number(maxBytesArg);
const bytes = readFileSync(path!);
const rssBefore = process.memoryUsage().rss;
const cpu = process.cpuUsage();
const outcome =
  mode === 'bounded'
    ? await readReportsBounded(bytes, { source: path!, maxBytes, deadlineMs: 600_000 })
    : await readReports(bytes, { source: path!, maxBytes });
const used = process.cpuUsage(cpu);
const report = outcome.reports[0];
const result: MemoryResult = {
  records: report?.kind === 'aggregate' ? report.records.length : 0,
  errors: outcome.errors.map((error) => error.message),
  rssBefore,
  peakRss: process.resourceUsage().maxRSS * 1024,
  cpuMs: (used.user + used.system) / 1000,
};
await closeBoundedReader();
process.stdout.write(`${JSON.stringify(result)}\n`);
