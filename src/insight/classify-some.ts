// The classes of a few IPs (`ip`, `date`) without classifying every sender group of the window.
// A source's class depends only on its sender group's own rows, its identity and mark, and the
// domain's whole volume in the window: so the window's rows are scanned once for the group key of
// each IP (no grouping, no count maps), only the rows of the groups asked about are kept, and
// those groups are built and classified by the same code as the full window (classifyTable).

import type { DayWindow, SenderIdentity } from './types.ts';
import { groupMark, type MarkLookup } from './marks.ts';
import { classifyTable, classRank, IpClassView, type ClassifiedGroup, type ClassifyThresholds } from './classify.ts';
import { bareIdentity, buildGroupTable } from './group-table.ts';
import { inWindow, rate } from './stats.ts';
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

/** What classifySome and SomeClasses read: the window's days, how to name and mark their IPs. */
export interface SomeClassesInput {
  days: readonly DayData[];
  /** the identity the full classification would use (identifyDays'); the row gives the hints */
  identityOf: (ip: string, day: StoredDaySummary, row: number) => SenderIdentity | undefined;
  /** optional: the rows' keys as numbers (row-keys.ts), for an identityOf that gives one identity per IP */
  rowKeys?: RowKeys;
  marks: MarkLookup;
  window: DayWindow;
  domain: string;
  thresholds: ClassifyThresholds;
}

/**
 * The class of each of `ips` in `domain` over `window`, exactly as classifyWindow gives it; an IP
 * with no row in the window has none (absent from the map). `identities` are those the full
 * classification would use (identifyDays of the window).
 */
export function classifySome(input: SomeClassesInput & { ips: Iterable<string> }): Map<string, ClassifiedGroup> {
  const asked = [...new Set(input.ips)];
  return new SomeClasses(input, asked, false).classesOf(asked);
}

/** Reused between scans (one per query): the group slot of each key id, -1 when not asked about. */
let slotScratch = new Int32Array(0);

/**
 * The window scanned once for the sender groups of some IPs: the window's volume and, per group,
 * its rows and the counters its class rank follows. A group's class is worked out (buildGroupTable
 * and classifyTable over its rows alone, as classifySome does) only when it is asked for, or when
 * its counters leave its rank open: a group that never passes DMARC, is not known, not marked as
 * the owner's and not regular (few days, a small share) ranks last whatever its class, so `date`
 * can order a day's thousands of failing one-day senders without classifying each of them.
 */
export class SomeClasses {
  private readonly input: SomeClassesInput;
  private readonly ranked: boolean;
  /** the window's volume (every row with messages) */
  readonly messages: number;
  private readonly ordered: StoredDaySummary[];
  private readonly found = new Map<string, SenderIdentity | undefined>();
  /** the slot of each asked IP's group */
  private readonly slotOfIp = new Map<string, number>();
  /** asked IPs with a row in the window */
  private readonly present = new Set<string>();
  // per slot: the counters of its rows, and what the first IP met gives the group
  private readonly slotMessages: number[] = [];
  private readonly slotPass: number[] = [];
  private readonly slotDays: number[] = [];
  private readonly slotLastDate: string[] = [];
  private readonly slotBy: Array<SenderIdentity['by'] | null> = [];
  private readonly slotMark: Array<ReturnType<MarkLookup>> = [];
  /** per ordered day: its kept rows and the slot of each */
  private readonly keptRows: number[][] = [];
  private readonly keptSlots: number[][] = [];
  /** the classified groups of the IPs classified so far (absent: not classified yet) */
  private readonly classified = new Map<string, ClassifiedGroup | undefined>();
  private readonly slotDone: boolean[] = [];

  /** `ranked`: whether rankOf will be asked (else the scan keeps only the rows, for classesOf) */
  constructor(input: SomeClassesInput, asked: readonly string[], ranked = true) {
    this.input = input;
    this.ranked = ranked;
    const { identityOf, marks, domain, rowKeys } = input;
    const ordered = (this.ordered = windowRows(input.days, input.window, domain));
    // the asked IPs' own identities (from their first row), for their group keys
    const askedSet = new Set(asked);
    const found = this.found;
    if (rowKeys)
      for (const ip of asked) {
        const known = rowKeys.known(ip);
        if (known) found.set(ip, known);
      }
    if (found.size < askedSet.size)
      for (const day of ordered)
        for (let row = 0; row < day.ips.length; row++) {
          const ip = String(day.ips[row]);
          if (askedSet.has(ip) && !found.has(ip)) found.set(ip, identityOf(ip, day, row));
        }
    const slotByKey = new Map<string, number>();
    for (const ip of asked) {
      const key = groupKeyOf(ip, found.get(ip), marks);
      let slot = slotByKey.get(key);
      if (slot === undefined) {
        slotByKey.set(key, (slot = this.slotMessages.length));
        this.slotMessages.push(0);
        this.slotPass.push(0);
        this.slotDays.push(0);
        this.slotLastDate.push('');
        this.slotBy.push(null);
        this.slotMark.push(null);
        this.slotDone.push(false);
      }
      this.slotOfIp.set(ip, slot);
    }

    // One pass: the window's volume, and the rows whose IP joins an asked group (no map per IP:
    // the identity lookup is the memo's, and most IPs are met on one or two days).
    let messages = 0;
    const take = (day: StoredDaySummary, row: number, slot: number, ip: string, rows: number[], slots: number[]) => {
      rows.push(row);
      slots.push(slot);
      if (!ranked) return;
      if (askedSet.has(ip)) this.present.add(ip);
      this.slotMessages[slot]! += rowNumber(day.counts[row * ROW_WIDTH]);
      this.slotPass[slot]! += rowNumber(day.counts[row * ROW_WIDTH + 1]);
      if (this.slotLastDate[slot] !== day.date) {
        this.slotLastDate[slot] = day.date;
        this.slotDays[slot]! += 1;
      }
      if (this.slotBy[slot] === null) {
        // the first IP met gives the group its identity and mark (buildGroupTable's rule)
        const identity = this.identityAt(ip, day, row) ?? bareIdentity(ip);
        const ownMark = marks(ip);
        const split = ownMark !== null && identity.key !== ip;
        this.slotBy[slot] = split ? 'ip' : identity.by;
        this.slotMark[slot] = ownMark ?? groupMark(marks, identity);
      }
    };
    if (rowKeys) {
      // every column first, so that every key of the window has its id
      const columns = ordered.map((day) => rowKeys.column(day));
      if (slotScratch.length < rowKeys.size) slotScratch = new Int32Array(rowKeys.size * 1.25 + 1024).fill(-1);
      const slots = slotScratch;
      const set: number[] = [];
      for (const [key, slot] of slotByKey) {
        const id = rowKeys.id(key);
        if (id !== undefined) {
          slots[id] = slot;
          set.push(id);
        }
      }
      try {
        ordered.forEach((day, index) => {
          const column = columns[index]!;
          const rows: number[] = [];
          const rowSlots: number[] = [];
          for (let row = 0; row < column.length; row++) {
            const code = column[row]!;
            if (code < 0) continue;
            messages += rowNumber(day.counts[row * ROW_WIDTH]);
            const id = code >> 1;
            let slot = id < slots.length ? slots[id]! : (slotByKey.get(rowKeys.key(id)) ?? -1);
            // an IP of a named group that is marked apart is a group of its own (groupKeyOf)
            if (code & 1) {
              const ip = String(day.ips[row]);
              if (marks(ip) !== null) slot = slotByKey.get(ip) ?? -1;
            }
            if (slot < 0) continue;
            take(day, row, slot, String(day.ips[row]), rows, rowSlots);
          }
          this.keptRows.push(rows);
          this.keptSlots.push(rowSlots);
        });
      } finally {
        for (const id of set) slots[id] = -1;
      }
    } else
      for (const day of ordered) {
        const rows: number[] = [];
        const rowSlots: number[] = [];
        for (let row = 0; row < day.ips.length; row++) {
          const count = rowNumber(day.counts[row * ROW_WIDTH]);
          if (count <= 0) continue;
          messages += count;
          const ip = String(day.ips[row]);
          const slot = slotByKey.get(groupKeyOf(ip, this.identityAt(ip, day, row), marks)) ?? -1;
          if (slot < 0) continue;
          take(day, row, slot, ip, rows, rowSlots);
        }
        this.keptRows.push(rows);
        this.keptSlots.push(rowSlots);
      }
    this.messages = messages;
  }

  /** The identity classifySome reads for a row's IP: the asked IP's own, else the row's. */
  private identityAt(ip: string, day: StoredDaySummary, row: number): SenderIdentity | undefined {
    return this.found.has(ip) ? this.found.get(ip) : this.input.identityOf(ip, day, row);
  }

  /**
   * Whether a group's counters alone put it last in classRank's order (rank 2): what
   * classifySource gives any class but 'unconfirmed' and 'legitimate-failing' for.
   */
  private ranksLast(slot: number): boolean {
    const t = this.input.thresholds;
    const mark = this.slotMark[slot];
    const messages = this.slotMessages[slot]!;
    const pass = this.slotPass[slot]!;
    if (mark === 'spoof') return true;
    if (messages > 0 && rate(pass, messages) >= t.alignedPassRate) return true;
    if (mark === 'mine' || pass > 0 || this.slotBy[slot] === 'known') return false;
    const regular =
      this.slotDays[slot]! >= t.regularSenderMinDays || rate(messages, this.messages) > t.regularSenderMinShare;
    return !regular;
  }

  /** classRank of an asked IP's class (none for an IP with no row in the window). */
  rankOf(ip: string): number | undefined {
    if (!this.ranked) throw new Error('SomeClasses: rankOf of a scan made without ranks');
    const slot = this.slotOfIp.get(ip);
    if (slot === undefined || !this.present.has(ip)) return undefined;
    if (this.ranksLast(slot)) return 2;
    if (!this.slotDone[slot]) {
      // every group whose rank is open, at once
      const open: number[] = [];
      for (let other = 0; other < this.slotDone.length; other++)
        if (!this.slotDone[other] && !this.ranksLast(other)) open.push(other);
      this.classify(open);
    }
    const sourceClass = this.classified.get(ip)?.class;
    return sourceClass ? classRank(sourceClass) : undefined;
  }

  /** The classes of some asked IPs (an IP with no row in the window has none). */
  classesOf(ips: Iterable<string>): Map<string, ClassifiedGroup> {
    const wanted = new Set<number>();
    for (const ip of ips) {
      const slot = this.slotOfIp.get(ip);
      if (slot !== undefined && !this.slotDone[slot]) wanted.add(slot);
    }
    if (wanted.size > 0) this.classify([...wanted]);
    const result = new Map<string, ClassifiedGroup>();
    for (const ip of ips) {
      const classified = this.classified.get(ip);
      if (classified) result.set(ip, classified);
    }
    return result;
  }

  /** Builds and classifies the groups of these slots from their kept rows alone. */
  private classify(slots: readonly number[]): void {
    const { marks, domain, thresholds } = this.input;
    const chosen = new Uint8Array(this.slotDone.length);
    for (const slot of slots) {
      chosen[slot] = 1;
      this.slotDone[slot] = true;
    }
    // the identities of the kept rows' IPs, as buildGroupTable reads them
    const identities = dict<SenderIdentity>();
    // the kept rows of each stored day, read in place by buildGroupTable (no copies of them)
    const kept = new Map<StoredDaySummary, number[]>();
    this.ordered.forEach((day, index) => {
      const rows: number[] = [];
      const keptRows = this.keptRows[index]!;
      const keptSlots = this.keptSlots[index]!;
      for (let at = 0; at < keptRows.length; at++) {
        if (chosen[keptSlots[at]!] !== 1) continue;
        const row = keptRows[at]!;
        rows.push(row);
        const ip = String(day.ips[row]);
        const identity = this.identityAt(ip, day, row);
        if (identity) identities[ip] ??= identity;
      }
      if (rows.length > 0) kept.set(day, rows);
    });
    const table = buildGroupTable(this.input.days, identities, marks, this.input.window, domain, kept);
    const view = new IpClassView(classifyTable(table, domain, thresholds, this.messages));
    for (const [ip, slot] of this.slotOfIp) if (chosen[slot] === 1) this.classified.set(ip, view.get(ip));
  }
}
