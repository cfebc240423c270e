// Groups the sources of day documents by sender (identity key) in one pass over the data.
// Shared by `ready` and `sources`.

import type { MarkVerdict, SourceStat } from '../store/types.ts';
import type { DayData } from '../store/summary.ts';
import type { DayWindow, SenderIdentity } from './types.ts';
import type { MarkLookup } from './marks.ts';
import { bareIdentity, buildGroupTable, materialize } from './group-table.ts';

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

export { bareIdentity };

/**
 * An IP with its own mark is split out of its sender group (the owner decided about that IP
 * alone); every other IP joins the group of its identity key. The grouping itself is the flat
 * table of group-table.ts; this builds its groups as objects.
 */
export function groupSources(
  days: readonly DayData[],
  identities: Record<string, SenderIdentity>,
  marks: MarkLookup,
  window: DayWindow,
  domain: string | null,
): GroupedSources {
  const table = buildGroupTable(days, identities, marks, window, domain);
  const groups = new Map<string, SenderGroup>();
  for (let group = 0; group < table.size; group++) groups.set(table.keys[group]!, materialize(table, group));
  return { groups, messages: table.messages, dmarcPass: table.dmarcPass, daysWithReports: table.daysWithReports };
}

/** IPs of a group, largest first, at most `limit`. */
export function topIps(group: SenderGroup, limit = 10): string[] {
  if (group.ips.size === 1) return [...group.ips.keys()];
  return [...group.ips.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([ip]) => ip);
}
