// The measured part of bench:query, in its own process so that its peak RSS is its own: every
// query over one density's store, timed. query.bench.ts bundles this file with the command's build
// options (build.ts), so the queries run the same bundled code as the service (no TypeScript loader).
// Prints one JSON line (DensityResult).
//
//   node child.js --file STORE --density N --days D --last-day YYYY-MM-DD [--quick]
import { performance } from 'node:perf_hooks';
import { openStore } from '../../../src/store/index.ts';
import type { ReportStore } from '../../../src/store/types.ts';
import type { Identify } from '../../../src/insight/types.ts';
import {
  queryDate,
  queryDigest,
  queryIp,
  queryReady,
  querySummary,
  type Timings,
} from '../../../src/insight/queries.ts';
import { DEFAULT_THRESHOLDS } from '../../../src/insight/readiness.ts';
import { addDays, windowEnding } from '../../../src/insight/stats.ts';
import { DOMAIN, IPS, REGULAR, ipOf, rng, tableIdentify, type DensityResult, type QueryRuns } from './shape.ts';

const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  if (at < 0) throw new Error(`missing ${name}`);
  return process.argv[at + 1]!;
};
const QUICK = process.argv.includes('--quick');
const DAYS = Number(arg('--days'));
const LAST_DAY = arg('--last-day');

/** The project's identification (known ranges, ASN table) without DNS; BENCH_IDENTIFY=table: a small lookup table instead. */
async function chooseIdentify(store: ReportStore): Promise<Identify> {
  if (process.env.BENCH_IDENTIFY === 'table') return tableIdentify;
  const { createIdentify } = await import('../../../src/senders/identify.ts');
  return createIdentify({ store, reverse: async () => [], resolve: async () => [], timeoutMs: 0 });
}

/**
 * The first run is reported apart as "cold": it fills the process's offline identity memo. The
 * others are timed back to back, as a busy bot answers them (no collection forced in between),
 * in wall time and in the CPU time of the whole process (GC threads and the SQLite pool too).
 */
async function measure(runs: number, run: (i: number) => Promise<unknown>): Promise<QueryRuns> {
  const coldStart = performance.now();
  await run(0);
  const firstMs = performance.now() - coldStart;
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 1; i <= runs; i += 1) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await run(i);
    times.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  return { times, cpu, firstMs };
}

/** One density, in its own process: every query, timed. */
async function runDensity(file: string, reports: number): Promise<DensityResult> {
  const store: ReportStore = await openStore(`sqlite://${file}`);
  const identify = await chooseIdentify(store);
  const now = new Date(`${addDays(LAST_DAY, 1)}T18:00:00Z`);
  const random = rng(7);
  // A p95 is the 5 % slowest runs: of 20 runs that was the second slowest, which one collection
  // or one descheduling on a loaded machine decided; the parent also pools two rounds.
  const runs = QUICK ? 8 : 60;
  const randomIp = () =>
    ipOf(random() < 0.5 ? Math.floor(random() * REGULAR) : REGULAR + Math.floor(random() * (IPS - REGULAR)));
  const randomDay = () => addDays(LAST_DAY, -Math.floor(random() * Math.min(DAYS, 30)));
  const since = new Date(now.getTime() - 86_400_000);
  const queries = {
    // the cheap queries run more often
    ip: await measure(runs * 4, () => queryIp(store, identify, randomIp(), { days: 30, now })),
    date: await measure(runs * 4, () => queryDate(store, randomDay(), identify, { now })),
    ready: await measure(runs, () => queryReady(store, identify, DOMAIN, DEFAULT_THRESHOLDS, now)),
    summary: await measure(runs, () => querySummary(store, 30, now)),
    digest: await measure(runs, () => queryDigest(store, identify, { since, until: now, now })),
  };
  const format = (timings: Timings) =>
    Object.entries(timings)
      .map(([phase, ms]) => `${phase} ${ms.toFixed(1)} ms`)
      .join(', ');
  const readyTimings: Timings = {};
  const [result] = await queryReady(store, identify, DOMAIN, DEFAULT_THRESHOLDS, now, readyTimings);
  const digestTimings: Timings = {};
  await queryDigest(store, identify, { since, until: now, now, timings: digestTimings });
  const window = windowEnding(now, DEFAULT_THRESHOLDS.windowDays);
  const summaries = await store.summaries(DOMAIN, window.from, window.to);
  await store.close();
  return {
    reports,
    queries,
    readyBreakdown: `${format(readyTimings)}; verdict ${result!.verdict}, ${result!.sources.length} sender groups`,
    digestBreakdown: format(digestTimings),
    sources: summaries.reduce((sum, day) => sum + day.sources.length, 0),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

process.stdout.write(JSON.stringify(await runDensity(arg('--file'), Number(arg('--density')))) + '\n');
