// Groups the sources of day documents by sender (identity key) in one pass over the data.
// Shared by `ready` and `sources`.

import type { MarkVerdict, SourceStat } from '../store/types.ts';
import { asSummary, type DayData } from '../store/summary.ts';
import type { DayWindow, SenderIdentity } from './types.ts';
import type { MarkLookup } from './marks.ts';
import { groupMark } from './marks.ts';
import { addStat, emptyStat, inWindow } from './stats.ts';
import { own as ownValue } from '../store/dict.ts';

export interface SenderGroup {
  key: string;
  identity: SenderIdentity;
  mark: MarkVerdict | null;
  /** merged figures; read-only (it may be the one source row of the group itself) */
  stat: SourceStat;
  /** messages per IP */
  ips: Map<string, number>;
  /** UTC days on which the group sent */
  activeDays: number;
  domains: Set<string>;
  /** internal: whether `stat` is our own copy, and the last day counted */
  owned: boolean;
  lastDay: string;
}

export interface GroupedSources {
  groups: Map<string, SenderGroup>;
  messages: number;
  dmarcPass: number;
  /** UTC days in the window with at least one report */
  daysWithReports: Set<string>;
}

/** The identity used when nothing better is known: the IP itself. */
const EMPTY: SourceStat = Object.freeze(emptyStat()) as SourceStat;

export function bareIdentity(ip: string): SenderIdentity {
  return {
    key: ip,
    name: ip,
    by: 'ip',
    service: null,
    forwarder: false,
    ptr: null,
    asn: null,
    asName: null,
    country: null,
  };
}

/**
 * An IP with its own mark is split out of its sender group (the owner decided about that IP
 * alone); every other IP joins the group of its identity key.
 */
export function groupSources(
  days: readonly DayData[],
  identities: Record<string, SenderIdentity>,
  marks: MarkLookup,
  window: DayWindow,
  domain: string | null,
): GroupedSources {
  const groups = new Map<string, SenderGroup>();
  const groupOfIp = new Map<string, SenderGroup>();
  const daysWithReports = new Set<string>();
  let messages = 0;
  let dmarcPass = 0;

  const groupFor = (ip: string): SenderGroup => {
    let group = groupOfIp.get(ip);
    if (group) return group;
    const identity = ownValue(identities, ip) ?? bareIdentity(ip);
    const ownMark = marks(ip);
    const own = ownMark !== null && identity.key !== ip;
    const key = own ? ip : identity.key;
    group = groups.get(key);
    if (!group) {
      const groupIdentity = own
        ? {
            ...bareIdentity(ip),
            ptr: identity.ptr,
            asn: identity.asn,
            asName: identity.asName,
            country: identity.country,
          }
        : identity;
      group = {
        key,
        identity: groupIdentity,
        mark: ownMark ?? groupMark(marks, identity),
        stat: EMPTY,
        ips: new Map(),
        activeDays: 0,
        domains: new Set(),
        owned: false,
        lastDay: '',
      };
      groups.set(key, group);
    }
    groupOfIp.set(ip, group);
    return group;
  };

  // Days in date order, so a group's active days are counted without a set per group.
  const ordered = days
    .filter((doc) => (domain === null || doc.domain === domain) && inWindow(doc.date, window))
    .map(asSummary)
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  for (const doc of ordered) {
    if (doc.reports.length > 0) daysWithReports.add(doc.date);
    for (const source of doc.sources) {
      if (source.messages <= 0) continue;
      const group = groupFor(source.ip);
      // Most groups of a busy domain are one row (a stray IP seen once): use the row itself and
      // copy only when a second row arrives; this keeps the garbage collector out of the way.
      if (group.stat === EMPTY) group.stat = source;
      else if (!group.owned) {
        group.stat = addStat(addStat(emptyStat(group.key), group.stat), source);
        group.owned = true;
      } else addStat(group.stat, source);
      group.ips.set(source.ip, (group.ips.get(source.ip) ?? 0) + source.messages);
      if (group.lastDay !== doc.date) {
        group.lastDay = doc.date;
        group.activeDays += 1;
      }
      group.domains.add(doc.domain);
      messages += source.messages;
      dmarcPass += source.dmarcPass;
    }
  }
  // A group's figures name its largest IP (hints such as no-auth quote it).
  for (const group of groups.values()) if (group.owned) group.stat.ip = topIps(group, 1)[0] ?? group.key;
  return { groups, messages, dmarcPass, daysWithReports };
}

/** IPs of a group, largest first, at most `limit`. */
export function topIps(group: SenderGroup, limit = 10): string[] {
  if (group.ips.size === 1) return [...group.ips.keys()];
  return [...group.ips.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([ip]) => ip);
}
