// Reads the rows of an export from the store in date order, a few weeks at a time, so that a
// store of years is exported in bounded memory. An aggregate report that spans several days is
// held until its last day has been read, then written as one row per source.

import type { DayDoc, ReportStore } from '../store/types.ts';
import {
  addSource,
  aggregateRow,
  emptyTotals,
  failureRow,
  tlsRow,
  type ExportKind,
  type ExportRow,
  type SourceTotals,
} from './rows.ts';

export interface ExportQuery {
  kinds: readonly ExportKind[];
  /** UTC days YYYY-MM-DD, inclusive */
  from: string;
  to: string;
  domain: string | null;
}

const CHUNK_DAYS = 92;

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function* chunks(from: string, to: string): Generator<{ from: string; to: string }> {
  for (let start = from; start <= to; start = addDays(start, CHUNK_DAYS)) {
    const end = addDays(start, CHUNK_DAYS - 1);
    yield { from: start, to: end < to ? end : to };
  }
}

interface PendingReport {
  domain: string;
  part: DayDoc['reports'][string];
  /** last UTC day the report covers */
  lastDay: string;
  sources: Map<string, SourceTotals>;
}

async function* aggregateRows(
  store: Pick<ReportStore, 'days' | 'domains'>,
  query: ExportQuery,
): AsyncGenerator<ExportRow> {
  const domains = query.domain ? [query.domain] : await store.domains();
  for (const domain of domains) {
    const pending = new Map<string, PendingReport>();
    const release = function* (before: string | null) {
      for (const [key, report] of pending) {
        if (before !== null && report.lastDay >= before) continue;
        pending.delete(key);
        for (const [ip, totals] of report.sources) yield aggregateRow(report.domain, report.part, ip, totals);
      }
    };
    for (const chunk of chunks(query.from, query.to)) {
      for (const doc of await store.days(domain, chunk.from, chunk.to)) {
        for (const reportKey of Object.keys(doc.reports)) {
          const part = doc.reports[reportKey]!;
          let report = pending.get(reportKey);
          if (!report) {
            report = { domain: doc.domain, part, lastDay: part.end.slice(0, 10), sources: new Map() };
            pending.set(reportKey, report);
          }
          for (const stat of part.sources) {
            let totals = report.sources.get(stat.ip);
            if (!totals) report.sources.set(stat.ip, (totals = emptyTotals()));
            addSource(totals, stat);
          }
        }
      }
      yield* release(addDays(chunk.to, 1));
    }
    yield* release(null);
  }
}

/** Every row of the query: aggregate rows by domain and date, then failure rows, then TLS rows. */
export async function* exportRows(
  store: Pick<ReportStore, 'days' | 'domains' | 'failures' | 'tlsResults'>,
  query: ExportQuery,
): AsyncGenerator<ExportRow> {
  if (query.kinds.includes('aggregate')) yield* aggregateRows(store, query);
  if (query.kinds.includes('failure'))
    for (const chunk of chunks(query.from, query.to))
      for (const failure of await store.failures(query.domain, chunk.from, chunk.to)) yield failureRow(failure);
  if (query.kinds.includes('tls'))
    for (const chunk of chunks(query.from, query.to))
      for (const policy of await store.tlsResults(query.domain, chunk.from, chunk.to)) yield tlsRow(policy);
}
