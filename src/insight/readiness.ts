// `ready [domain]`: is the domain ready for a stricter DMARC policy? Sources are grouped by sender,
// classified (aligned / misaligned / forwarded / unconfirmed / spoofing), checked against
// thresholds, and turned into a verdict with the next step to take.

import type { MarksDoc } from '../store/types.ts';
import { asSummary, type DayData, type DaySummary } from '../store/summary.ts';
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
} from './types.ts';
import { classifyWindow, classRank, type WindowClasses } from './classify.ts';
import { COUNTER, groupCount, groupTopIps, ipCount, MAP } from './group-table.ts';
import { hint, type HintCode } from './hints.ts';
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
  days: readonly DayData[];
  identities: Record<string, SenderIdentity>;
  marks: MarksDoc;
  thresholds: ReadinessThresholds;
  window: DayWindow;
  /** the domain's groups already classified over this window (classifyWindow), to share the work */
  classified?: WindowClasses;
}

/** The policy receivers reported most often on the latest day with reports. */
export function reportedPolicy(days: readonly DayData[], domain: string, window: DayWindow): ReportedPolicy | null {
  let latest: DaySummary | null = null;
  for (const day of days) {
    if (day.domain !== domain || day.date < window.from || day.date > window.to) continue;
    const doc = asSummary(day);
    if (doc.reports.length === 0) continue;
    if (!latest || doc.date > latest.date) latest = doc;
  }
  if (!latest) return null;
  const bySignature = new Map<string, { policy: ReportedPolicy; count: number }>();
  for (const part of latest.reports) {
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

/** Days at quarantine before reject: RFC 9989 advises watching about a month of reports. */
export const QUARANTINE_DAYS_BEFORE_REJECT = 30;

/** The DMARC TXT record for the next policy, from the reported one (pct dropped: RFC 9989). */
export function dmarcRecord(policy: ReportedPolicy | null, p: 'quarantine' | 'reject', testing: boolean): string {
  const tags = ['v=DMARC1', `p=${p}`];
  if (testing) tags.push('t=y');
  if (policy?.sp) tags.push(`sp=${policy.sp}`);
  if (policy?.np) tags.push(`np=${policy.np}`);
  if (policy?.adkim === 's') tags.push('adkim=s');
  if (policy?.aspf === 's') tags.push('aspf=s');
  return tags.join('; ');
}

/** How long the latest reported policy (p and t=) has been shown, walking back day by day. */
export function policyAge(
  days: readonly DayData[],
  domain: string,
  window: DayWindow,
  current: ReportedPolicy | null,
): Readiness['policyAge'] {
  if (!current) return null;
  const signature = (p: string | null | undefined, testing: string | null | undefined) =>
    `${(p ?? '').trim().toLowerCase()}|${(testing ?? '').trim().toLowerCase() === 'y' ? 'y' : ''}`;
  const wanted = signature(current.p, current.testing);
  const dayPolicy = new Map<string, boolean>();
  for (const day of days) {
    if (day.domain !== domain || day.date < window.from || day.date > window.to) continue;
    const doc = asSummary(day);
    let same = 0;
    let other = 0;
    for (const { policy } of doc.reports) {
      if (signature(policy.p, policy.testing) === wanted) same += 1;
      else other += 1;
    }
    if (same + other > 0) dayPolicy.set(doc.date, same >= other);
  }
  const dates = [...dayPolicy.keys()].sort().reverse();
  let since: string | null = null;
  for (const date of dates) {
    if (!dayPolicy.get(date)) break;
    since = date;
  }
  if (!since) return null;
  const days_ = Math.round((Date.parse(`${window.to}T00:00:00Z`) - Date.parse(`${since}T00:00:00Z`)) / 86_400_000) + 1;
  return { since, days: days_, atLeast: since === dates[dates.length - 1] };
}

/**
 * The readiness of a domain. Its `sources`, every sender group in order, is built when first read
 * (a busy month has 20-30k groups to sort and build); sourceList answers what `ready` shows of it
 * without building it.
 */
export function readiness(input: ReadinessInput): Readiness {
  const { outline: o, sources } = assess(input);
  const result: Readiness = {
    domain: o.domain,
    window: o.window,
    verdict: o.verdict,
    checks: o.checks,
    blockers: o.blockers,
    get sources() {
      return sources.all();
    },
    policy: o.policy,
    policyAge: o.policyAge,
    whyNotReject: o.whyNotReject,
    figures: o.figures,
    nextStep: o.nextStep,
  };
  sourceLists.set(Object.getOwnPropertyDescriptor(result, 'sources')!.get!, sources);
  return result;
}

/**
 * readiness without the list of every sender group (what the digest shows: the verdict, the next
 * step, the blockers and the spoofing totals).
 */
export type ReadinessOutline = Omit<Readiness, 'sources'> & { spoofing: { sources: number; messages: number } };

export function readinessOutline(input: ReadinessInput): ReadinessOutline {
  return assess(input).outline;
}

/** What is shown of a Readiness's sender groups, read without building the list of all of them. */
export interface SourceList {
  /** how many sender groups there are */
  count: number;
  /** the first `n` of `sources` */
  first(n: number): ReadinessSource[];
  /** the messages of all sender groups */
  messages(): number;
  /** the sources whose class and mark pass `test`, in the order of `sources` */
  where(test: (source: Pick<ReadinessSource, 'class' | 'mark'>) => boolean): ReadinessSource[];
}

/** The lazy lists of readiness(), by the getter of their `sources` (a copy made by readinessWith keeps it). */
const sourceLists = new WeakMap<object, SourceList>();

export function sourceList(result: Readiness): SourceList {
  const getter = Object.getOwnPropertyDescriptor(result, 'sources')?.get;
  const lazy = getter && sourceLists.get(getter);
  if (lazy) return lazy;
  const all = result.sources;
  return {
    count: all.length,
    first: (n) => all.slice(0, Math.max(0, n)),
    messages: () => all.reduce((sum, source) => sum + source.messages, 0),
    where: (test) => all.filter(test),
  };
}

/**
 * A copy of a Readiness with some fields replaced or added (as a spread would, in the same key
 * order), whose sources are still built only when read.
 */
export function readinessWith<T extends object>(result: Readiness, changes: T): Omit<Readiness, keyof T> & T {
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(result)) as Readiness;
  return Object.assign(copy, changes);
}

function assess(input: ReadinessInput): {
  outline: ReadinessOutline;
  sources: SourceList & { all(): ReadinessSource[] };
} {
  const { domain, days, thresholds: t, window } = input;
  const classified =
    input.classified?.domain === domain
      ? input.classified
      : classifyWindow({ days, identities: input.identities, marks: input.marks, window, domain, thresholds: t });
  const { table, classes } = classified;
  const total = table.messages;
  const { counters, keys } = table;

  // What needs action first, then the largest (keys are unique: a total order).
  const ranks = new Uint8Array(table.size);
  const volume = new Float64Array(table.size);
  for (let group = 0; group < table.size; group++) {
    ranks[group] = classRank(classes[group]!);
    volume[group] = counters[group * 8 + COUNTER.messages]!;
  }
  const byOrder = (a: number, b: number) =>
    ranks[a]! - ranks[b]! || volume[b]! - volume[a]! || (keys[a]! < keys[b]! ? -1 : 1);
  /** groups in the order of the sources list (a subset keeps it) */
  const inOrder = (groups: number[]) => groups.sort(byOrder);

  // A group's source object, built for the groups that are listed (blockers; all with the list).
  const built = new Array<ReadinessSource | undefined>(table.size);
  const sourceOf = (group: number): ReadinessSource => {
    const cached = built[group];
    if (cached) return cached;
    const sourceClass = classes[group]!;
    const identity = table.identities[group]!;
    const messages = volume[group]!;
    const dmarcPass = counters[group * 8 + COUNTER.dmarcPass]!;
    return (built[group] = {
      key: keys[group]!,
      sender: identity.name,
      by: identity.by,
      service: identity.service,
      class: sourceClass,
      messages,
      dmarcPass,
      dmarcFail: messages - dmarcPass,
      passRate: rate(dmarcPass, messages),
      share: rate(messages, total),
      activeDays: table.activeDays[group]!,
      ips: groupTopIps(table, group),
      ipCount: ipCount(table, group),
      mark: table.marks[group]!,
      hint: classified.hint(group),
    });
  };

  /** messages passing through SPF alone, per group */
  const spfOnlyOf = new Float64Array(table.size);
  let mailingListMessages = 0;
  let spoofingMessages = 0;
  let spoofingIps = 0;
  let forwardedMessages = 0;
  let consideredMessages = 0;
  let consideredPass = 0;
  for (let group = 0; group < table.size; group++) {
    const sourceClass = classes[group]!;
    const messages = volume[group]!;
    const dmarcPass = counters[group * 8 + COUNTER.dmarcPass]!;
    if (sourceClass === 'mailing-list') mailingListMessages += messages;
    else if (sourceClass !== 'spoofing') mailingListMessages += groupCount(table, group, MAP.reasons, 'mailing_list');
    spfOnlyOf[group] = Math.max(0, dmarcPass - counters[group * 8 + COUNTER.dkimAligned]!);
    if (sourceClass === 'spoofing') {
      spoofingMessages += messages;
      spoofingIps += ipCount(table, group);
    } else if (sourceClass === 'forwarded' || sourceClass === 'mailing-list') {
      if (sourceClass === 'forwarded') forwardedMessages += messages;
    } else {
      consideredMessages += messages;
      consideredPass += dmarcPass;
    }
  }
  const passRate = rate(consideredPass, consideredMessages);
  const legitMessages = total - spoofingMessages;

  // Legitimate failing senders block when they fail more than the allowed share of the considered
  // volume, or when the owner marked them as their own; unconfirmed regular senders block until
  // marked. A legitimate sender passing through SPF alone blocks reject only: forwarding breaks
  // SPF, and only DKIM survives it.
  const failingLimit = t.maxLegitFailingShare * consideredMessages;
  const toBlocker = (
    s: ReadinessSource,
    blocks: ReadinessBlocker['blocks'],
    failing: number,
    blockerHint: Hint | null,
  ): ReadinessBlocker => ({
    sender: s.sender,
    class: s.class,
    blocks,
    messages: s.messages,
    failing,
    ips: s.ips,
    hint: blockerHint,
  });
  const quarantineGroups: number[] = [];
  const spfOnlyGroups: number[] = [];
  const misalignedGroups: number[] = [];
  let unconfirmedCount = 0;
  for (let group = 0; group < table.size; group++) {
    const sourceClass = classes[group]!;
    const dmarcFail = volume[group]! - counters[group * 8 + COUNTER.dmarcPass]!;
    if (sourceClass === 'unconfirmed') unconfirmedCount += 1;
    if (sourceClass === 'legitimate-failing') misalignedGroups.push(group);
    if (
      sourceClass === 'unconfirmed' ||
      (sourceClass === 'legitimate-failing' && (table.marks[group] === 'mine' || dmarcFail > failingLimit))
    )
      quarantineGroups.push(group);
    const spfOnly = spfOnlyOf[group]!;
    if ((sourceClass === 'aligned' || sourceClass === 'legitimate-failing') && spfOnly > 0 && spfOnly > failingLimit)
      spfOnlyGroups.push(group);
  }
  const quarantineBlockers = inOrder(quarantineGroups)
    .map(sourceOf)
    .map((s) => toBlocker(s, 'quarantine', s.dmarcFail, s.hint))
    .sort((a, b) => b.failing - a.failing || (a.sender < b.sender ? -1 : 1));
  const spfOnlySources = inOrder(spfOnlyGroups).map((group) => ({
    source: sourceOf(group),
    spfOnly: spfOnlyOf[group]!,
  }));
  const spfOnlyMessages = spfOnlySources.reduce((sum, s) => sum + s.spfOnly, 0);
  const rejectBlockers = spfOnlySources
    .map(({ source, spfOnly }) => toBlocker(source, 'reject', spfOnly, hint('spf-only', { domain, spfOnly })))
    .sort((a, b) => b.failing - a.failing || (a.sender < b.sender ? -1 : 1));
  const blockers = [...quarantineBlockers, ...rejectBlockers];

  const worstLegitShare = misalignedGroups.reduce(
    (worst, group) =>
      Math.max(worst, rate(volume[group]! - counters[group * 8 + COUNTER.dmarcPass]!, consideredMessages)),
    0,
  );
  const daysWithReports = table.daysWithReports.size;
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
      ok: unconfirmedCount === 0,
      detail: `${unconfirmedCount} unconfirmed regular senders`,
      value: unconfirmedCount,
      threshold: 0,
    },
    {
      id: 'dkim-for-reject',
      ok: spfOnlySources.length === 0,
      detail: `${spfOnlySources.length} legitimate senders pass through SPF only`,
      value: spfOnlySources.length,
      threshold: 0,
    },
    {
      id: 'mailing-list',
      ok: mailingListMessages === 0,
      detail: `${mailingListMessages} mailing-list messages`,
      value: mailingListMessages,
      threshold: 0,
    },
  ];

  const policy = reportedPolicy(days, domain, window);
  const level = policyLevel(policy);
  const age = policyAge(days, domain, window, policy);
  if (level === 2 && age) {
    checks.push({
      id: 'time-at-policy',
      ok: age.days >= QUARANTINE_DAYS_BEFORE_REJECT,
      detail: `${age.days} of ${QUARANTINE_DAYS_BEFORE_REJECT} days at p=quarantine`,
      value: age.days,
      threshold: QUARANTINE_DAYS_BEFORE_REJECT,
    });
  }
  const enoughData = checks[0]!.ok && checks[1]!.ok;

  let verdict: ReadinessVerdict;
  if (level === 4) verdict = 'enforced';
  else if (!enoughData) verdict = 'insufficient-data';
  else if (quarantineBlockers.length > 0 || passRate < t.quarantinePassRate) verdict = 'not-ready';
  else verdict = 'ready-quarantine';

  // Why not reject, in the order the owner can act on: each is enough to stay at quarantine.
  let whyNotReject: Hint | null = null;
  if (verdict === 'ready-quarantine') {
    const percentFloor = (value: number) => Math.floor(value * 1000) / 10;
    if (passRate < t.rejectPassRate)
      whyNotReject = hint('reject-pass-rate', {
        domain,
        passPercent: percentFloor(passRate),
        thresholdPercent: Math.round(t.rejectPassRate * 1000) / 10,
      });
    else if (rejectBlockers.length > 0)
      whyNotReject = hint('needs-dkim', {
        domain,
        sender: rejectBlockers[0]!.sender,
        senders: rejectBlockers.length,
        spfOnly: spfOnlyMessages,
      });
    else if (mailingListMessages > 0)
      whyNotReject = hint('hold-mailing-list', { domain, messages: mailingListMessages });
    // Step up one level at a time: from none (or quarantine still in testing) the next safe
    // policy is quarantine, even when the figures would already allow reject.
    else if (level < 2) whyNotReject = hint('quarantine-first', { domain });
    else if (level === 2 && (!age || age.days < QUARANTINE_DAYS_BEFORE_REJECT))
      whyNotReject = hint('wait-at-quarantine', {
        domain,
        days: age?.days ?? 0,
        minDays: QUARANTINE_DAYS_BEFORE_REJECT,
      });
    else verdict = 'ready-reject';
  }

  const figures = {
    daysWithReports,
    messages: total,
    spoofingMessages,
    forwardedMessages,
    mailingListMessages,
    spfOnlyMessages,
    consideredMessages,
    consideredPass,
    passRate,
  };
  const nextStep = chooseNextStep({ verdict, level, domain, blockers, figures, t, policy, whyNotReject });
  const outline: ReadinessOutline = {
    domain,
    window,
    verdict,
    checks,
    blockers,
    spoofing: { sources: spoofingIps, messages: spoofingMessages },
    policy,
    policyAge: age,
    whyNotReject,
    figures,
    nextStep,
  };
  return { outline, sources: lazySources(table.size, byOrder, sourceOf, classes, table.marks, volume) };
}

/** The sources of assess, in order, built when asked: all of them, or the first few, or some. */
function lazySources(
  size: number,
  byOrder: (a: number, b: number) => number,
  sourceOf: (group: number) => ReadinessSource,
  classes: readonly ReadinessSource['class'][],
  marks: ReadonlyArray<ReadinessSource['mark']>,
  volume: Float64Array,
): SourceList & { all(): ReadinessSource[] } {
  let all: ReadinessSource[] | null = null;
  const list = {
    count: size,
    all: (): ReadinessSource[] =>
      (all ??= Array.from({ length: size }, (_, group) => group)
        .sort(byOrder)
        .map(sourceOf)),
    first(n: number): ReadinessSource[] {
      if (all || n >= size) return list.all().slice(0, Math.max(0, n));
      // the n first groups by one pass (byOrder is a total order: the same as the sorted list's head)
      const top: number[] = [];
      for (let group = 0; n > 0 && group < size; group++) {
        if (top.length === n && byOrder(group, top[n - 1]!) > 0) continue;
        let at = top.length;
        while (at > 0 && byOrder(group, top[at - 1]!) < 0) at--;
        top.splice(at, 0, group);
        if (top.length > n) top.pop();
      }
      return top.map(sourceOf);
    },
    messages(): number {
      let sum = 0;
      for (let group = 0; group < size; group++) sum += volume[group]!;
      return sum;
    },
    where(test: (source: Pick<ReadinessSource, 'class' | 'mark'>) => boolean): ReadinessSource[] {
      const facts: Pick<ReadinessSource, 'class' | 'mark'> = { class: 'aligned', mark: null };
      const groups: number[] = [];
      for (let group = 0; group < size; group++) {
        facts.class = classes[group]!;
        facts.mark = marks[group]!;
        if (test(facts)) groups.push(group);
      }
      return groups.sort(byOrder).map(sourceOf);
    },
  };
  return list;
}

function chooseNextStep(input: {
  verdict: ReadinessVerdict;
  level: number;
  domain: string;
  blockers: ReadinessBlocker[];
  figures: Readiness['figures'];
  t: ReadinessThresholds;
  policy: ReportedPolicy | null;
  whyNotReject: Hint | null;
}): Hint {
  const { verdict, level, domain, blockers, figures, t, policy, whyNotReject } = input;
  const first = blockers.find((b) => b.blocks === 'quarantine') ?? blockers[0];
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
  const publish = (code: HintCode, p: 'quarantine' | 'reject', testing: boolean) =>
    hint(code, { domain, record: dmarcRecord(policy, p, testing) });

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
      // t=y on reject first is the gentle step; from reject in testing, drop it.
      return level >= 3
        ? publish('publish-reject', 'reject', false)
        : publish('publish-reject-testing', 'reject', true);
    case 'ready-quarantine':
      if (level === 0) return publish('publish-quarantine-testing', 'quarantine', true);
      if (level === 1) return publish('publish-quarantine', 'quarantine', false);
      if (whyNotReject?.code === 'needs-dkim' && first) return blockerStep(first);
      return whyNotReject ?? raise(t.rejectPassRate);
  }
}
