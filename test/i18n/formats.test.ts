import { describe, expect, it } from 'vitest';
import { createTranslator, plainDay, plainInteger, plainPercent } from '../../src/i18n/index.ts';

// The translator writes common numbers and days without Intl; what it writes must be Intl's text.
const LOCALES = ['en', 'ja'] as const;

/** a seeded generator, so that a failure can be run again */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('numbers and days written without Intl', () => {
  it('writes whole numbers as Intl.NumberFormat does', () => {
    const next = random(1);
    const values = [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 123456, 1000000, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 3000; i++) values.push(Math.floor(next() * 10 ** Math.floor(next() * 16)));
    for (const locale of LOCALES) {
      const intl = new Intl.NumberFormat(locale);
      const t = createTranslator(locale);
      for (const value of values) {
        expect(plainInteger(value)).toBe(intl.format(value));
        expect(t.number(value)).toBe(intl.format(value));
      }
    }
  });

  it('leaves other numbers to Intl, with the same text', () => {
    const values = [-1, -0, -1234, 0.5, 1234.5678, 1e21, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity];
    for (const locale of LOCALES) {
      const intl = new Intl.NumberFormat(locale);
      const t = createTranslator(locale);
      for (const value of values) {
        expect(plainInteger(value)).toBeUndefined();
        expect(t.number(value)).toBe(intl.format(value));
        expect(t.t('ready.sourcesTotal', { count: value, messages: 1, spoofing: 0 })).toContain(intl.format(value));
      }
    }
  });

  it('writes shares as Intl percentages with at most one decimal, ties included', () => {
    const next = random(2);
    const shares = [0, 1, 0.5, 0.8025, 0.00049, 0.0005, 0.00051, 0.9995, 0.99949, 0.1234, 2 / 3, 1 / 3];
    for (let i = 0; i < 5000; i++) shares.push(next());
    // ratios of counts, as the answers compute them: many land on or next to a tie
    for (let whole = 1; whole <= 2000; whole += 7)
      for (let part = 0; part <= whole; part += 13) shares.push(part / whole);
    // exact ties of a tenth of a percent are left to Intl's decimal rounding
    expect(plainPercent(0.0005)).toBeUndefined();
    expect(plainPercent(0.8025)).toBeUndefined();
    for (const locale of LOCALES) {
      const intl = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
      const t = createTranslator(locale);
      for (const share of shares) {
        const plain = plainPercent(share);
        if (plain !== undefined) expect(plain, String(share)).toBe(intl.format(share));
        expect(t.percent(share), String(share)).toBe(intl.format(share));
      }
    }
  });

  it('leaves shares outside 0..1 to Intl', () => {
    for (const share of [-0.5, -0, 1.5, 12.345, NaN]) {
      expect(plainPercent(share)).toBeUndefined();
      const intl = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 });
      expect(createTranslator('en').percent(share)).toBe(intl.format(share));
    }
  });

  it('writes days as Intl.DateTimeFormat does, in every month', () => {
    for (const locale of LOCALES) {
      const intl = new Intl.DateTimeFormat(locale, {
        timeZone: 'UTC',
        year: 'numeric',
        month: 'short',
        day: 'numeric',
      });
      const t = createTranslator(locale, 'Asia/Tokyo');
      for (let day = Date.UTC(2023, 0, 1); day < Date.UTC(2025, 0, 1); day += 86_400_000) {
        const text = new Date(day).toISOString().slice(0, 10);
        expect(plainDay(locale, day)).toBe(intl.format(day));
        expect(t.day(text)).toBe(intl.format(day));
      }
      for (const text of ['1000-01-01', '9999-12-31', '0999-06-15', '2024-02-30', 'not a day'])
        expect(t.day(text)).toBe(
          Number.isNaN(Date.parse(`${text}T00:00:00Z`)) ? text : intl.format(Date.parse(`${text}T00:00:00Z`)),
        );
    }
  });

  it('still writes times in the configured zone', () => {
    const t = createTranslator('en', 'Asia/Tokyo');
    expect(t.dateTime('2024-03-01T23:30:00Z')).toBe(
      new Intl.DateTimeFormat('en', {
        timeZone: 'Asia/Tokyo',
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZoneName: 'short',
      }).format(Date.parse('2024-03-01T23:30:00Z')),
    );
    expect(t.dateTime('2024-03-01T23:30:00Z')).toContain('Mar 2, 2024');
  });
});
