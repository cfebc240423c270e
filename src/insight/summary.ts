// `summary [days]` (totals per policy domain) and `sources [days]` (the top sender groups).

import type { MarksDoc } from '../store/types.ts';
import {
  asSummary,
  pairKey,
  pairOffsets,
  ROW_MAPS,
  ROW_WIDTH,
  rowNumber,
  summaryRows,
  type DayData,
  type StoredDaySummary,
} from '../store/summary.ts';
import type { DayWindow, DomainSummary, SenderIdentity, SourcesInsight, Summary } from './types.ts';
import { classifyGroups, classRank, type ClassifyThresholds } from './classify.ts';
import { groupSources, topIps } from './groups.ts';
import { DEFAULT_THRESHOLDS } from './readiness.ts';
import { markLookup } from './marks.ts';
import { inWindow, rate } from './stats.ts';
import { dict } from '../store/dict.ts';

const DISPOSITIONS = ROW_MAPS.indexOf('dispositions');

/** Adds a stored row's dispositions (its pairs from `start` to `end`) into `into`, in the row's order. */
function rowDispositions(stored: StoredDaySummary, start: number, end: number, into: Record<string, number>): void {
  const { keys, pairs } = stored;
  // a key twice in one row counts twice, as the decoded row counts it
  for (let at = start; at < end; at += 2) {
    const code = pairKey(pairs[at], keys.length);
    if (code < 0 || code % ROW_MAPS.length !== DISPOSITIONS) continue;
    const key = String(keys[(code / ROW_MAPS.length) | 0]);
    into[key] = (into[key] ?? 0) + rowNumber(pairs[at + 1]);
  }
}

export function summary({ days, window }: { days: readonly DayData[]; window: DayWindow }): Summary {
  interface Acc {
    messages: number;
    dmarcPass: number;
    spfAligned: number;
    dkimAligned: number;
    reports: Set<string>;
    reporters: Set<string>;
    days: Set<string>;
    sources: Set<string>;
    dispositions: Record<string, number>;
  }
  const byDomain = new Map<string, Acc>();
  for (const day of days) {
    if (!inWindow(day.date, window)) continue;
    const doc = asSummary(day);
    let acc = byDomain.get(doc.domain);
    if (!acc) {
      acc = {
        messages: 0,
        dmarcPass: 0,
        spfAligned: 0,
        dkimAligned: 0,
        reports: new Set(),
        reporters: new Set(),
        days: new Set(),
        sources: new Set(),
        dispositions: dict(),
      };
      byDomain.set(doc.domain, acc);
    }
    for (const part of doc.reports) {
      acc.reports.add(part.reportKey);
      acc.reporters.add(part.orgName);
      acc.days.add(doc.date);
    }
    // Straight from the stored rows: no row objects or count maps are built for a month of sources.
    const stored = summaryRows(doc);
    const { counts } = stored;
    const starts = pairOffsets(stored);
    for (let row = 0; row < stored.ips.length; row++) {
      const base = row * ROW_WIDTH;
      acc.messages += rowNumber(counts[base]);
      acc.dmarcPass += rowNumber(counts[base + 1]);
      acc.spfAligned += rowNumber(counts[base + 4]);
      acc.dkimAligned += rowNumber(counts[base + 5]);
      acc.sources.add(String(stored.ips[row]));
      rowDispositions(stored, starts[row]!, starts[row + 1]!, acc.dispositions);
    }
  }
  const domains: DomainSummary[] = [...byDomain.entries()]
    .map(([domain, acc]) => ({
      domain,
      messages: acc.messages,
      dmarcPass: acc.dmarcPass,
      dmarcFail: acc.messages - acc.dmarcPass,
      passRate: rate(acc.dmarcPass, acc.messages),
      spfAlignedRate: rate(acc.spfAligned, acc.messages),
      dkimAlignedRate: rate(acc.dkimAligned, acc.messages),
      reports: acc.reports.size,
      reporters: acc.reporters.size,
      daysWithReports: acc.days.size,
      sources: acc.sources.size,
      dispositions: acc.dispositions,
    }))
    .sort((a, b) => b.messages - a.messages || (a.domain < b.domain ? -1 : 1));
  const messages = domains.reduce((sum, d) => sum + d.messages, 0);
  const dmarcPass = domains.reduce((sum, d) => sum + d.dmarcPass, 0);
  return { window, messages, dmarcPass, dmarcFail: messages - dmarcPass, passRate: rate(dmarcPass, messages), domains };
}

export interface SourcesInput {
  days: readonly DayData[];
  identities: Record<string, SenderIdentity>;
  marks: MarksDoc;
  window: DayWindow;
  /** how many groups to return (default 20) */
  limit?: number;
  /** one policy domain, or every domain (default) */
  domain?: string | null;
  thresholds?: ClassifyThresholds;
}

export function sources({
  days,
  identities,
  marks,
  window,
  limit = 20,
  domain = null,
  thresholds = DEFAULT_THRESHOLDS,
}: SourcesInput): SourcesInsight {
  const grouped = groupSources(days, identities, markLookup(marks), window, domain);
  // Groups span domains here; each is classed by its figures as a whole, with its largest domain.
  const classified = [...grouped.groups.values()].map((group) => {
    const mainDomain = [...group.domains].sort()[0] ?? '';
    return classifyGroups(
      { groups: new Map([[group.key, group]]), messages: grouped.messages, dmarcPass: 0, daysWithReports: new Set() },
      mainDomain,
      thresholds,
    ).get(group.key)!;
  });
  classified.sort(
    (a, b) =>
      classRank(a.class) - classRank(b.class) ||
      b.group.stat.messages - a.group.stat.messages ||
      (a.group.key < b.group.key ? -1 : 1),
  );
  let ips = 0;
  for (const { group } of classified) ips += group.ips.size;
  return {
    window,
    messages: grouped.messages,
    total: classified.length,
    ips,
    sources: classified.slice(0, Math.max(0, limit)).map(({ group, class: sourceClass, hint }) => ({
      key: group.key,
      sender: group.identity.name,
      by: group.identity.by,
      service: group.identity.service,
      class: sourceClass,
      messages: group.stat.messages,
      dmarcPass: group.stat.dmarcPass,
      dmarcFail: group.stat.messages - group.stat.dmarcPass,
      passRate: rate(group.stat.dmarcPass, group.stat.messages),
      share: rate(group.stat.messages, grouped.messages),
      activeDays: group.activeDays,
      ips: topIps(group),
      ipCount: group.ips.size,
      mark: group.mark,
      hint,
      domains: [...group.domains].sort(),
    })),
  };
}
