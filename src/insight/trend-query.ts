// Loads what a trend chart needs from the store: the window's day documents, the days before it
// (to tell which senders are new), the marks and offline identities; then classes every source
// with the one classification (classify.ts) over the chart's window, as `ready` with the same
// days:N does, and builds the trend of each domain.

import type { DayDoc, ReportStore } from '../store/types.ts';
import { classifyIps } from './classify.ts';
import { identifyDays } from './queries.ts';
import { readiness } from './readiness.ts';
import { addDays, windowEnding } from './stats.ts';
import { trend, type Trend } from './trend.ts';
import type { Identify, Readiness, ReadinessThresholds } from './types.ts';

/** How far before the window a sender counts as already known. */
export const NEW_SENDER_LOOKBACK_DAYS = 30;

export interface TrendResult {
  trend: Trend;
  /** readiness over the chart's window, from the reports alone (no DNS checks) */
  readiness: Readiness;
}

export interface TrendQueryOptions {
  days: number;
  now: Date;
  thresholds: ReadinessThresholds;
}

/** One trend per domain with messages in the window (the named domain only, when given). */
export async function queryTrends(
  store: ReportStore,
  identify: Identify,
  domain: string | null,
  options: TrendQueryOptions,
): Promise<TrendResult[]> {
  const window = windowEnding(options.now, options.days);
  const thresholds = { ...options.thresholds, windowDays: options.days };
  const lookback = { from: addDays(window.from, -NEW_SENDER_LOOKBACK_DAYS), to: addDays(window.from, -1) };
  const [days, earlier, marks] = await Promise.all([
    store.days(domain, window.from, window.to),
    store.days(domain, lookback.from, lookback.to),
    store.marks(),
  ]);
  const identities = await identifyDays(identify, days, { dns: false });

  const byDomain = new Map<string, DayDoc[]>();
  for (const doc of days) {
    if (Object.keys(doc.reports).length === 0) continue;
    const list = byDomain.get(doc.domain) ?? [];
    list.push(doc);
    byDomain.set(doc.domain, list);
  }
  const seenBefore = new Map<string, Set<string>>();
  const earlierDays = new Map<string, number>();
  for (const doc of earlier) {
    if (Object.keys(doc.reports).length === 0) continue;
    const seen = seenBefore.get(doc.domain) ?? new Set<string>();
    for (const reportKey in doc.reports) for (const source of doc.reports[reportKey]!.sources) seen.add(source.ip);
    seenBefore.set(doc.domain, seen);
    earlierDays.set(doc.domain, (earlierDays.get(doc.domain) ?? 0) + 1);
  }

  const names = [...byDomain.keys()].sort();
  // Every IP takes the class of its sender group in its domain.
  const classes = classifyIps({ days, identities, marks, window, domains: names, thresholds });
  const results: TrendResult[] = [];
  for (const name of names) {
    const docs = byDomain.get(name)!;
    const ready = readiness({ domain: name, days: docs, identities, marks, thresholds, window });
    const classOfIp = classes.get(name);
    const seen = seenBefore.get(name) ?? new Set<string>();
    results.push({
      trend: trend({
        domain: name,
        days: docs,
        window,
        classOf: (ip) => classOfIp?.get(ip)?.class ?? 'unconfirmed',
        identities,
        seenBefore: seen,
        earlierDays: earlierDays.get(name) ?? 0,
        newSenderMinShare: thresholds.regularSenderMinShare,
      }),
      readiness: ready,
    });
  }
  return results;
}
