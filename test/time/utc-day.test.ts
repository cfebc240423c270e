import { describe, expect, it } from 'vitest';
import { addDays, isUtcDay, utcDay } from '../../src/time/utc-day.ts';

describe('utcDay', () => {
  it('gives the UTC day of a Date, epoch milliseconds and a date string', () => {
    expect(utcDay(new Date('2026-06-30T23:59:59.999Z'))).toBe('2026-06-30');
    expect(utcDay(Date.UTC(2026, 0, 1))).toBe('2026-01-01');
    expect(utcDay('2026-07-01T08:30:00+09:00')).toBe('2026-06-30');
  });

  it('refuses an invalid instant and one past the year 9999', () => {
    expect(() => utcDay('not a date')).toThrow(RangeError);
    expect(() => utcDay(Number.NaN)).toThrow(/invalid date/);
    // a millisecond timestamp read as seconds lands in such a year
    expect(() => utcDay(1_780_000_000_000 * 1000)).toThrow(/0000-9999/);
    expect(() => utcDay(Date.UTC(-1, 0, 1))).toThrow(/0000-9999/);
  });
});

describe('addDays', () => {
  it('steps over month, year and leap-day boundaries', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-06-30', -29)).toBe('2026-06-01');
    expect(addDays('2026-06-30', 0)).toBe('2026-06-30');
  });

  it('refuses a day that is not one, and stepping past 9999', () => {
    expect(() => addDays('2026-13-01', 1)).toThrow(RangeError);
    expect(() => addDays('9999-12-31', 1)).toThrow(/0000-9999/);
  });
});

describe('isUtcDay', () => {
  it('takes real calendar days written YYYY-MM-DD only', () => {
    expect(isUtcDay('2028-02-29')).toBe(true);
    expect(isUtcDay('2026-02-29')).toBe(false);
    expect(isUtcDay('2026-02-30')).toBe(false);
    expect(isUtcDay('2026-6-30')).toBe(false);
    expect(isUtcDay('2026-06-30T00:00:00Z')).toBe(false);
    expect(isUtcDay('')).toBe(false);
  });
});
