import { describe, expect, it } from 'vitest';
import {
  addDays,
  apportion,
  attributionDays,
  dayRange,
  middleDay,
  monthRange,
  splitAggregate,
  utcDay,
} from '../../src/store/days.ts';
import { record } from './factories.ts';

describe('apportion (largest remainder)', () => {
  it('adds up exactly to the total and stays within one of each exact quota', () => {
    const cases: [number, number[]][] = [
      [1000, [24, 24, 24, 24, 1]],
      [7, [1, 1, 1]],
      [1, [3600, 86400, 86400]],
      [0, [5, 5]],
      [123457, [86400, 3600, 86399, 1]],
    ];
    for (const [total, weights] of cases) {
      const parts = apportion(total, weights);
      const sum = weights.reduce((a, b) => a + b, 0);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      parts.forEach((part, index) => {
        expect(Number.isInteger(part)).toBe(true);
        expect(Math.abs(part - (total * weights[index]!) / sum)).toBeLessThan(1);
      });
    }
  });

  it('gives the leftover to the largest remainders, ties to the earlier day', () => {
    // 7 over three equal days: quotas 2.33 each, one message left, the first day takes it.
    expect(apportion(7, [1, 1, 1])).toEqual([3, 2, 2]);
    // 10 over 1:2 -> 3.33 and 6.67: the larger remainder (second) takes the leftover.
    expect(apportion(10, [1, 2])).toEqual([3, 7]);
  });
});

describe('attribution days', () => {
  it('puts a report on every UTC day its range touches, also when it lasts 24 hours or less', () => {
    expect(attributionDays('2024-03-10T00:00:00Z', '2024-03-10T23:59:59Z').map((day) => day.date)).toEqual([
      '2024-03-10',
    ]);
    // Midnight to midnight touches the next day only at its last instant: one day.
    expect(attributionDays('2024-03-10T00:00:00Z', '2024-03-11T00:00:00Z').map((day) => day.date)).toEqual([
      '2024-03-10',
    ]);
    // 15:00 to 15:00 the next day: 9 hours on the 10th, 15 on the 11th.
    expect(attributionDays('2024-03-10T15:00:00Z', '2024-03-11T15:00:00Z')).toEqual([
      { date: '2024-03-10', seconds: 9 * 3600 },
      { date: '2024-03-11', seconds: 15 * 3600 },
    ]);
    // Offsets are honoured: 23:00+02:00 is 21:00 UTC.
    expect(attributionDays('2024-03-10T23:00:00+02:00', '2024-03-10T23:30:00+02:00').map((day) => day.date)).toEqual([
      '2024-03-10',
    ]);
  });

  it('spreads a 97-hour report over its five days, each with its share', () => {
    // 2024-03-01 23:00 to 2024-03-06 00:00: 1 h, 24 h, 24 h, 24 h, 24 h.
    const days = attributionDays('2024-03-01T23:00:00Z', '2024-03-06T00:00:00Z');
    expect(days.map((day) => [day.date, day.seconds / 3600])).toEqual([
      ['2024-03-01', 1],
      ['2024-03-02', 24],
      ['2024-03-03', 24],
      ['2024-03-04', 24],
      ['2024-03-05', 24],
    ]);
  });

  it('splits a longer range over the days it overlaps, weighted by seconds', () => {
    const days = attributionDays('2024-02-28T18:00:00Z', '2024-03-01T06:00:00Z');
    // 2024 is a leap year: 28 Feb (6 h), 29 Feb (24 h), 1 Mar (6 h).
    expect(days).toEqual([
      { date: '2024-02-28', seconds: 6 * 3600 },
      { date: '2024-02-29', seconds: 24 * 3600 },
      { date: '2024-03-01', seconds: 6 * 3600 },
    ]);
  });

  it('refuses a date that cannot be read', () => {
    expect(() => attributionDays('soon', '2024-03-01T00:00:00Z')).toThrow(/invalid date range soon/);
  });

  it('finds the middle day, day and month ranges', () => {
    expect(middleDay('2024-03-01T00:00:00Z', '2024-03-08T00:00:00Z')).toBe('2024-03-04');
    expect(utcDay('2024-03-10T23:59:59-01:00')).toBe('2024-03-11');
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(dayRange('2024-02-27', '2024-03-01')).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
    expect(dayRange('2024-03-02', '2024-03-01')).toEqual([]);
    expect(monthRange('2024-11-15', '2025-02-01')).toEqual(['2024-11', '2024-12', '2025-01', '2025-02']);
  });
});

describe('splitAggregate', () => {
  it('apportions each record over the days and merges the shares of one IP per day', () => {
    const splits = splitAggregate({
      begin: '2024-03-01T00:00:00Z',
      end: '2024-03-03T00:00:00Z',
      records: [
        record('192.0.2.1', 5),
        record('192.0.2.1', 3, { dmarc: 'fail', disposition: 'reject' }),
        record('::ffff:198.51.100.2', 1),
      ],
    });
    expect(splits.map((split) => split.date)).toEqual(['2024-03-01', '2024-03-02']);
    // 5 -> 3 + 2 and 3 -> 2 + 1 (ties to the first day); the single message goes to the first day.
    const first = splits[0]!;
    expect(first.sources.map((source) => source.ip)).toEqual(['192.0.2.1', '198.51.100.2']);
    expect(first.sources[0]).toMatchObject({ messages: 5, dmarcPass: 3, dispositions: { none: 3, reject: 2 } });
    expect(splits[1]!.sources).toHaveLength(1);
    expect(splits[1]!.sources[0]).toMatchObject({
      ip: '192.0.2.1',
      messages: 3,
      dmarcPass: 2,
      dispositions: { none: 2, reject: 1 },
    });
    expect(splits.reduce((sum, split) => sum + split.messages, 0)).toBe(9);
  });

  it('keeps a report without messages visible on every day it covers', () => {
    expect(splitAggregate({ begin: '2024-03-01T00:00:00Z', end: '2024-03-03T00:00:00Z', records: [] })).toEqual([
      { date: '2024-03-01', messages: 0, sources: [] },
      { date: '2024-03-02', messages: 0, sources: [] },
    ]);
  });
});
