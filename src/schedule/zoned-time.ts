// Wall-clock time in an IANA zone without a date library: Intl tells the zone's offset at an
// instant, from which the instant of a local date and time follows. Safe across DST changes:
// a local time that does not exist (spring forward) moves later by the gap; one that exists twice
// (fall back) means its first occurrence.

export interface LocalDate {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Throws a RangeError naming the zone when it is not a known IANA zone. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatter(timeZone);
  } catch {
    throw new RangeError(`unknown time zone "${timeZone}" (expected an IANA zone such as Europe/Berlin)`);
  }
}

/** The local calendar fields of an instant in a zone. */
export function localParts(
  instant: Date,
  timeZone: string,
): LocalDate & { hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant))
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** Zone offset (local minus UTC) in milliseconds at an instant. */
export function zoneOffsetMs(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant at which the local clock in `timeZone` shows `date` `hour:minute`. */
export function zonedTimeToInstant(date: LocalDate, hour: number, minute: number, timeZone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  // the zone's offsets around that day; a DST change gives two, otherwise both are the same
  const offsets = [
    zoneOffsetMs(new Date(wall - 12 * 3600_000), timeZone),
    zoneOffsetMs(new Date(wall + 12 * 3600_000), timeZone),
  ];
  const matching = offsets
    .map((offset) => wall - offset)
    .filter((instant) => wallMatches(new Date(instant), date, hour, minute, timeZone));
  if (matching.length > 0) return new Date(Math.min(...matching));
  // spring forward skipped this wall time: the pre-change (smaller) offset lands just after the gap
  return new Date(wall - Math.min(...offsets));
}

function wallMatches(instant: Date, date: LocalDate, hour: number, minute: number, timeZone: string): boolean {
  const p = localParts(instant, timeZone);
  return p.year === date.year && p.month === date.month && p.day === date.day && p.hour === hour && p.minute === minute;
}

/** The calendar day before or after a local date (pure calendar arithmetic). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function formatLocalDate(date: LocalDate): string {
  return `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}
