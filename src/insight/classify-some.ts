// The classes of a few IPs (`ip`, `date`) without classifying every sender group of the window.
// A source's class depends only on its sender group's own rows, its identity and mark, and the
// domain's whole volume in the window: so the window's rows are scanned once for the group key of
// each IP (no grouping, no count maps), only the rows of the groups asked about are kept, and
// those groups are built and classified by the same code as the full window (classifyTable).

import type { DayWindow, SenderIdentity } from './types.ts';
import type { MarkLookup } from './marks.ts';
import { classifyTable, IpClassView, type ClassifiedGroup, type ClassifyThresholds } from './classify.ts';
import { bareIdentity, buildGroupTable } from './group-table.ts';
import { inWindow } from './stats.ts';
import { dict } from '../store/dict.ts';
import type { RowKeys } from './row-keys.ts';
import { ROW_WIDTH, rowNumber, summaryRows, type DayData, type StoredDaySummary } from '../store/summary.ts';

/** The key of the sender group an IP joins (buildGroupTable's rule): its own when marked apart. */
export function groupKeyOf(ip: string, identity: SenderIdentity | undefined, marks: MarkLookup): string {
  const key = (identity ?? bareIdentity(ip)).key;
  return key !== ip && marks(ip) !== null ? ip : key;
}

/** A window's stored rows of one domain, in the order buildGroupTable reads them. */
function windowRows(days: readonly DayData[], window: DayWindow, domain: string): StoredDaySummary[] {
  return days
    .filter((day) => day.domain === domain && inWindow(day.date, window))
    .map(summaryRows)
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/**
 * The class of each of `ips` in `domain` over `window`, exactly as classifyWindow gives it; an IP
 * with no row in the window has none (absent from the map). `identities` are those the full
 * classification would use (identifyDays of the window).
 */
export function classifySome(input: {
  days: readonly DayData[];
  /** the identity the full classification would use (identifyDays'); the row gives the hints */
  identityOf: (ip: string, day: StoredDaySummary, row: number) => SenderIdentity | undefined;
  /** optional: the rows' keys as numbers (row-keys.ts), for an identityOf that gives one identity per IP */
  rowKeys?: RowKeys;
  marks: MarkLookup;
  window: DayWindow;
  domain: string;
  thresholds: ClassifyThresholds;
  ips: Iterable<string>;
}): Map<string, ClassifiedGroup> {
  const { identityOf, marks, domain, rowKeys } = input;
  const ordered = windowRows(input.days, input.window, domain);
  // the asked IPs' own identities (from their first row), for their group keys
  const asked = new Set(input.ips);
  const found = new Map<string, SenderIdentity | undefined>();
  if (rowKeys)
    for (const ip of asked) {
      const known = rowKeys.known(ip);
      if (known) found.set(ip, known);
    }
  if (found.size < asked.size)
    for (const day of ordered)
      for (let row = 0; row < day.ips.length; row++) {
        const ip = String(day.ips[row]);
        if (asked.has(ip) && !found.has(ip)) found.set(ip, identityOf(ip, day, row));
      }
  const wantedKeys = new Set<string>();
  for (const ip of asked) wantedKeys.add(groupKeyOf(ip, found.get(ip), marks));
  // the identities of the kept rows' IPs, as buildGroupTable reads them
  const identities = dict<SenderIdentity>();

  // One pass: the window's volume, and the rows whose IP joins a wanted group (no map per IP:
  // the identity lookup is the memo's, and most IPs are met on one or two days).
  let messages = 0;
  // the kept rows of each stored day, read in place by buildGroupTable (no copies of them)
  const kept = new Map<StoredDaySummary, number[]>();
  const keep = (day: StoredDaySummary, rows: number[]) => {
    if (rows.length > 0) kept.set(day, rows);
  };
  if (rowKeys) {
    // every column first, so that every key of the window has its id
    const columns = ordered.map((day) => rowKeys.column(day));
    const wantedIds = new Uint8Array(rowKeys.size);
    for (const key of wantedKeys) {
      const id = rowKeys.id(key);
      if (id !== undefined) wantedIds[id] = 1;
    }
    ordered.forEach((day, index) => {
      const column = columns[index]!;
      const rows: number[] = [];
      for (let row = 0; row < column.length; row++) {
        const code = column[row]!;
        if (code < 0) continue;
        messages += rowNumber(day.counts[row * ROW_WIDTH]);
        const id = code >> 1;
        let wanted = id < wantedIds.length ? wantedIds[id] === 1 : wantedKeys.has(rowKeys.key(id));
        // an IP of a named group that is marked apart is a group of its own (groupKeyOf)
        if (code & 1) {
          const ip = String(day.ips[row]);
          if (marks(ip) !== null) wanted = wantedKeys.has(ip);
        }
        if (!wanted) continue;
        rows.push(row);
        const ip = String(day.ips[row]);
        const identity = found.has(ip) ? found.get(ip) : identityOf(ip, day, row);
        if (identity) identities[ip] ??= identity;
      }
      keep(day, rows);
    });
  } else
    for (const day of ordered) {
      const rows: number[] = [];
      for (let row = 0; row < day.ips.length; row++) {
        const count = rowNumber(day.counts[row * ROW_WIDTH]);
        if (count <= 0) continue;
        messages += count;
        const ip = String(day.ips[row]);
        const identity = found.has(ip) ? found.get(ip) : identityOf(ip, day, row);
        if (!wantedKeys.has(groupKeyOf(ip, identity, marks))) continue;
        rows.push(row);
        if (identity) identities[ip] ??= identity;
      }
      keep(day, rows);
    }

  const table = buildGroupTable(input.days, identities, marks, input.window, domain, kept);
  const view = new IpClassView(classifyTable(table, domain, input.thresholds, messages));
  const result = new Map<string, ClassifiedGroup>();
  for (const ip of asked) {
    const classified = view.get(ip);
    if (classified) result.set(ip, classified);
  }
  return result;
}
