// The trend of one domain for the chart: per UTC day, messages per source class and the pass rate
// as readiness counts it; markers where the reported policy changed and where a new sender began.
// Pure: the classification of each source IP comes in as a function, the days as store documents.

import type { ChartClass, ChartDay, ChartMarker } from '../chart/series.ts';
import { CHART_CLASSES, daysBetween, emptyCounts } from '../chart/series.ts';
import type { DayDoc } from '../store/types.ts';
import type { DayWindow, ReportedPolicy, SenderIdentity } from './types.ts';

/** Classes left out of the pass rate, as readiness leaves them out: not the owner's to fix. */
const OUTSIDE_PASS_RATE: ReadonlySet<ChartClass> = new Set(['spoofing', 'forwarded', 'mailing-list']);

export interface TrendInput {
  domain: string;
  /** the domain's day documents of the window (others are ignored) */
  days: readonly DayDoc[];
  window: DayWindow;
  /** the class of a source IP of the domain over the window */
  classOf: (ip: string) => ChartClass;
  identities: Record<string, SenderIdentity>;
  /** IPs that sent for the domain before the window; their senders are not new */
  seenBefore: ReadonlySet<string>;
  /** UTC days with reports of the domain before the window (in the lookback the caller read) */
  earlierDays: number;
  /** a sender is new only after this many days with reports without it (default 7) */
  minHistoryDays?: number;
  /** a new sender is marked when it sent at least this share of the window's messages */
  newSenderMinShare: number;
  /** at most this many new-sender markers, the largest senders */
  maxNewSenders?: number;
}

export interface TrendMarker extends ChartMarker {
  /** the policy before and after ('policy-change'), the sender's name ('new-sender') */
  detail: { from?: string; to?: string; sender?: string; messages?: number };
}

export interface Trend {
  domain: string;
  window: DayWindow;
  days: ChartDay[];
  markers: TrendMarker[];
}

/** The policy tags a reader compares: p, sp, np, pct below 100, t=y. */
export function policyTags(policy: Pick<ReportedPolicy, 'p' | 'sp' | 'np' | 'pct' | 'testing'>): string {
  const tags = [`p=${policy.p ?? '?'}`];
  if (policy.sp) tags.push(`sp=${policy.sp}`);
  if (policy.np) tags.push(`np=${policy.np}`);
  if (policy.pct !== null && policy.pct !== undefined && policy.pct !== 100) tags.push(`pct=${policy.pct}`);
  if (policy.testing === 'y') tags.push('t=y');
  return tags.join('; ');
}

const lower = (value: string | null | undefined) => (value ? value.trim().toLowerCase() : null);

/** The policy most reports of the day carried (ties: the alphabetically first, so runs agree). */
function dayPolicy(doc: DayDoc): string | null {
  const counts = new Map<string, number>();
  for (const reportKey in doc.reports) {
    const policy = doc.reports[reportKey]!.policy;
    const tags = policyTags({
      p: lower(policy.p),
      sp: lower(policy.sp),
      np: lower(policy.np),
      pct: policy.pct ?? null,
      testing: lower(policy.testing),
    });
    counts.set(tags, (counts.get(tags) ?? 0) + 1);
  }
  let best: string | null = null;
  let bestCount = 0;
  for (const [tags, count] of counts) {
    if (count > bestCount || (count === bestCount && best !== null && tags < best)) {
      best = tags;
      bestCount = count;
    }
  }
  return best;
}

export function trend(input: TrendInput): Trend {
  const { domain, window } = input;
  const dayList = daysBetween(window.from, window.to);
  const byDay = new Map<string, { counts: Record<ChartClass, number>; considered: number; pass: number }>();
  for (const day of dayList) byDay.set(day, { counts: emptyCounts(), considered: 0, pass: 0 });

  // group key -> first day, messages, name
  const senders = new Map<string, { first: string; messages: number; name: string; old: boolean }>();
  const policies: Array<{ day: string; tags: string }> = [];
  let windowMessages = 0;

  const docs = input.days
    .filter((doc) => doc.domain === domain && byDay.has(doc.date))
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  for (const doc of docs) {
    const day = byDay.get(doc.date)!;
    const tags = dayPolicy(doc);
    if (tags) policies.push({ day: doc.date, tags });
    for (const reportKey in doc.reports) {
      for (const source of doc.reports[reportKey]!.sources) {
        const sourceClass = input.classOf(source.ip);
        day.counts[sourceClass] += source.messages;
        windowMessages += source.messages;
        if (!OUTSIDE_PASS_RATE.has(sourceClass)) {
          day.considered += source.messages;
          day.pass += source.dmarcPass;
        }
        const identity = input.identities[source.ip];
        const key = identity?.key ?? source.ip;
        const sender = senders.get(key);
        const old = input.seenBefore.has(source.ip);
        if (sender) {
          sender.messages += source.messages;
          sender.old ||= old;
        } else senders.set(key, { first: doc.date, messages: source.messages, name: identity?.name ?? source.ip, old });
      }
    }
  }

  const days: ChartDay[] = dayList.map((name) => {
    const day = byDay.get(name)!;
    const byClass = emptyCounts();
    for (const sourceClass of CHART_CLASSES) byClass[sourceClass] = day.counts[sourceClass];
    return { day: name, byClass, passRate: day.considered > 0 ? day.pass / day.considered : null };
  });

  const markers: TrendMarker[] = [];
  // A change counts when the next day with reports agrees, so one receiver's stale cache on one
  // day does not draw two markers; the last day with reports counts alone.
  let current = policies[0]?.tags ?? null;
  for (let index = 1; index < policies.length; index++) {
    const { day, tags } = policies[index]!;
    const next = policies[index + 1];
    if (tags === current || (next && next.tags !== tags)) continue;
    markers.push({ day, kind: 'policy-change', label: `${current} → ${tags}`, detail: { from: current!, to: tags } });
    current = tags;
  }

  // "New" needs a history to be new against: a week of reports without the sender, or the first
  // days of a store would mark every sender (and a monthly sender would look new every month).
  const minHistory = input.minHistoryDays ?? 7;
  const reportDays = docs.map((doc) => doc.date);
  const historyBefore = (day: string) => input.earlierDays + reportDays.filter((other) => other < day).length;
  const newSenders = [...senders.values()]
    .filter(
      (sender) =>
        !sender.old &&
        historyBefore(sender.first) >= minHistory &&
        windowMessages > 0 &&
        sender.messages / windowMessages >= input.newSenderMinShare,
    )
    .sort((a, b) => b.messages - a.messages || (a.name < b.name ? -1 : 1))
    .slice(0, input.maxNewSenders ?? 5);
  for (const sender of newSenders)
    markers.push({
      day: sender.first,
      kind: 'new-sender',
      label: sender.name,
      detail: { sender: sender.name, messages: sender.messages },
    });
  markers.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.kind < b.kind ? -1 : 1));
  return { domain, window, days, markers };
}
