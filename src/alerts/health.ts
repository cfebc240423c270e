// Alerts about a domain's health over days rather than about one report: pure functions of the
// stored day documents, the owner's marks and "today" (UTC day from the injected clock).
//
//  - pass-rate-drop: the DMARC pass rate of the latest day with data fell at least `passRateDrop`
//    (absolute) below the rate of the `baselineDays` days before it. Sources marked spoof do not
//    count: the owner already knows their mail fails.
//  - sender-quiet: a legitimate sender (most of its mail passes) seen on at least `regularMinDays`
//    of the `regularWindowDays` days up to the latest day with data sent nothing in the last
//    `quietDays` of them. A sender is its aligned DKIM key (domain/selector: mail services rotate
//    addresses but keep the key), or its address when it passes by SPF alone.
//  - no-reports: the domain's latest day with data is more than `noReportsDays` before today.
//    Reporters send a day's report the next day, so a small gap is normal.

import type { DayDoc, MarksDoc, SourceStat } from '../store/types.ts';
import { markLookup } from '../insight/marks.ts';
import { orgDomain } from '../insight/hints.ts';
import { addDays } from '../insight/stats.ts';

export interface HealthRules {
  baselineDays: number;
  /** absolute fall of the pass rate (0.1 = 10 points) */
  passRateDrop: number;
  /** least messages on the latest day and in the baseline for a rate to mean something */
  minMessages: number;
  regularWindowDays: number;
  regularMinDays: number;
  quietDays: number;
  noReportsDays: number;
}

export const DEFAULT_HEALTH_RULES: HealthRules = {
  baselineDays: 7,
  passRateDrop: 0.1,
  minMessages: 50,
  regularWindowDays: 14,
  regularMinDays: 8,
  quietDays: 3,
  noReportsDays: 3,
};

export type HealthFinding =
  | {
      kind: 'pass-rate-drop';
      domain: string;
      /** the episode's subject: the domain */
      subject: string;
      day: string;
      rate: number;
      baselineRate: number;
      messages: number;
      failing: number;
    }
  | {
      kind: 'sender-quiet';
      domain: string;
      subject: string;
      /** readable name of the sender */
      sender: string;
      ips: string[];
      lastSeen: string;
      daysSeen: number;
      windowDays: number;
    }
  | {
      kind: 'no-reports';
      domain: string;
      subject: string;
      /** null: no data in the days looked at */
      lastDay: string | null;
      daysSince: number | null;
    };

export interface HealthInput {
  domains: readonly string[];
  days: readonly DayDoc[];
  marks: MarksDoc;
  /** UTC day (YYYY-MM-DD) of now */
  today: string;
  rules?: Partial<HealthRules>;
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** Per domain: UTC day -> its sources (all reporters merged into one list). */
function byDomainAndDay(days: readonly DayDoc[], today: string): Map<string, Map<string, SourceStat[]>> {
  const out = new Map<string, Map<string, SourceStat[]>>();
  for (const doc of days) {
    if (doc.date > today) continue;
    const domain = doc.domain.toLowerCase();
    let perDay = out.get(domain);
    if (!perDay) out.set(domain, (perDay = new Map()));
    const sources = perDay.get(doc.date) ?? [];
    for (const part of Object.values(doc.reports)) sources.push(...part.sources);
    if (sources.some((s) => s.messages > 0)) perDay.set(doc.date, sources);
  }
  return out;
}

/** The sender keys of a passing source: aligned DKIM keys, or the address for SPF-only passes. */
function senderKeys(stat: SourceStat, domain: string): string[] {
  const org = orgDomain(domain);
  const keys: string[] = [];
  for (const [entry, count] of Object.entries(stat.dkim)) {
    const [d, selector, result] = entry.split(' ');
    if (count > 0 && result === 'pass' && d && orgDomain(d) === org)
      keys.push(`dkim:${d.toLowerCase()}/${selector ?? '-'}`);
  }
  if (keys.length === 0 && stat.spfAligned > 0) keys.push(`ip:${stat.ip}`);
  return keys;
}

function senderName(key: string): string {
  if (key.startsWith('ip:')) return key.slice(3);
  const [d, selector] = key.slice(5).split('/');
  return selector && selector !== '-' ? `DKIM key ${selector} of ${d}` : `DKIM signatures of ${d}`;
}

export function detectHealth(input: HealthInput): HealthFinding[] {
  const rules = { ...DEFAULT_HEALTH_RULES, ...input.rules };
  const lookup = markLookup(input.marks);
  const perDomain = byDomainAndDay(input.days, input.today);
  const findings: HealthFinding[] = [];

  for (const domain of [...new Set(input.domains.map((d) => d.toLowerCase()))].sort()) {
    const perDay = perDomain.get(domain) ?? new Map<string, SourceStat[]>();
    const dataDays = [...perDay.keys()].sort();
    const latest = dataDays.at(-1) ?? null;

    if (latest === null || daysBetween(latest, input.today) > rules.noReportsDays) {
      findings.push({
        kind: 'no-reports',
        domain,
        subject: domain,
        lastDay: latest,
        daysSince: latest === null ? null : daysBetween(latest, input.today),
      });
      // the other checks read the latest days; with reports missing they would only echo this one
      continue;
    }

    // pass rate of the latest day against the days before it
    const counted = (sources: readonly SourceStat[]) => {
      let messages = 0;
      let pass = 0;
      for (const source of sources) {
        if (lookup(source.ip) === 'spoof') continue;
        messages += source.messages;
        pass += source.dmarcPass;
      }
      return { messages, pass };
    };
    const current = counted(perDay.get(latest)!);
    const baselineFrom = addDays(latest, -rules.baselineDays);
    let baseMessages = 0;
    let basePass = 0;
    let baseDays = 0;
    for (const day of dataDays) {
      if (day < baselineFrom || day >= latest) continue;
      const c = counted(perDay.get(day)!);
      baseMessages += c.messages;
      basePass += c.pass;
      baseDays += 1;
    }
    if (current.messages >= rules.minMessages && baseMessages >= rules.minMessages && baseDays >= 2) {
      const rate = current.pass / current.messages;
      const baselineRate = basePass / baseMessages;
      if (baselineRate - rate >= rules.passRateDrop)
        findings.push({
          kind: 'pass-rate-drop',
          domain,
          subject: domain,
          day: latest,
          rate,
          baselineRate,
          messages: current.messages,
          failing: current.messages - current.pass,
        });
    }

    // regular senders that went quiet
    const windowFrom = addDays(latest, -(rules.regularWindowDays - 1));
    const quietFrom = addDays(latest, -(rules.quietDays - 1));
    const seen = new Map<string, { days: Set<string>; ips: Set<string>; last: string }>();
    for (const day of dataDays) {
      if (day < windowFrom) continue;
      for (const source of perDay.get(day)!) {
        if (source.messages === 0 || source.dmarcPass * 2 < source.messages) continue;
        if (lookup(source.ip) === 'spoof') continue;
        for (const key of senderKeys(source, domain)) {
          let entry = seen.get(key);
          if (!entry) seen.set(key, (entry = { days: new Set(), ips: new Set(), last: day }));
          entry.days.add(day);
          entry.ips.add(source.ip);
          if (day > entry.last) entry.last = day;
        }
      }
    }
    for (const [key, entry] of [...seen].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (entry.last >= quietFrom || entry.days.size < rules.regularMinDays) continue;
      findings.push({
        kind: 'sender-quiet',
        domain,
        subject: `${domain}|${key}`,
        sender: senderName(key),
        ips: [...entry.ips].sort().slice(0, 5),
        lastSeen: entry.last,
        daysSeen: entry.days.size,
        windowDays: rules.regularWindowDays,
      });
    }
  }
  return findings;
}
