// Store write cost: ingest a few hundred generated aggregate reports (1 to 500 records each) into
// each backend (SQLite file, real Redis, real PostgreSQL) and report µs per record, document writes
// per report, and the read latency of days() and ipEntries().
//
//   node --import tsx test/bench/store.bench.ts [reports]
//
// measureStoreWriteCost() is also called by the ingest benchmark, which prints its text.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AggregateReport } from '../../src/model.ts';
import { openStore } from '../../src/store/index.ts';
import { startPostgres } from '../support/postgres.ts';
import { startRedis } from '../support/redis.ts';
import { generateReports } from '../store/factories.ts';

export type BenchBackend = 'sqlite' | 'redis' | 'postgres';

export interface StoreWriteCost {
  backend: BenchBackend;
  reports: number;
  records: number;
  messages: number;
  ingestMs: number;
  usPerRecord: number;
  reportsPerSecond: number;
  /** documents + markers written per report, over all flushes */
  writesPerReport: number;
  /** mean of days(null, month) and ipEntries(ip, month) over a few calls */
  daysReadMs: number;
  ipReadMs: number;
}

async function measureOne(backend: BenchBackend, url: string, reports: AggregateReport[]): Promise<StoreWriteCost> {
  let writes = 0;
  const store = await openStore(url, {
    namespace: `bench${Date.now()}`,
    hooks: { afterFlush: (info) => (writes += info.documents + info.reports) },
  });
  try {
    const started = performance.now();
    for (const report of reports) await store.ingest(report, 'bench');
    await store.flush();
    const ingestMs = performance.now() - started;
    const records = reports.reduce((sum, report) => sum + report.records.length, 0);
    const messages = reports.reduce(
      (sum, report) => sum + report.records.reduce((acc, item) => acc + item.count, 0),
      0,
    );

    const rounds = 5;
    let daysMs = 0;
    let ipMs = 0;
    for (let round = 0; round < rounds; round++) {
      let begin = performance.now();
      await store.days(null, '2024-01-01', '2024-01-31');
      daysMs += performance.now() - begin;
      begin = performance.now();
      await store.ipEntries(reports[round]!.records[0]!.sourceIp, '2024-01-01', '2024-03-31');
      ipMs += performance.now() - begin;
    }
    return {
      backend,
      reports: reports.length,
      records,
      messages,
      ingestMs: Math.round(ingestMs),
      usPerRecord: Math.round((ingestMs * 1000) / records),
      reportsPerSecond: Math.round((reports.length * 1000) / ingestMs),
      writesPerReport: Math.round((writes / reports.length) * 10) / 10,
      daysReadMs: Math.round((daysMs / rounds) * 10) / 10,
      ipReadMs: Math.round((ipMs / rounds) * 10) / 10,
    };
  } finally {
    await store.close();
  }
}

/** Measures every backend (or the ones asked for); starts and stops its own servers. */
export async function measureStoreWriteCostData(
  options: { reports?: number; backends?: BenchBackend[] } = {},
): Promise<StoreWriteCost[]> {
  const reports = generateReports(options.reports ?? 300);
  const results: StoreWriteCost[] = [];
  for (const backend of options.backends ?? (['sqlite', 'redis', 'postgres'] as const)) {
    if (backend === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'dmarc-store-bench-'));
      try {
        results.push(await measureOne(backend, `sqlite://${join(dir, 'bench.sqlite')}`, reports));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else {
      const server = backend === 'redis' ? await startRedis() : await startPostgres();
      try {
        results.push(await measureOne(backend, server.url, reports));
      } finally {
        await server.stop();
      }
    }
  }
  return results;
}

export function formatStoreWriteCost(results: StoreWriteCost[]): string {
  return results
    .map(
      (result) =>
        `${result.backend.padEnd(8)} ${String(result.usPerRecord).padStart(5)} µs/record  ${String(result.writesPerReport).padStart(5)} writes/report  ` +
        `${String(result.reportsPerSecond).padStart(5)} reports/s  (${result.reports} reports, ${result.records} records, ${result.ingestMs} ms)  ` +
        `read: days ${result.daysReadMs} ms, ip ${result.ipReadMs} ms`,
    )
    .join('\n');
}

/** The text the ingest benchmark prints. */
export async function measureStoreWriteCost(
  options: { reports?: number; backends?: BenchBackend[] } = {},
): Promise<string> {
  return formatStoreWriteCost(await measureStoreWriteCostData(options));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const count = Number(process.argv[2] ?? 300);
  process.stdout.write(`store write cost, ${count} generated aggregate reports per backend\n`);
  process.stdout.write(`${await measureStoreWriteCost({ reports: count })}\n`);
}
