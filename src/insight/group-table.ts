// The sender groups of one window, built in one pass over the stored summary rows into flat arrays.
// A busy domain's month is 40-60k rows and 20-30k groups, most of them one stray IP seen once:
// objects and count maps per row or per group (what groups.ts hands out) made `ready` and the
// digest spend most of their time allocating and collecting them. Here a row adds its counters to
// its group's slot in a typed array and its count-map pairs to the group's entry list (a linked
// list in typed arrays, one entry per key the group has); nothing is allocated per row. The
// failure pattern of a group is reduced straight from its entries (failureFigures) and decided by
// the same function explainFailures uses; count maps and SenderGroup objects are built only for
// the groups someone asks about (materialize).

import type { MarkVerdict, SourceStat } from '../store/types.ts';
import {
  pairKey,
  pairOffsets,
  ROW_MAPS,
  ROW_WIDTH,
  rowNumber,
  summaryRows,
  type DayData,
  type StoredDaySummary,
} from '../store/summary.ts';
import type { DayWindow, Hint, SenderIdentity } from './types.ts';
import { groupMark, type MarkLookup } from './marks.ts';
import { authKeyParts, emptyStat, inWindow } from './stats.ts';
import { own } from '../store/dict.ts';
import { identitiesById, ipIds } from './ip-ids.ts';
import type { SenderGroup } from './groups.ts';
import {
  FORWARDING_REASONS,
  failureCode,
  failureHintOf,
  orgDomain,
  type FailureCode,
  type FailureFigures,
} from './hints.ts';

const WIDTH = ROW_MAPS.length;
/** map indexes of a pair code (code % WIDTH), in the order of ROW_MAPS */
export const MAP = { dispositions: 0, reasons: 1, headerFrom: 2, spf: 3, dkim: 4 } as const;
/** the counters of a group, in the order of a stored row (after its IP) */
export const COUNTER = {
  messages: 0,
  dmarcPass: 1,
  spfPass: 2,
  dkimPass: 3,
  spfAligned: 4,
  dkimAligned: 5,
  spfUnalignedPass: 6,
  dkimUnalignedPass: 7,
} as const;
const COUNTERS = 8;

/** The identity used when nothing better is known: the IP itself. */
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

export interface GroupTable {
  /** number of groups; group g is 0 <= g < size, in the order the rows first showed them */
  size: number;
  keys: string[];
  identities: SenderIdentity[];
  marks: Array<MarkVerdict | null>;
  /** COUNTER values of group g at g * 8 + COUNTER.x */
  counters: Float64Array;
  /** UTC days on which the group sent, and the last one (an index into `dates`) */
  activeDays: Int32Array;
  lastDay: Int32Array;
  /** rows merged into the group */
  rows: Int32Array;
  dates: string[];
  /** the first domain of each group, and every domain when it has more than one */
  firstDomain: string[];
  moreDomains: Array<Set<string> | null>;
  /** distinct IPs in first-seen order, their index, group and messages */
  ips: string[];
  /** the index of an IP in `ips` (undefined when no row of the table has it) */
  ipIndex: (ip: string) => number | undefined;
  ipGroup: Int32Array;
  ipMessages: Float64Array;
  /** the IPs of group g: ipOrder[ipStart[g]] .. ipOrder[ipStart[g + 1] - 1], in first-seen order */
  ipStart: Int32Array;
  ipOrder: Int32Array;
  /** count-map entries: per group a list from entryHead (-1 ends), one entry per pair code */
  entryHead: Int32Array;
  entryNext: Int32Array;
  entryCode: Int32Array;
  entryCount: Float64Array;
  /** the texts of the pair codes' keys (code = key id * 5 + map index) */
  keyText: string[];
  /** the window's volume, and the UTC days with at least one report */
  messages: number;
  dmarcPass: number;
  daysWithReports: Set<string>;
}

/**
 * Groups the rows of the day summaries by sender (see groupSources for the rules): an IP with
 * its own mark is split out of its sender group, every other IP joins the group of its identity
 * key; the first IP of a group gives it its identity and mark.
 */
export function buildGroupTable(
  days: readonly DayData[],
  identities: Record<string, SenderIdentity>,
  marks: MarkLookup,
  window: DayWindow,
  domain: string | null,
  /** optional: only these rows of these stored days (in their order; a day not listed is left out) */
  only?: ReadonlyMap<StoredDaySummary, readonly number[]>,
): GroupTable {
  // Days in date order (stable), so a group's active days are counted without a set per group.
  const ordered = days
    .filter((day) => (domain === null || day.domain === domain) && inWindow(day.date, window))
    .map(summaryRows)
    .filter((day) => !only || only.has(day))
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  // Sizes first: at most one group and one IP a row, one entry a pair.
  let rowCount = 0;
  let pairCount = 0;
  for (const day of ordered) {
    const selected = only?.get(day);
    const starts = pairOffsets(day);
    if (!selected) {
      rowCount += day.ips.length;
      pairCount += starts[day.ips.length]! >> 1;
      continue;
    }
    rowCount += selected.length;
    for (const row of selected) pairCount += (starts[row + 1]! - starts[row]!) >> 1;
  }

  const table: GroupTable = {
    size: 0,
    keys: [],
    identities: [],
    marks: [],
    counters: new Float64Array(rowCount * COUNTERS),
    activeDays: new Int32Array(rowCount),
    lastDay: new Int32Array(rowCount).fill(-1),
    rows: new Int32Array(rowCount),
    dates: [],
    firstDomain: [],
    moreDomains: [],
    ips: [],
    ipIndex: () => undefined,
    ipGroup: new Int32Array(rowCount),
    ipMessages: new Float64Array(rowCount),
    ipStart: new Int32Array(0),
    ipOrder: new Int32Array(0),
    entryHead: new Int32Array(rowCount).fill(-1),
    entryNext: new Int32Array(pairCount),
    entryCode: new Int32Array(pairCount),
    entryCount: new Float64Array(pairCount),
    keyText: [],
    messages: 0,
    dmarcPass: 0,
    daysWithReports: new Set(),
  };
  const entryTail = new Int32Array(rowCount).fill(-1);
  const groupOf = new Map<string, number>();
  // the IPs by their ids (ip-ids.ts): a row's IP is found by one array read
  ipIds.begin();
  const columns = ordered.map((day) => ipIds.column(day));
  const generation = ipIds.generation;
  const ipOf = new Int32Array(ipIds.size).fill(-1);
  const groupById = new Int32Array(ipIds.size).fill(-1);
  const byId = identitiesById(identities);
  const keyOf = new Map<string, number>();
  const { counters, entryHead, entryNext, entryCode, entryCount } = table;
  let entries = 0;

  // a prototype-free map (identifyDays') needs no own-property check: one lookup per IP
  const bare = Object.getPrototypeOf(identities) === null;
  const groupFor = (ip: string, id: number, dayDomain: string): number => {
    const identity = (byId ? byId[id] : bare ? identities[ip] : own(identities, ip)) ?? bareIdentity(ip);
    const ownMark = marks(ip);
    const split = ownMark !== null && identity.key !== ip;
    const key = split ? ip : identity.key;
    // A key that is the text of an IP with an id (most groups: one IP alone) has its group by
    // that id; any other key by the map. One key text always takes the same way (no id is given
    // while the table is built), so a named group whose key reads like an IP still merges.
    const found = key === ip ? id : ipIds.id(key);
    const keyId = found !== undefined && found < groupById.length ? found : undefined;
    let group = keyId === undefined ? groupOf.get(key) : groupById[keyId]! < 0 ? undefined : groupById[keyId];
    if (group === undefined) {
      group = table.size++;
      if (keyId === undefined) groupOf.set(key, group);
      else groupById[keyId] = group;
      table.keys.push(key);
      table.identities.push(
        split
          ? {
              ...bareIdentity(ip),
              ptr: identity.ptr,
              asn: identity.asn,
              asName: identity.asName,
              country: identity.country,
            }
          : identity,
      );
      table.marks.push(ownMark ?? groupMark(marks, identity));
      table.firstDomain.push(dayDomain);
      table.moreDomains.push(null);
    }
    return group;
  };

  for (let d = 0; d < ordered.length; d++) {
    const day = ordered[d]!;
    const column = columns[d]!;
    if (day.reports.length > 0) table.daysWithReports.add(day.date);
    if (table.dates[table.dates.length - 1] !== day.date) table.dates.push(day.date);
    const dateIndex = table.dates.length - 1;
    const dayKeys = day.keys;
    // the day's string table -> the window's key ids, as its keys are met
    const keyIds = new Int32Array(dayKeys.length).fill(-1);
    const { counts, pairs } = day;
    const starts = pairOffsets(day);
    const selected = only?.get(day);
    const rowsRead = selected ? selected.length : day.ips.length;
    for (let pick = 0; pick < rowsRead; pick++) {
      const row = selected ? selected[pick]! : pick;
      const first = row * ROW_WIDTH;
      const messages = rowNumber(counts[first]);
      if (messages <= 0) continue;
      const id = column[row]!;
      let ipId = ipOf[id]!;
      if (ipId < 0) {
        const ip = String(day.ips[row]);
        ipId = table.ips.length;
        ipOf[id] = ipId;
        table.ips.push(ip);
        table.ipGroup[ipId] = groupFor(ip, id, day.domain);
      }
      const group = table.ipGroup[ipId]!;
      table.ipMessages[ipId]! += messages;
      const base = group * COUNTERS;
      // written out: a cold start runs this for every row before the JIT has compiled it, and the
      // interpreter pays for the inner loop
      counters[base]! += messages;
      counters[base + 1]! += rowNumber(counts[first + 1]);
      counters[base + 2]! += rowNumber(counts[first + 2]);
      counters[base + 3]! += rowNumber(counts[first + 3]);
      counters[base + 4]! += rowNumber(counts[first + 4]);
      counters[base + 5]! += rowNumber(counts[first + 5]);
      counters[base + 6]! += rowNumber(counts[first + 6]);
      counters[base + 7]! += rowNumber(counts[first + 7]);
      table.rows[group]! += 1;
      if (table.lastDay[group] !== dateIndex) {
        table.lastDay[group] = dateIndex;
        table.activeDays[group]! += 1;
      }
      if (day.domain !== table.firstDomain[group]) {
        const more = (table.moreDomains[group] ??= new Set([table.firstDomain[group]!]));
        more.add(day.domain);
      }
      table.messages += messages;
      table.dmarcPass += rowNumber(counts[first + 1]);

      for (let at = starts[row]!; at < starts[row + 1]!; at += 2) {
        const local = pairKey(pairs[at], dayKeys.length);
        if (local < 0) continue;
        const keyIndex = (local / WIDTH) | 0;
        let keyId = keyIds[keyIndex]!;
        if (keyId < 0) {
          const text = String(dayKeys[keyIndex]);
          const known = keyOf.get(text);
          if (known === undefined) keyOf.set(text, (keyId = table.keyText.push(text) - 1));
          else keyId = known;
          keyIds[keyIndex] = keyId;
        }
        const code = keyId * WIDTH + (local % WIDTH);
        const count = rowNumber(pairs[at + 1]);
        let entry = entryHead[group]!;
        while (entry >= 0 && entryCode[entry] !== code) entry = entryNext[entry]!;
        if (entry >= 0) entryCount[entry]! += count;
        else {
          // appended, so a group's keys keep the order they were first met in (as a merged map does)
          entry = entries++;
          entryCode[entry] = code;
          entryCount[entry] = count;
          entryNext[entry] = -1;
          const tail = entryTail[group]!;
          if (tail < 0) entryHead[group] = entry;
          else entryNext[tail] = entry;
          entryTail[group] = entry;
        }
      }
    }
  }

  // The IPs of each group, contiguous (counting sort by group, first-seen order kept).
  const ipStart = new Int32Array(table.size + 1);
  for (let ipId = 0; ipId < table.ips.length; ipId++) ipStart[table.ipGroup[ipId]! + 1]! += 1;
  for (let g = 0; g < table.size; g++) ipStart[g + 1]! += ipStart[g]!;
  const fill = ipStart.slice(0, table.size);
  const ipOrder = new Int32Array(table.ips.length);
  for (let ipId = 0; ipId < table.ips.length; ipId++) ipOrder[fill[table.ipGroup[ipId]!]!++] = ipId;
  table.ipStart = ipStart;
  table.ipOrder = ipOrder;
  table.ipIndex = indexOfIps(table.ips, ipOf, generation);
  return table;
}

/** A table's IP index: by the IPs' ids while they last, else by a map of its IPs made when first asked. */
function indexOfIps(ips: readonly string[], byId: Int32Array, generation: number): (ip: string) => number | undefined {
  let map: Map<string, number> | null = null;
  return (ip) => {
    if (generation === ipIds.generation) {
      const id = ipIds.id(ip);
      const index = id === undefined || id >= byId.length ? -1 : byId[id]!;
      return index < 0 ? undefined : index;
    }
    if (!map) map = new Map(ips.map((text, index) => [text, index]));
    return map.get(ip);
  };
}

export const ipCount = (table: GroupTable, group: number): number => table.ipStart[group + 1]! - table.ipStart[group]!;

/** IPs of a group, largest first (ties by IP), at most `limit`. */
export function groupTopIps(table: GroupTable, group: number, limit = 10): string[] {
  const start = table.ipStart[group]!;
  const end = table.ipStart[group + 1]!;
  if (end - start === 1) return [table.ips[table.ipOrder[start]!]!];
  const ids = Array.from(table.ipOrder.subarray(start, end));
  const { ips, ipMessages } = table;
  return ids
    .sort((a, b) => ipMessages[b]! - ipMessages[a]! || (ips[a]! < ips[b]! ? -1 : 1))
    .slice(0, limit)
    .map((id) => ips[id]!);
}

/** A group's count under one key of one map (0 when it has none). */
export function groupCount(table: GroupTable, group: number, map: number, key: string): number {
  for (let entry = table.entryHead[group]!; entry >= 0; entry = table.entryNext[entry]!) {
    const code = table.entryCode[entry]!;
    if (code % WIDTH === map && table.keyText[(code / WIDTH) | 0] === key) return table.entryCount[entry]!;
  }
  return 0;
}

/** The merged figures of a group as a SourceStat (its IP: the group's largest), with its own maps. */
export function groupStat(table: GroupTable, group: number): SourceStat {
  const stat = emptyStat(groupTopIps(table, group, 1)[0] ?? table.keys[group]!);
  const base = group * COUNTERS;
  const c = table.counters;
  stat.messages = c[base + COUNTER.messages]!;
  stat.dmarcPass = c[base + COUNTER.dmarcPass]!;
  stat.spfPass = c[base + COUNTER.spfPass]!;
  stat.dkimPass = c[base + COUNTER.dkimPass]!;
  stat.spfAligned = c[base + COUNTER.spfAligned]!;
  stat.dkimAligned = c[base + COUNTER.dkimAligned]!;
  stat.spfUnalignedPass = c[base + COUNTER.spfUnalignedPass]!;
  stat.dkimUnalignedPass = c[base + COUNTER.dkimUnalignedPass]!;
  const maps = [stat.dispositions, stat.reasons, stat.headerFrom, stat.spf, stat.dkim];
  for (let entry = table.entryHead[group]!; entry >= 0; entry = table.entryNext[entry]!) {
    const code = table.entryCode[entry]!;
    maps[code % WIDTH]![table.keyText[(code / WIDTH) | 0]!] = table.entryCount[entry]!;
  }
  return stat;
}

/**
 * The failure hints of a table's groups (explainFailures of each group's merged figures), reduced
 * from the entries into one reused figures object, with per-query scratch arrays instead of maps.
 */
export class FailureHints {
  /** per key id: the domain and (lower-case) result of an SPF / DKIM key, its organisational domain */
  private readonly keyDomain: string[];
  private readonly keyResult: string[];
  private readonly keyOrg: Array<string | undefined>;
  /** per key id: an id of its domain, so keys of one domain (DKIM selectors) add up */
  private readonly keyDomainId: Int32Array;
  private readonly domainIds = new Map<string, number>();
  private readonly domainNames: string[] = [];
  /** per domain id: the sum of the current group and map, and which (call, map) it belongs to */
  private readonly sums: Float64Array;
  private readonly sumOf: Float64Array;
  private readonly touched: Int32Array;
  /** code() calls so far: the sums' tags come from it, so a group asked twice in a row starts afresh */
  private calls = 0;
  /** the figures of the last group asked about */
  readonly figures: FailureFigures = {
    failing: 0,
    domain: '',
    messages: 0,
    dmarcPass: 0,
    spfPass: 0,
    ip: '',
    forwardReasons: 0,
    listReasons: 0,
    ownDkimBroken: 0,
    anyDkimSignature: 0,
    dkimDomain: null,
    dkimUnaligned: 0,
    spfDomain: null,
    spfUnaligned: 0,
  };

  constructor(private readonly table: GroupTable) {
    const keys = table.keyText.length;
    this.keyDomain = new Array<string>(keys);
    this.keyResult = new Array<string>(keys);
    this.keyOrg = new Array<string | undefined>(keys);
    this.keyDomainId = new Int32Array(keys).fill(-1);
    this.sums = new Float64Array(keys);
    this.sumOf = new Float64Array(keys).fill(-1);
    this.touched = new Int32Array(keys);
  }

  private parts(keyId: number): void {
    if (this.keyDomain[keyId] !== undefined) return;
    const { domain, result } = authKeyParts(this.table.keyText[keyId]!);
    this.keyDomain[keyId] = domain;
    this.keyResult[keyId] = result;
    let id = this.domainIds.get(domain);
    if (id === undefined) {
      id = this.domainNames.push(domain) - 1;
      this.domainIds.set(domain, id);
    }
    this.keyDomainId[keyId] = id;
  }

  private org(keyId: number): string {
    return (this.keyOrg[keyId] ??= orgDomain(this.keyDomain[keyId]!));
  }

  /**
   * The failure pattern of a group (explainFailures' code), null when nothing fails; `figures`
   * then holds what it was decided on (but the IP: see hint).
   */
  code(group: number, context: { forwarder: boolean; domain: string }): FailureCode | null {
    const t = this.table;
    const f = this.figures;
    const base = group * COUNTERS;
    const messages = t.counters[base + COUNTER.messages]!;
    const dmarcPass = t.counters[base + COUNTER.dmarcPass]!;
    const failing = messages - dmarcPass;
    if (failing <= 0) return null;

    // header From: the key with the most messages, ties by the smaller key (topKey)
    let from: string | null = null;
    let fromCount = -1;
    let forwardReasons = 0;
    let listReasons = 0;
    for (let entry = t.entryHead[group]!; entry >= 0; entry = t.entryNext[entry]!) {
      const code = t.entryCode[entry]!;
      const map = code % WIDTH;
      if (map === MAP.headerFrom) {
        const key = t.keyText[(code / WIDTH) | 0]!;
        const count = t.entryCount[entry]!;
        if (count > fromCount || (count === fromCount && from !== null && key < from)) {
          from = key;
          fromCount = count;
        }
      } else if (map === MAP.reasons) {
        const key = t.keyText[(code / WIDTH) | 0]!;
        if (FORWARDING_REASONS.includes(key)) forwardReasons += t.entryCount[entry]!;
        else if (key === 'mailing_list') listReasons += t.entryCount[entry]!;
      }
    }
    const domain = from ?? context.domain;
    const fromOrg = orgDomain(domain);

    // DKIM: our own signatures that failed, any signature, passing ones of other domains (summed
    // per domain over selectors); SPF: passing domains other than ours
    let ownDkimBroken = 0;
    let anyDkimSignature = 0;
    let dkimTouched = 0;
    const call = ++this.calls;
    const dkimTag = call * WIDTH + MAP.dkim;
    for (let entry = t.entryHead[group]!; entry >= 0; entry = t.entryNext[entry]!) {
      const code = t.entryCode[entry]!;
      if (code % WIDTH !== MAP.dkim) continue;
      const keyId = (code / WIDTH) | 0;
      this.parts(keyId);
      const count = t.entryCount[entry]!;
      const result = this.keyResult[keyId]!;
      if (result !== 'none' && this.keyDomain[keyId]) anyDkimSignature += count;
      const aligned = this.org(keyId) === fromOrg;
      if (aligned && result !== 'pass' && result !== 'none') ownDkimBroken += count;
      if (!aligned && result === 'pass') dkimTouched = this.add(keyId, count, dkimTag, dkimTouched);
    }
    const dkimDomain = this.top(dkimTouched);
    const dkimOther = dkimDomain ? this.sums[this.domainIds.get(dkimDomain)!]! : 0;

    let spfTouched = 0;
    const spfTag = call * WIDTH + MAP.spf;
    for (let entry = t.entryHead[group]!; entry >= 0; entry = t.entryNext[entry]!) {
      const code = t.entryCode[entry]!;
      if (code % WIDTH !== MAP.spf) continue;
      const keyId = (code / WIDTH) | 0;
      this.parts(keyId);
      if (this.keyResult[keyId] === 'pass' && this.keyDomain[keyId] && this.org(keyId) !== fromOrg)
        spfTouched = this.add(keyId, t.entryCount[entry]!, spfTag, spfTouched);
    }
    const spfDomain = this.top(spfTouched);
    const spfOther = spfDomain ? this.sums[this.domainIds.get(spfDomain)!]! : 0;

    f.failing = failing;
    f.domain = domain;
    f.messages = messages;
    f.dmarcPass = dmarcPass;
    f.spfPass = t.counters[base + COUNTER.spfPass]!;
    f.ip = '';
    f.forwardReasons = forwardReasons;
    f.listReasons = listReasons;
    f.ownDkimBroken = ownDkimBroken;
    f.anyDkimSignature = anyDkimSignature;
    f.dkimDomain = dkimDomain;
    f.dkimUnaligned = Math.max(t.counters[base + COUNTER.dkimUnalignedPass]!, dkimOther);
    f.spfDomain = spfDomain;
    f.spfUnaligned = Math.max(t.counters[base + COUNTER.spfUnalignedPass]!, spfOther);
    return failureCode(f, context.forwarder);
  }

  /** explainFailures(groupStat(table, group), context), without building the stat. */
  hint(group: number, context: { forwarder: boolean; domain: string }): Hint | null {
    const code = this.code(group, context);
    return code === null ? null : this.hintOf(group, code);
  }

  /** The hint of `code`, just returned by code() for this group. */
  hintOf(group: number, code: FailureCode): Hint {
    if (code === 'no-auth') this.figures.ip = groupTopIps(this.table, group, 1)[0] ?? this.table.keys[group]!;
    return failureHintOf(code, this.figures);
  }

  /** Adds to the sum of a key's domain for one (group, map); returns the new number of domains touched. */
  private add(keyId: number, count: number, tag: number, touched: number): number {
    const id = this.keyDomainId[keyId]!;
    if (this.sumOf[id] !== tag) {
      this.sumOf[id] = tag;
      this.sums[id] = 0;
      this.touched[touched++] = id;
    }
    this.sums[id]! += count;
    return touched;
  }

  /** The touched domain with the most, ties by the smaller name (topKey over the sums). */
  private top(touched: number): string | null {
    let best: string | null = null;
    let bestCount = -1;
    for (let i = 0; i < touched; i++) {
      const id = this.touched[i]!;
      const name = this.domainNames[id]!;
      const count = this.sums[id]!;
      if (count > bestCount || (count === bestCount && best !== null && name < best)) {
        best = name;
        bestCount = count;
      }
    }
    return best;
  }
}

/** A table's group as the SenderGroup of groups.ts (for the few callers that want the objects). */
export function materialize(table: GroupTable, group: number): SenderGroup {
  const ips = new Map<string, number>();
  for (let at = table.ipStart[group]!; at < table.ipStart[group + 1]!; at++) {
    const id = table.ipOrder[at]!;
    ips.set(table.ips[id]!, table.ipMessages[id]!);
  }
  return {
    key: table.keys[group]!,
    identity: table.identities[group]!,
    mark: table.marks[group]!,
    stat: groupStat(table, group),
    ips,
    activeDays: table.activeDays[group]!,
    domains: table.moreDomains[group] ?? new Set([table.firstDomain[group]!]),
    owned: table.rows[group]! > 1,
    lastDay: table.dates[table.lastDay[group]!] ?? '',
  };
}
