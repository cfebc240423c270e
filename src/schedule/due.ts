// Which destinations owe a digest right now: a pure function of the clock, what was last sent,
// the digest time and the zone. The schedule has one slot a day (DIGEST_TIME in TZ); a destination
// whose last digest is older than the latest slot that has passed is due. Several missed days
// (the bot was down) make one catch-up digest covering the whole gap, not one per day.

import { addDays, localParts, zonedTimeToInstant } from './zoned-time.ts';

export interface DueDigest {
  destination: string;
  /** ISO instant of the slot this digest stands for */
  slot: string;
  /** ISO start of the window: the previous digest's end, or one day before the slot for a first digest */
  since: string;
}

/** Parses "HH:MM" (already validated by config) into hour and minute. */
export function parseDigestTime(digestTime: string): { hour: number; minute: number } {
  const match = /^(\d{1,2}):(\d{2})$/.exec(digestTime.trim());
  if (!match) throw new RangeError(`invalid digest time "${digestTime}" (expected HH:MM, e.g. 09:00)`);
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  if (hour > 23 || minute > 59)
    throw new RangeError(`invalid digest time "${digestTime}" (expected HH:MM, e.g. 09:00)`);
  return { hour, minute };
}

/** The latest digest slot at or before `now`. */
export function latestSlot(now: Date, digestTime: string, timeZone: string): Date {
  const { hour, minute } = parseDigestTime(digestTime);
  const today = localParts(now, timeZone);
  const slotToday = zonedTimeToInstant(today, hour, minute, timeZone);
  if (slotToday.getTime() <= now.getTime()) return slotToday;
  return zonedTimeToInstant(addDays(today, -1), hour, minute, timeZone);
}

/** The first digest slot strictly after `now`. */
export function nextSlot(now: Date, digestTime: string, timeZone: string): Date {
  const { hour, minute } = parseDigestTime(digestTime);
  const today = localParts(now, timeZone);
  const slotToday = zonedTimeToInstant(today, hour, minute, timeZone);
  if (slotToday.getTime() > now.getTime()) return slotToday;
  return zonedTimeToInstant(addDays(today, 1), hour, minute, timeZone);
}

/**
 * Destinations owing a digest at `now`. `lastSent` maps each destination to the ISO end of its
 * last digest (undefined/null: never sent, so a first digest is due at once).
 */
export function dueDigests(
  now: Date,
  lastSent: Readonly<Record<string, string | null | undefined>>,
  digestTime: string,
  timeZone: string,
): DueDigest[] {
  const slot = latestSlot(now, digestTime, timeZone);
  const due: DueDigest[] = [];
  for (const [destination, last] of Object.entries(lastSent)) {
    const lastMs = last ? Date.parse(last) : Number.NaN;
    if (!Number.isNaN(lastMs) && lastMs >= slot.getTime()) continue;
    const since = Number.isNaN(lastMs)
      ? new Date(slot.getTime() - 24 * 3600_000).toISOString()
      : new Date(lastMs).toISOString();
    due.push({ destination, slot: slot.toISOString(), since });
  }
  return due;
}
