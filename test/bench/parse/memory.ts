// One memory measurement in a fresh process: argv MODE FILE MAX_BYTES. Both modes read the file the
// way `dmarc-bot ingest` and `parse` do: by path, as a stream, each aggregate report's records merged
// into the store's rows (one per source IP and day) as they are read. MODE `in-process` runs that
// read on this thread (readReportFile with the merging sink); `bounded` in the reader's worker
// thread (readReportsMerged, whose heap counts in this process's RSS). Prints one JSON line.
import { closeBoundedReader, readReportsMerged } from '../../../src/reader/bounded.ts';
import { readReportFile } from '../../../src/reader/index.ts';
import { isMerged, openMergingSink } from '../../../src/store/merge.ts';

export interface MemoryResult {
  records: number;
  /** source rows the merged report holds (one per source IP and day) */
  sources: number;
  errors: string[];
  rssBefore: number;
  peakRss: number;
  cpuMs: number;
}

const [mode, path, maxBytesArg] = process.argv.slice(2);
const maxBytes = Number(maxBytesArg);
const rssBefore = process.memoryUsage().rss;
const cpu = process.cpuUsage();
const outcome =
  mode === 'bounded'
    ? await readReportsMerged({ path: path! }, { source: path!, maxBytes, deadlineMs: 600_000 })
    : await readReportFile(path!, { source: path!, maxBytes }, openMergingSink);
const used = process.cpuUsage(cpu);
const report = outcome.reports[0];
const merged = report?.kind === 'aggregate' && isMerged(report) ? report.merged : null;
const result: MemoryResult = {
  records: merged?.records ?? 0,
  sources: merged?.splits.reduce((sum, split) => sum + split.sources.length, 0) ?? 0,
  errors: outcome.errors.map((error) => error.message),
  rssBefore,
  peakRss: process.resourceUsage().maxRSS * 1024,
  cpuMs: (used.user + used.system) / 1000,
};
await closeBoundedReader();
process.stdout.write(`${JSON.stringify(result)}\n`);
