// Groups the sources of day documents by sender (identity key) in one pass over the data.
// Shared by `ready` and `sources`.

import type { DayDoc, MarkVerdict, SourceStat } from '../store/types.ts';
import type { DayWindow, SenderIdentity } from './types.ts';
import type { MarkLookup } from './marks.ts';
import { groupMark } from './marks.ts';
import { addStat, emptyStat, inWindow } from './stats.ts';

export interface SenderGroup {
  key: string;
  identity: SenderIdentity;
  mark: MarkVerdict | null;
  stat: SourceStat;
  /** messages per IP */
  ips: Map<string, number>;
  days: Set<string>;
  domains: Set<string>;
}

export interface GroupedSources {
  groups: Map<string, SenderGroup>;
  messages: number;
  dmarcPass: number;
  /** UTC days in the window with at least one report */
  daysWithReports: Set<string>;
}

/** The identity used when nothing better is known: the IP itself. */
export function bareIdentity(ip: string): SenderIdentity {
  return { key: ip, name: ip, by: 'ip', service: null, forwarder: false, ptr: null, asn: null, asName: null, country: null };
}

/**
 * An IP with its own mark is split out of its sender group (the owner decided about that IP
 * alone); every other IP joins the group of its identity key.
 */
export function groupSources(
  days: readonly DayDoc[],
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
    const identity = identities[ip] ?? bareIdentity(ip);
    const ownMark = marks(ip);
    const own = ownMark !== null && identity.key !== ip;
    const key = own ? ip : identity.key;
    group = groups.get(key);
    if (!group) {
      const groupIdentity = own ? { ...bareIdentity(ip), ptr: identity.ptr, asn: identity.asn, asName: identity.asName, country: identity.country } : identity;
      group = { key, identity: groupIdentity, mark: ownMark ?? groupMark(marks, identity), stat: emptyStat(key), ips: new Map(), days: new Set(), domains: new Set() };
      groups.set(key, group);
    }
    groupOfIp.set(ip, group);
    return group;
  };

  for (const doc of days) {
    if ((domain !== null && doc.domain !== domain) || !inWindow(doc.date, window)) continue;
    for (const reportKey in doc.reports) {
      const part = doc.reports[reportKey]!;
      daysWithReports.add(doc.date);
      for (const source of part.sources) {
        if (source.messages <= 0) continue;
        const group = groupFor(source.ip);
        addStat(group.stat, source);
        group.ips.set(source.ip, (group.ips.get(source.ip) ?? 0) + source.messages);
        group.days.add(doc.date);
        group.domains.add(doc.domain);
        messages += source.messages;
        dmarcPass += source.dmarcPass;
      }
    }
  }
  // A group's figures name its largest IP (hints such as no-auth quote it).
  for (const group of groups.values()) group.stat.ip = topIps(group, 1)[0] ?? group.key;
  return { groups, messages, dmarcPass, daysWithReports };
}

/** IPs of a group, largest first, at most `limit`. */
export function topIps(group: SenderGroup, limit = 10): string[] {
  return [...group.ips.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([ip]) => ip);
}
