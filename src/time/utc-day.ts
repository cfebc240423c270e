// UTC calendar days as the store, insight and alerts key them: "YYYY-MM-DD". One set of rules for
// every layer: an invalid instant is refused, and so is one outside the years 0000-9999, where
// toISOString() writes a six-digit year and string arithmetic on days would never advance.

export const DAY_MS = 86_400_000;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** YYYY-MM-DD (UTC) of an instant: a Date, epoch milliseconds or a date string Date.parse reads. */
export function utcDay(instant: string | number | Date): string {
  const date = instant instanceof Date ? instant : new Date(instant);
  if (Number.isNaN(date.getTime())) throw new RangeError(`invalid date: ${String(instant)}`);
  const day = date.toISOString().slice(0, 10);
  if (!DAY.test(day)) throw new RangeError(`date outside the years 0000-9999: ${String(instant)}`);
  return day;
}

/** Whether the text is a real calendar day written YYYY-MM-DD (not 2026-02-30). */
export function isUtcDay(text: string): boolean {
  if (!DAY.test(text)) return false;
  const time = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === text;
}

/** The day `count` days after (or, negative, before) a YYYY-MM-DD day. */
export function addDays(day: string, count: number): string {
  return utcDay(Date.parse(`${day}T00:00:00Z`) + count * DAY_MS);
}
