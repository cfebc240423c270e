// Small helpers shared by the insight functions: merging per-source figures, rates, UTC day windows.
// Everything works on plain objects in one pass; no I/O, no clock.

import type { SourceStat } from '../store/types.ts';
import type { CountRow, DayWindow } from './types.ts';
import { addDays, utcDay } from '../time/utc-day.ts';
import { own } from '../store/dict.ts';
import { emptySourceStat } from '../store/days.ts';

/** An empty accumulator with the shape of a SourceStat (the store's own empty row). */
export function emptyStat(ip = ''): SourceStat {
  return emptySourceStat(ip);
}

function addCounts(into: Record<string, number>, from: Record<string, number> | undefined): void {
  if (!from) return;
  // `into` may be a stored (JSON) object too: read and write data keys as own properties only
  for (const key of Object.keys(from)) {
    const sum = (own(into, key) ?? 0) + (from[key] ?? 0);
    if (Object.hasOwn(into, key) || Object.getPrototypeOf(into) === null) into[key] = sum;
    else Object.defineProperty(into, key, { value: sum, writable: true, enumerable: true, configurable: true });
  }
}

/** Adds `from` into `into` (mutates `into`, returns it). */
export function addStat(into: SourceStat, from: SourceStat): SourceStat {
  into.messages += from.messages;
  into.dmarcPass += from.dmarcPass;
  into.spfPass += from.spfPass;
  into.dkimPass += from.dkimPass;
  into.spfAligned += from.spfAligned;
  into.dkimAligned += from.dkimAligned;
  into.spfUnalignedPass += from.spfUnalignedPass ?? 0;
  into.dkimUnalignedPass += from.dkimUnalignedPass ?? 0;
  addCounts(into.dispositions, from.dispositions);
  addCounts(into.reasons, from.reasons);
  addCounts(into.headerFrom, from.headerFrom);
  addCounts(into.spf, from.spf);
  addCounts(into.dkim, from.dkim);
  return into;
}

/** part / whole, 0 when there is nothing to divide. */
export function rate(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

/** Count map -> rows, largest first (ties by key, so results are stable). */
export function rows(counts: Record<string, number>): CountRow[] {
  return Object.entries(counts)
    .map(([key, messages]) => ({ key, messages }))
    .sort((a, b) => b.messages - a.messages || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The key with the most messages, or null. */
export function topKey(counts: Record<string, number>): string | null {
  let best: string | null = null;
  let bestCount = -1;
  for (const key in counts) {
    const count = own(counts, key) ?? 0;
    if (count > bestCount || (count === bestCount && best !== null && key < best)) {
      best = key;
      bestCount = count;
    }
  }
  return best;
}

export { addDays, utcDay };

/** The window of `days` UTC days ending with the day of `now` (inclusive). */
export function windowEnding(now: Date, days: number): DayWindow {
  const to = utcDay(now);
  return { from: addDays(to, -(Math.max(1, Math.floor(days)) - 1)), to };
}

export function inWindow(day: string, window: DayWindow): boolean {
  return day >= window.from && day <= window.to;
}

/** Splits "domain result" / "domain selector result" keys of SourceStat.spf / .dkim. */
export function authKeyParts(key: string): { domain: string; result: string } {
  const parts = key.split(' ');
  return { domain: parts[0] ?? '', result: (parts[parts.length - 1] ?? '').toLowerCase() };
}
