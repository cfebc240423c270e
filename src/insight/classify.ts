// The one classification of a source (a sender group, or one IP in it) that every answer uses:
// `ip`, `date`, `sources`, `ready`, the digest and alerts all ask here, so one source never gets
// two different names on two screens.

import type { ReadinessThresholds } from './types.ts';
import type { MarksDoc, SourceStat } from '../store/types.ts';
import type { DayData } from '../store/summary.ts';
import type { DayWindow, Hint, SenderIdentity, SourceClass } from './types.ts';
import type { GroupedSources, SenderGroup } from './groups.ts';
import { buildGroupTable, COUNTER, FailureHints, ipCount, materialize, type GroupTable } from './group-table.ts';
import { explainFailures, hint, type FailureCode } from './hints.ts';
import { markLookup, type MarkLookup } from './marks.ts';
import { emptyStat, rate } from './stats.ts';

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

/** The classes of one domain's sender groups over a window, as flat arrays beside its group table. */
export interface WindowClasses {
  domain: string;
  table: GroupTable;
  classes: SourceClass[];
  /** the hint shown for a group (classHint), built when first asked (a busy month's groups are mostly never shown) */
  hint(group: number): Hint | null;
  /** the failure hint of a group (explainFailures of its figures), worked out again when asked */
  failureHint(group: number): Hint | null;
}

/**
 * Groups and classifies one domain's window once (classifyGroups' rules over the flat table):
 * `ready`, the digest and the per-IP classes all read the result.
 */
export function classifyWindow(input: {
  days: readonly DayData[];
  identities: Record<string, SenderIdentity>;
  marks: MarksDoc | MarkLookup;
  window: DayWindow;
  domain: string;
  thresholds: ClassifyThresholds;
}): WindowClasses {
  const { domain, thresholds: t } = input;
  const lookup = typeof input.marks === 'function' ? input.marks : markLookup(input.marks);
  return classifyTable(buildGroupTable(input.days, input.identities, lookup, input.window, domain), domain, t);
}

/**
 * classifyWindow over a table already built; `domainMessages` is the window's whole volume (a
 * table of some groups only, classify-some.ts, is given the volume of every row).
 */
export function classifyTable(
  table: GroupTable,
  domain: string,
  t: ClassifyThresholds,
  domainMessages = table.messages,
): WindowClasses {
  const failures = new FailureHints(table);
  const classes = new Array<SourceClass>(table.size);
  // the failure code of each group (null: nothing fails); hints are built from it when asked
  const codes = new Array<FailureCode | null>(table.size);
  // one facts object, refilled per group (classifySource keeps nothing of it); its failure hint
  // only carries the code, which is all classifySource reads
  const stat = emptyStat();
  const codeOnly = { code: '', params: {} } as { code: Hint['code']; params: Hint['params'] };
  const facts: ClassifyFacts = {
    stat,
    mark: null,
    identity: { by: 'ip', forwarder: false },
    activeDays: 0,
    domainMessages,
    failureHint: null,
  };
  const context = { forwarder: false, domain };
  for (let group = 0; group < table.size; group++) {
    const identity = table.identities[group]!;
    context.forwarder = identity.forwarder;
    const code = failures.code(group, context);
    codes[group] = code;
    stat.messages = table.counters[group * 8 + COUNTER.messages]!;
    stat.dmarcPass = table.counters[group * 8 + COUNTER.dmarcPass]!;
    facts.mark = table.marks[group]!;
    facts.identity = identity;
    facts.activeDays = table.activeDays[group]!;
    if (code === null) facts.failureHint = null;
    else {
      codeOnly.code = code;
      facts.failureHint = codeOnly;
    }
    classes[group] = classifySource(facts, t);
  }
  const hints = new Array<Hint | null | undefined>(table.size);
  const hintOf = (group: number): Hint | null => {
    const known = hints[group];
    if (known !== undefined) return known;
    const code = codes[group]!;
    let shown: Hint | null;
    if (code === null) shown = null;
    else if (classes[group] === 'spoofing') {
      // classHint of a spoofing source: only the failing count of the failure hint is kept
      const subject = ipCount(table, group) === 1 ? table.keys[group]! : table.identities[group]!.name;
      const failing = table.counters[group * 8 + COUNTER.messages]! - table.counters[group * 8 + COUNTER.dmarcPass]!;
      shown = hint('spoofing', { domain, subject, failing });
    } else {
      // the figures hintOf reads are those of the last code() call: work this group's out again
      failures.code(group, { forwarder: table.identities[group]!.forwarder, domain });
      shown = failures.hintOf(group, code);
    }
    return (hints[group] = shown);
  };
  const failureHint = (group: number) =>
    classes[group] === 'spoofing'
      ? failures.hint(group, { forwarder: table.identities[group]!.forwarder, domain })
      : hintOf(group);
  return { domain, table, classes, hint: hintOf, failureHint };
}

/** One group of WindowClasses as a ClassifiedGroup: its SenderGroup object is built when read. */
class TableClassified implements ClassifiedGroup {
  readonly class: SourceClass;
  private built: SenderGroup | null = null;
  private failure: Hint | null | undefined = undefined;

  constructor(
    private readonly source: WindowClasses,
    private readonly index: number,
  ) {
    this.class = source.classes[index]!;
  }

  get hint(): Hint | null {
    return this.source.hint(this.index);
  }

  get failureHint(): Hint | null {
    if (this.failure === undefined) this.failure = this.source.failureHint(this.index);
    return this.failure;
  }

  get group(): SenderGroup {
    return (this.built ??= materialize(this.source.table, this.index));
  }
}

/** The class of every IP of a classified window (each IP has the class of its sender group). */
export function ipClasses(classified: WindowClasses): Map<string, ClassifiedGroup> {
  const { table } = classified;
  const byGroup = new Array<ClassifiedGroup>(table.size);
  const ips = new Map<string, ClassifiedGroup>();
  for (let ipId = 0; ipId < table.ips.length; ipId++) {
    const group = table.ipGroup[ipId]!;
    ips.set(table.ips[ipId]!, (byGroup[group] ??= new TableClassified(classified, group)));
  }
  return ips;
}

/**
 * ipClasses as a read-only view over the table's own IP index: for a caller that looks up a few
 * IPs (the digest) and need not pay for a second map of every IP.
 */
export class IpClassView implements ReadonlyMap<string, ClassifiedGroup> {
  private readonly byGroup: Array<ClassifiedGroup | undefined>;

  constructor(private readonly classified: WindowClasses) {
    this.byGroup = new Array<ClassifiedGroup | undefined>(classified.table.size);
  }

  private ofGroup(group: number): ClassifiedGroup {
    return (this.byGroup[group] ??= new TableClassified(this.classified, group));
  }

  get size(): number {
    return this.classified.table.ips.length;
  }

  get(ip: string): ClassifiedGroup | undefined {
    const id = this.classified.table.ipIndex(ip);
    return id === undefined ? undefined : this.ofGroup(this.classified.table.ipGroup[id]!);
  }

  has(ip: string): boolean {
    return this.classified.table.ipIndex(ip) !== undefined;
  }

  *entries(): MapIterator<[string, ClassifiedGroup]> {
    const { table } = this.classified;
    for (let id = 0; id < table.ips.length; id++) yield [table.ips[id]!, this.ofGroup(table.ipGroup[id]!)];
  }

  *keys(): MapIterator<string> {
    yield* this.classified.table.ips;
  }

  *values(): MapIterator<ClassifiedGroup> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[string, ClassifiedGroup]> {
    return this.entries();
  }

  forEach(callback: (value: ClassifiedGroup, key: string, map: ReadonlyMap<string, ClassifiedGroup>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }
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
  for (const domain of input.domains)
    byDomain.set(domain, ipClasses(classifyWindow({ ...input, marks: lookup, domain })));
  return byDomain;
}
