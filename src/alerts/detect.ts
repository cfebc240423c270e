// Deciding whether a newly stored aggregate report deserves an alert: a pure function of the
// report, the source's stored history for the policy domain, and the owner's marks.
//
// Two kinds:
//  - new-failing-source: an IP that has never passed DMARC for the domain (not in this report, not
//    in the stored history) sends at least `minMessages` failing messages in this report. Either
//    a sender someone forgot to set up, or spoofing: both are worth a look the day it starts.
//  - failing-surge: an IP whose failing messages in this report are at least `minMessages` and at
//    least `surgeFactor` (3) times its average failing messages per day over the `baselineDays` (7)
//    days before the report's first day, scaled to the report's length in days. A source that
//    failed nothing before counts as a surge once it crosses `minMessages`.
// Marks: a source marked `spoof` never alerts (the owner already knows it is not theirs; the
// policy is what handles it). A source marked `mine` still alerts: one's own server suddenly
// failing is exactly what the owner wants to hear about.

import type { AggregateReport } from '../model.ts';
import { isMerged, mergedSources } from '../store/merge.ts';
import type { IpEntry, MarksDoc } from '../store/types.ts';
import { classifySource } from '../insight/classify.ts';
import { explainFailures } from '../insight/hints.ts';
import { markLookup } from '../insight/marks.ts';
import { addDays, utcDay } from '../time/utc-day.ts';
import { own } from '../store/dict.ts';
import { DEFAULT_THRESHOLDS } from '../insight/readiness.ts';
import { addStat, emptyStat } from '../insight/stats.ts';
import type { SourceClass } from '../insight/types.ts';

export type AlertKind = 'new-failing-source' | 'failing-surge';

export interface AlertFinding {
  kind: AlertKind;
  domain: string;
  ip: string;
  /** failing messages of this source in this report */
  failing: number;
  messages: number;
  /** average failing messages per day over the baseline days (surge only) */
  baselinePerDay: number;
  reporter: string;
  begin: string;
  end: string;
  mark: 'mine' | null;
  /** the source's class from its stored history for the domain, as `ready` would name it */
  class: SourceClass;
  headerFrom: string[];
}

export interface AlertRules {
  minMessages: number;
  surgeFactor?: number;
  baselineDays?: number;
}

export interface DetectInput {
  report: AggregateReport;
  /** stored index rows of each failing source IP of the report (any domain, any day) */
  history: Readonly<Record<string, readonly IpEntry[]>>;
  marks: MarksDoc;
  rules: AlertRules;
}

const DAY_MS = 24 * 3600_000;

/** Length of the report's window in days (at least one). */
function reportDays(report: AggregateReport): number {
  const span = Date.parse(report.end) - Date.parse(report.begin);
  return Number.isFinite(span) && span > 0 ? Math.max(1, Math.round(span / DAY_MS)) : 1;
}

/** Per source IP: messages, failing messages and header From domains in this report. */
export function sourcesOfReport(
  report: AggregateReport,
): Map<string, { messages: number; failing: number; passing: number; headerFrom: Set<string> }> {
  const sources = new Map<string, { messages: number; failing: number; passing: number; headerFrom: Set<string> }>();
  if (isMerged(report)) {
    // merged while read: the store's rows of each IP, summed over the report's days
    for (const [ip, stats] of mergedSources(report.merged)) {
      const source = { messages: 0, failing: 0, passing: 0, headerFrom: new Set<string>() };
      for (const stat of stats) {
        source.messages += stat.messages;
        source.passing += stat.dmarcPass;
        for (const domain of Object.keys(stat.headerFrom)) if (domain) source.headerFrom.add(domain);
      }
      source.failing = source.messages - source.passing;
      sources.set(ip, source);
    }
    return sources;
  }
  for (const record of report.records) {
    let source = sources.get(record.sourceIp);
    if (!source)
      sources.set(record.sourceIp, (source = { messages: 0, failing: 0, passing: 0, headerFrom: new Set() }));
    source.messages += record.count;
    if (record.dmarc === 'pass') source.passing += record.count;
    else source.failing += record.count;
    if (record.identifiers.headerFrom) source.headerFrom.add(record.identifiers.headerFrom);
  }
  return sources;
}

/** The IPs whose history detection needs: those failing at least minMessages in the report. */
export function candidateIps(report: AggregateReport, minMessages: number): string[] {
  return [...sourcesOfReport(report)].filter(([, source]) => source.failing >= minMessages).map(([ip]) => ip);
}

export function detectAlerts({ report, history, marks, rules }: DetectInput): AlertFinding[] {
  const surgeFactor = rules.surgeFactor ?? 3;
  const baselineDays = rules.baselineDays ?? 7;
  const domain = report.policy.domain.toLowerCase();
  const lookup = markLookup(marks);
  const firstDay = utcDay(report.begin);
  const baselineFrom = addDays(firstDay, -baselineDays);
  const findings: AlertFinding[] = [];

  for (const [ip, source] of sourcesOfReport(report)) {
    if (source.failing < rules.minMessages) continue;
    const verdict = lookup(ip);
    if (verdict === 'spoof') continue;
    const rows = (own(history, ip) ?? []).filter((row) => row.domain.toLowerCase() === domain);
    const everPassed = source.passing > 0 || rows.some((row) => row.dmarcPass > 0);
    // the baseline: days strictly before this report, so the report itself never counts twice
    const baselineFailing = rows
      .filter((row) => row.date >= baselineFrom && row.date < firstDay)
      .reduce((sum, row) => sum + (row.messages - row.dmarcPass), 0);
    const baselinePerDay = baselineFailing / baselineDays;
    // The class from the domain's rows of this IP over the readiness window (this report's own
    // figures when the store has none yet); an alert never advises authorising a spoofer.
    const classFrom = new Date(Date.parse(`${firstDay}T00:00:00Z`) - DEFAULT_THRESHOLDS.windowDays * DAY_MS)
      .toISOString()
      .slice(0, 10);
    const recent = rows.filter((row) => row.date >= classFrom);
    const stat = emptyStat(ip);
    for (const row of recent) addStat(stat, row);
    if (stat.messages === 0) {
      stat.messages = source.messages;
      stat.dmarcPass = source.passing;
    }
    const sourceClass = classifySource(
      {
        stat,
        mark: verdict,
        identity: { by: 'ip', forwarder: false },
        activeDays: new Set(recent.map((row) => row.date)).size,
        domainMessages: 0,
        failureHint: explainFailures(stat, { domain }),
      },
      DEFAULT_THRESHOLDS,
    );
    const base = {
      class: sourceClass,
      domain,
      ip,
      failing: source.failing,
      messages: source.messages,
      baselinePerDay,
      reporter: report.orgName,
      begin: report.begin,
      end: report.end,
      mark: verdict === 'mine' ? ('mine' as const) : null,
      headerFrom: [...source.headerFrom].sort(),
    };
    if (!everPassed) {
      findings.push({ kind: 'new-failing-source', ...base });
      continue;
    }
    if (source.failing >= surgeFactor * baselinePerDay * reportDays(report))
      findings.push({ kind: 'failing-surge', ...base });
  }
  return findings.sort((a, b) => b.failing - a.failing);
}
