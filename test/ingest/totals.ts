// What "the same store content" means in the exactly-once tests: the set of stored reports and the
// message counts per policy domain and UTC day (plus failure and TLS rows). Ingest times differ
// between runs and are left out.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportStore } from '../../src/store/types.ts';
import { openStore } from '../../src/store/index.ts';

export interface StoreTotals {
  reports: string[];
  messagesPerDomainDay: Record<string, number>;
  failures: number;
  tlsPolicies: number;
}

const FROM = '1970-01-01';
const TO = '2100-12-31';

export async function storeTotals(store: ReportStore): Promise<StoreTotals> {
  const reports = (await store.ingestedSince('1970-01-01T00:00:00.000Z')).map((entry) => entry.reportKey).sort();
  const messagesPerDomainDay: Record<string, number> = {};
  for (const day of await store.days(null, FROM, TO)) {
    const messages = Object.values(day.reports).reduce((sum, part) => sum + part.messages, 0);
    messagesPerDomainDay[`${day.domain} ${day.date}`] = messages;
  }
  return {
    reports,
    messagesPerDomainDay,
    failures: (await store.failures(null, FROM, TO)).length,
    tlsPolicies: (await store.tlsResults(null, FROM, TO)).length,
  };
}

/** A fresh SQLite store in its own temp folder. */
export async function freshSqliteStore(): Promise<{ store: ReportStore; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-ingest-'));
  const url = `sqlite://${join(dir, 'store.sqlite')}`;
  return { store: await openStore(url), url, dir };
}
