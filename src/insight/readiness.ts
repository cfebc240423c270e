// `ready [domain]`: is the domain ready for a stricter DMARC policy? Sources are grouped by sender,
// classified (aligned / misaligned / forwarded / unconfirmed / spoofing), checked against
// thresholds, and turned into a verdict with the next step to take.

import type { DayDoc, MarksDoc } from '../store/types.ts';
import type {
  DayWindow,
  Hint,
  Readiness,
  ReadinessBlocker,
  ReadinessCheck,
  ReadinessSource,
  ReadinessThresholds,
  ReadinessVerdict,
  ReportedPolicy,
  SenderIdentity,
  SourceClass,
} from './types.ts';
import { groupSources, topIps, type SenderGroup } from './groups.ts';
import { explainFailures, hint } from './hints.ts';
import { markLookup } from './marks.ts';
import { rate } from './stats.ts';

/**
 * Defaults follow the field (95 % / 99 % pass rate, no legitimate sender failing above 1 % of
 * volume, several weeks of data) except minMessages: the published rubric's 1,000 messages a
 * month is more than a home or small-office server sends, and such a domain would never leave
 * `insufficient-data`; 100 messages over 14+ days with reports still shows every regular sender.
 */
export const DEFAULT_THRESHOLDS: ReadinessThresholds = {
  windowDays: 30,
  minDaysWithReports: 14,
  minMessages: 100,
  quarantinePassRate: 0.95,
  rejectPassRate: 0.99,
  maxLegitFailingShare: 0.01,
  regularSenderMinDays: 5,
  regularSenderMinShare: 0.01,
  alignedPassRate: 0.98,
};

export interface ReadinessInput {
  domain: string;
  days: readonly DayDoc[];
  identities: Record<string, SenderIdentity>;
  marks: MarksDoc;
  thresholds: ReadinessThresholds;
  window: DayWindow;
}

/** The policy receivers reported most often on the latest day with reports. */
export function reportedPolicy(days: readonly DayDoc[], domain: string, window: DayWindow): ReportedPolicy | null {
  let latest: DayDoc | null = null;
  for (const doc of days) {
    if (doc.domain !== domain || doc.date < window.from || doc.date > window.to) continue;
    if (Object.keys(doc.reports).length === 0) continue;
    if (!latest || doc.date > latest.date) latest = doc;
  }
  if (!latest) return null;
  const bySignature = new Map<string, { policy: ReportedPolicy; count: number }>();
  for (const reportKey in latest.reports) {
    const part = latest.reports[reportKey]!;
    const policy = part.policy;
    const lower = (value: string | null | undefined) => (value ? value.trim().toLowerCase() : null);
    const reported: ReportedPolicy = {
      p: lower(policy.p),
      sp: lower(policy.sp),
      np: lower(policy.np),
      pct: policy.pct ?? null,
      testing: lower(policy.testing),
      adkim: lower(policy.adkim),
      aspf: lower(policy.aspf),
      reportedBy: [],
      lastSeen: latest.date,
    };
    const signature = JSON.stringify([
      reported.p,
      reported.sp,
      reported.np,
      reported.pct,
      reported.testing,
      reported.adkim,
      reported.aspf,
    ]);
    const entry = bySignature.get(signature) ?? { policy: reported, count: 0 };
    entry.count += 1;
    if (!entry.policy.reportedBy.includes(part.orgName)) entry.policy.reportedBy.push(part.orgName);
    bySignature.set(signature, entry);
  }
  const best = [...bySignature.values()].sort((a, b) => b.count - a.count)[0]!;
  best.policy.reportedBy.sort();
  return best.policy;
}

/**
 * Where the published policy stands: 0 none or unknown, 1 quarantine in testing mode or pct < 100,
 * 2 quarantine, 3 reject in testing mode or pct < 100, 4 reject (enforced).
 */
export function policyLevel(policy: ReportedPolicy | null): 0 | 1 | 2 | 3 | 4 {
  if (!policy) return 0;
  const partial = policy.testing === 'y' || (policy.pct !== null && policy.pct < 100);
  if (policy.p === 'reject') return partial ? 3 : 4;
  if (policy.p === 'quarantine') return partial ? 1 : 2;
  return 0;
}

function classify(group: SenderGroup, groupHint: Hint | null, total: number, t: ReadinessThresholds): SourceClass {
  const { stat } = group;
  if (group.mark === 'spoof') return 'spoofing';
  if (stat.messages > 0 && rate(stat.dmarcPass, stat.messages) >= t.alignedPassRate) return 'aligned';
  if (group.mark === 'mine') return 'misaligned';
  if (groupHint?.code === 'forwarded') return 'forwarded';
  if (stat.dmarcPass > 0 || group.identity.by === 'known') return 'misaligned';
  // Never passes and nobody knows it: steady senders may be the owner's forgotten relay.
  const regular = group.activeDays >= t.regularSenderMinDays || rate(stat.messages, total) > t.regularSenderMinShare;
  return regular ? 'unconfirmed' : 'spoofing';
}

export function readiness({ domain, days, identities, marks, thresholds: t, window }: ReadinessInput): Readiness {
  const grouped = groupSources(days, identities, markLookup(marks), window, domain);
  const total = grouped.messages;

  const sources: ReadinessSource[] = [];
  for (const group of grouped.groups.values()) {
    const groupHint = explainFailures(group.stat, { forwarder: group.identity.forwarder, domain });
    const stat = group.stat;
    sources.push({
      key: group.key,
      sender: group.identity.name,
      by: group.identity.by,
      service: group.identity.service,
      class: classify(group, groupHint, total, t),
      messages: stat.messages,
      dmarcPass: stat.dmarcPass,
      dmarcFail: stat.messages - stat.dmarcPass,
      passRate: rate(stat.dmarcPass, stat.messages),
      share: rate(stat.messages, total),
      activeDays: group.activeDays,
      ips: topIps(group),
      ipCount: group.ips.size,
      mark: group.mark,
      hint: groupHint,
    });
  }
  sources.sort((a, b) => b.messages - a.messages || (a.key < b.key ? -1 : 1));

  let spoofingMessages = 0;
  let forwardedMessages = 0;
  let consideredMessages = 0;
  let consideredPass = 0;
  for (const source of sources) {
    if (source.class === 'spoofing') spoofingMessages += source.messages;
    else if (source.class === 'forwarded') forwardedMessages += source.messages;
    else {
      consideredMessages += source.messages;
      consideredPass += source.dmarcPass;
    }
  }
  const passRate = rate(consideredPass, consideredMessages);
  const legitMessages = total - spoofingMessages;

  // Misaligned senders block when they fail more than the allowed share of the considered volume,
  // or when the owner marked them as their own; unconfirmed regular senders block until marked.
  const failingLimit = t.maxLegitFailingShare * consideredMessages;
  const blockers: ReadinessBlocker[] = sources
    .filter(
      (s) =>
        s.class === 'unconfirmed' || (s.class === 'misaligned' && (s.mark === 'mine' || s.dmarcFail > failingLimit)),
    )
    .map((s) => ({
      sender: s.sender,
      class: s.class,
      messages: s.messages,
      failing: s.dmarcFail,
      ips: s.ips,
      hint: s.hint,
    }))
    .sort((a, b) => b.failing - a.failing || (a.sender < b.sender ? -1 : 1));

  const misaligned = sources.filter((s) => s.class === 'misaligned');
  const worstLegitShare = misaligned.reduce((worst, s) => Math.max(worst, rate(s.dmarcFail, consideredMessages)), 0);
  const unconfirmed = sources.filter((s) => s.class === 'unconfirmed');
  const daysWithReports = grouped.daysWithReports.size;
  const percent = (value: number) => Math.round(value * 1000) / 10;

  const checks: ReadinessCheck[] = [
    {
      id: 'days-with-reports',
      ok: daysWithReports >= t.minDaysWithReports,
      detail: `${daysWithReports} of ${t.minDaysWithReports} days`,
      value: daysWithReports,
      threshold: t.minDaysWithReports,
    },
    {
      id: 'messages',
      ok: legitMessages >= t.minMessages,
      detail: `${legitMessages} of ${t.minMessages} messages`,
      value: legitMessages,
      threshold: t.minMessages,
    },
    {
      id: 'pass-rate-quarantine',
      ok: consideredMessages > 0 && passRate >= t.quarantinePassRate,
      detail: `${percent(passRate)} % of ${percent(t.quarantinePassRate)} %`,
      value: passRate,
      threshold: t.quarantinePassRate,
    },
    {
      id: 'pass-rate-reject',
      ok: consideredMessages > 0 && passRate >= t.rejectPassRate,
      detail: `${percent(passRate)} % of ${percent(t.rejectPassRate)} %`,
      value: passRate,
      threshold: t.rejectPassRate,
    },
    {
      id: 'legit-failing',
      ok: worstLegitShare <= t.maxLegitFailingShare,
      detail: `${percent(worstLegitShare)} % at most ${percent(t.maxLegitFailingShare)} %`,
      value: worstLegitShare,
      threshold: t.maxLegitFailingShare,
    },
    {
      id: 'unconfirmed-senders',
      ok: unconfirmed.length === 0,
      detail: `${unconfirmed.length} unconfirmed regular senders`,
      value: unconfirmed.length,
      threshold: 0,
    },
  ];

  const policy = reportedPolicy(days, domain, window);
  const level = policyLevel(policy);
  const enoughData = checks[0]!.ok && checks[1]!.ok;

  let verdict: ReadinessVerdict;
  if (level === 4) verdict = 'enforced';
  else if (!enoughData) verdict = 'insufficient-data';
  else if (blockers.length > 0 || passRate < t.quarantinePassRate) verdict = 'not-ready';
  // Step up one level at a time: from none (or quarantine still in testing) the next safe policy
  // is quarantine, even when the figures would already allow reject.
  else if (passRate >= t.rejectPassRate && level >= 2) verdict = 'ready-reject';
  else verdict = 'ready-quarantine';

  const figures = {
    daysWithReports,
    messages: total,
    spoofingMessages,
    forwardedMessages,
    consideredMessages,
    consideredPass,
    passRate,
  };
  const nextStep = chooseNextStep(verdict, level, domain, blockers, figures, t);
  return { domain, window, verdict, checks, blockers, sources, policy, figures, nextStep };
}

function chooseNextStep(
  verdict: ReadinessVerdict,
  level: number,
  domain: string,
  blockers: ReadinessBlocker[],
  figures: Readiness['figures'],
  t: ReadinessThresholds,
): Hint {
  const first = blockers[0];
  const blockerStep = (blocker: ReadinessBlocker): Hint =>
    blocker.class === 'unconfirmed'
      ? hint('confirm-sender', {
          domain,
          sender: blocker.sender,
          messages: blocker.messages,
          unconfirmed: blockers.filter((b) => b.class === 'unconfirmed').length,
        })
      : hint('fix-blocker', {
          domain,
          sender: blocker.sender,
          failing: blocker.failing,
          fix: blocker.hint?.code ?? 'auth-fail',
          blockers: blockers.length,
        });
  const raise = (threshold: number) =>
    hint('raise-pass-rate', {
      domain,
      passPercent: Math.floor(figures.passRate * 1000) / 10,
      thresholdPercent: Math.round(threshold * 1000) / 10,
    });

  switch (verdict) {
    case 'enforced':
      return first ? blockerStep(first) : hint('keep-monitoring', { domain });
    case 'insufficient-data':
      return hint('collect-more-data', {
        domain,
        days: figures.daysWithReports,
        minDays: t.minDaysWithReports,
        messages: figures.messages - figures.spoofingMessages,
        minMessages: t.minMessages,
      });
    case 'not-ready':
      return first ? blockerStep(first) : raise(t.quarantinePassRate);
    case 'ready-reject':
      return hint(level >= 3 ? 'publish-reject' : 'publish-reject-testing', { domain });
    case 'ready-quarantine':
      if (level === 0) return hint('publish-quarantine-testing', { domain });
      if (level === 1) return hint('publish-quarantine', { domain });
      return raise(t.rejectPassRate);
  }
}
