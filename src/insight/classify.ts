// The one classification of a source (a sender group, or one IP in it) that every answer uses:
// `ip`, `date`, `sources`, `ready`, the digest and alerts all ask here, so one source never gets
// two different names on two screens.

import type { ReadinessThresholds } from './types.ts';
import type { MarksDoc, SourceStat } from '../store/types.ts';
import type { DayData } from '../store/summary.ts';
import type { DayWindow, Hint, SenderIdentity, SourceClass } from './types.ts';
import { groupSources, type GroupedSources, type SenderGroup } from './groups.ts';
import { explainFailures, hint } from './hints.ts';
import { markLookup } from './marks.ts';
import { rate } from './stats.ts';

/** Every class; the first two need the owner's action (decide, fix), the others do not. */
export const SOURCE_CLASSES: readonly SourceClass[] = [
  'unconfirmed',
  'legitimate-failing',
  'spoofing',
  'mailing-list',
  'forwarded',
  'aligned',
];

/**
 * Lists sort by this, then by volume: what needs action first (a regular sender to decide about,
 * a legitimate sender to fix), then everything else by size, so the owner's own servers are not
 * buried under a spoofing run that enforcement stops anyway.
 */
export function classRank(sourceClass: SourceClass): number {
  return sourceClass === 'unconfirmed' ? 0 : sourceClass === 'legitimate-failing' ? 1 : 2;
}

export interface ClassifyFacts {
  stat: SourceStat;
  mark: 'mine' | 'spoof' | null;
  identity: Pick<SenderIdentity, 'by' | 'forwarder'>;
  /** UTC days of the window on which the source sent */
  activeDays: number;
  /** the domain's whole volume in the window */
  domainMessages: number;
  /** the failure hint of the source's figures (explainFailures) */
  failureHint: Hint | null;
}

export type ClassifyThresholds = Pick<
  ReadinessThresholds,
  'alignedPassRate' | 'regularSenderMinDays' | 'regularSenderMinShare'
>;

/** The class of one source from its figures, the owner's mark and who it is. */
export function classifySource(facts: ClassifyFacts, t: ClassifyThresholds): SourceClass {
  const { stat, mark, identity, failureHint } = facts;
  if (mark === 'spoof') return 'spoofing';
  if (stat.messages > 0 && rate(stat.dmarcPass, stat.messages) >= t.alignedPassRate) return 'aligned';
  if (mark === 'mine') return 'legitimate-failing';
  if (failureHint?.code === 'mailing-list') return 'mailing-list';
  if (failureHint?.code === 'forwarded') return 'forwarded';
  if (stat.dmarcPass > 0 || identity.by === 'known') return 'legitimate-failing';
  // Never passes and nobody knows it: steady senders may be the owner's forgotten relay.
  const regular =
    facts.activeDays >= t.regularSenderMinDays || rate(stat.messages, facts.domainMessages) > t.regularSenderMinShare;
  return regular ? 'unconfirmed' : 'spoofing';
}

/**
 * The hint shown for a source: the failure pattern, except that a spoofing source is never
 * advised into SPF or DKIM; it is told what enforcement does to it and how to claim it.
 */
export function classHint(
  sourceClass: SourceClass,
  failureHint: Hint | null,
  subject: string,
  domain: string,
): Hint | null {
  if (sourceClass === 'spoofing' && failureHint)
    return hint('spoofing', { domain, subject, failing: Number(failureHint.params.failing ?? 0) });
  return failureHint;
}

export interface ClassifiedGroup {
  group: SenderGroup;
  class: SourceClass;
  failureHint: Hint | null;
  hint: Hint | null;
}

/** Classifies every sender group of one domain's window (what `ready` shows). */
export function classifyGroups(
  grouped: GroupedSources,
  domain: string,
  t: ClassifyThresholds,
): Map<string, ClassifiedGroup> {
  const result = new Map<string, ClassifiedGroup>();
  for (const group of grouped.groups.values()) {
    const failureHint = explainFailures(group.stat, { forwarder: group.identity.forwarder, domain });
    const sourceClass = classifySource(
      {
        stat: group.stat,
        mark: group.mark,
        identity: group.identity,
        activeDays: group.activeDays,
        domainMessages: grouped.messages,
        failureHint,
      },
      t,
    );
    const subject = group.ips.size === 1 ? group.key : group.identity.name;
    result.set(group.key, {
      group,
      class: sourceClass,
      failureHint,
      hint: classHint(sourceClass, failureHint, subject, domain),
    });
  }
  return result;
}

/**
 * The class of every IP for each domain of the day documents: an IP has the class of its sender
 * group in its domain (for `ip`, `date`, the digest and alerts).
 */
export function classifyIps(input: {
  days: readonly DayData[];
  identities: Record<string, SenderIdentity>;
  marks: MarksDoc;
  window: DayWindow;
  domains: Iterable<string>;
  thresholds: ClassifyThresholds;
}): Map<string, Map<string, ClassifiedGroup>> {
  const lookup = markLookup(input.marks);
  const byDomain = new Map<string, Map<string, ClassifiedGroup>>();
  for (const domain of input.domains) {
    const grouped = groupSources(input.days, input.identities, lookup, input.window, domain);
    const groups = classifyGroups(grouped, domain, input.thresholds);
    const ips = new Map<string, ClassifiedGroup>();
    for (const classified of groups.values()) for (const ip of classified.group.ips.keys()) ips.set(ip, classified);
    byDomain.set(domain, ips);
  }
  return byDomain;
}
