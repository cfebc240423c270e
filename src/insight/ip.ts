// `ip <address>`: what one source IP sent in a window, from its IP-index rows.

import type { IpEntry, MarksDoc, MarkVerdict } from '../store/types.ts';
import type { CountRow, DayWindow, IpInsight, SenderIdentity, SourceClass } from './types.ts';
import { classHint } from './classify.ts';
import { explainFailures } from './hints.ts';
import { ipMark, markLookup } from './marks.ts';
import { addStat, emptyStat, inWindow, rate, rows } from './stats.ts';
import { dict } from '../store/dict.ts';

export interface IpInsightInput {
  ip: string;
  entries: readonly IpEntry[];
  identity: SenderIdentity | null;
  /** the mark itself, or the whole marks document to look it up in */
  mark: MarkVerdict | MarksDoc | null;
  window: DayWindow;
  /** the class of the IP's sender group in its main domain (classifyIps), when known */
  sourceClass?: SourceClass | null;
}

export function ipInsight({ ip, entries, identity, mark, window, sourceClass = null }: IpInsightInput): IpInsight {
  const total = emptyStat(ip);
  const byDay = new Map<string, { messages: number; dmarcPass: number }>();
  const byDomain = dict<{ messages: number; dmarcPass: number }>();
  const byReporter = dict<number>();

  for (const entry of entries) {
    if (!inWindow(entry.date, window)) continue;
    addStat(total, entry);
    const day = byDay.get(entry.date) ?? { messages: 0, dmarcPass: 0 };
    day.messages += entry.messages;
    day.dmarcPass += entry.dmarcPass;
    byDay.set(entry.date, day);
    const domain = (byDomain[entry.domain] ??= { messages: 0, dmarcPass: 0 });
    domain.messages += entry.messages;
    domain.dmarcPass += entry.dmarcPass;
    byReporter[entry.orgName] = (byReporter[entry.orgName] ?? 0) + entry.messages;
  }

  const days = [...byDay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([date, figures]) => ({ date, ...figures }));
  const domainStats: Array<CountRow & { dmarcPass: number }> = Object.entries(byDomain)
    .map(([key, figures]) => ({ key, ...figures }))
    .sort((a, b) => b.messages - a.messages || (a.key < b.key ? -1 : 1));
  const reporterStats = rows(byReporter);
  const verdict = typeof mark === 'string' || mark === null ? mark : ipMark(markLookup(mark), ip, identity);
  const identified = identity && identity.by !== 'ip';
  const mainDomain = domainStats[0]?.key ?? '';
  const failureHint = explainFailures(total, { forwarder: identity?.forwarder ?? false, domain: mainDomain });

  return {
    ip,
    known: days.length > 0,
    window,
    messages: total.messages,
    dmarcPass: total.dmarcPass,
    dmarcFail: total.messages - total.dmarcPass,
    firstSeen: days[0]?.date ?? null,
    lastSeen: days[days.length - 1]?.date ?? null,
    ptr: identity?.ptr ?? null,
    asn: identity?.asn ?? null,
    asName: identity?.asName ?? null,
    country: identity?.country ?? null,
    sender: identified ? identity.name : null,
    service: identity?.service ?? null,
    domains: domainStats.map((row) => row.key),
    reporters: reporterStats.map((row) => row.key),
    days,
    domainStats,
    reporterStats,
    headerFrom: rows(total.headerFrom),
    spfPass: total.spfPass,
    dkimPass: total.dkimPass,
    spfAligned: total.spfAligned,
    dkimAligned: total.dkimAligned,
    dmarcPassRate: rate(total.dmarcPass, total.messages),
    spfAlignedRate: rate(total.spfAligned, total.messages),
    dkimAlignedRate: rate(total.dkimAligned, total.messages),
    spfResults: rows(total.spf),
    dkimResults: rows(total.dkim),
    dispositions: total.dispositions,
    reasons: total.reasons,
    mark: verdict,
    class: days.length > 0 ? sourceClass : null,
    hint: sourceClass ? classHint(sourceClass, failureHint, ip, mainDomain) : failureHint,
  };
}
