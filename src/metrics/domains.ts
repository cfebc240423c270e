// The per-domain figures behind the metrics' gauges, computed from the store as /dmarc ready does,
// but offline (no DNS lookups on a scrape): the readiness verdict and pass rate over the readiness
// window, and the messages of the last complete UTC day.

import type { ReadinessThresholds } from '../insight/types.ts';
import type { Identify, ReadinessVerdict } from '../insight/types.ts';
import { addDays, identifyDays, readiness, utcDay, windowEnding } from '../insight/index.ts';
import type { ReportStore } from '../store/types.ts';

export interface DomainFigures {
  domain: string;
  verdict: ReadinessVerdict;
  passRate: number;
  messagesLastDay: number;
}

export async function domainFigures(
  store: Pick<ReportStore, 'summaries' | 'marks' | 'domains'>,
  identify: Identify,
  thresholds: ReadinessThresholds,
  now: Date,
): Promise<DomainFigures[]> {
  const window = windowEnding(now, thresholds.windowDays);
  const [days, marks, domains] = await Promise.all([
    store.summaries(null, window.from, window.to),
    store.marks(),
    store.domains(),
  ]);
  const identities = await identifyDays(identify, days, { dns: false });
  const lastDay = addDays(utcDay(now), -1);
  const lastDayMessages = new Map<string, number>();
  for (const doc of days) {
    if (doc.date !== lastDay) continue;
    let messages = 0;
    for (const part of doc.reports) messages += part.messages;
    lastDayMessages.set(doc.domain, (lastDayMessages.get(doc.domain) ?? 0) + messages);
  }
  return domains.map((domain) => {
    const result = readiness({ domain, days, identities, marks, thresholds, window });
    return {
      domain,
      verdict: result.verdict,
      passRate: result.figures.passRate,
      messagesLastDay: lastDayMessages.get(domain) ?? 0,
    };
  });
}
