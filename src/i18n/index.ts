// The message catalog and the locale's formatting (numbers, percentages, days, times in TZ).
// Every string a user reads goes through a Translator.

import type { Hint } from '../insight/types.ts';
import { en, type MessageKey } from './en.ts';
import { ja } from './ja.ts';

export type Locale = 'en' | 'ja';
export type { MessageKey };
export type MessageParams = Record<string, string | number | null | undefined>;

export const catalogs: Record<Locale, Record<MessageKey, string>> = { en, ja };

export interface Translator {
  locale: Locale;
  timeZone: string;
  /** a message with its {placeholders} filled; numbers are formatted for the locale */
  t(key: MessageKey, params?: MessageParams): string;
  number(value: number): string;
  /** a share 0..1 as a percentage, at most one decimal */
  percent(share: number): string;
  /** a UTC day (YYYY-MM-DD) in the locale's short date form */
  day(day: string): string;
  /** an instant (ISO) in the configured time zone */
  dateTime(iso: string): string;
  /** a fix hint or next step in words */
  hint(hint: Hint): string;
}

/**
 * Intl.NumberFormat's text of a whole number in en and ja (digits in groups of three), or undefined
 * for any other number. The first Intl formatter of a process costs 20-40 ms (ICU's data), and a
 * terminal answer often formats nothing but counts and shares.
 */
export function plainInteger(value: number): string | undefined {
  if (!Number.isSafeInteger(value) || value < 0 || Object.is(value, -0)) return undefined;
  const digits = String(value);
  if (digits.length <= 3) return digits;
  let text = digits.slice(0, digits.length % 3 || 3);
  for (let at = text.length; at < digits.length; at += 3) text += ',' + digits.slice(at, at + 3);
  return text;
}

/**
 * Intl's percentage of a share in [0, 1] with at most one decimal, in en and ja, or undefined when
 * the share is outside [0, 1] or so near half a tenth of a percent that only Intl's own decimal
 * rounding may decide it (away from those ties every rounding gives the nearest tenth).
 */
export function plainPercent(share: number): string | undefined {
  if (!(share >= 0 && share <= 1) || Object.is(share, -0)) return undefined;
  const tenths = share * 1000;
  if (Math.abs(tenths - Math.floor(tenths) - 0.5) < 1e-6) return undefined;
  const rounded = Math.round(tenths);
  const whole = Math.floor(rounded / 10);
  return rounded % 10 === 0 ? `${whole}%` : `${whole}.${rounded % 10}%`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Intl's short date (year, short month, day, in UTC) of an instant in en and ja, or undefined
 * outside the years 1000-9999 or for another locale.
 */
export function plainDay(locale: string, time: number): string | undefined {
  const date = new Date(time);
  const year = date.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return undefined;
  const month = date.getUTCMonth();
  const day = date.getUTCDate();
  if (locale === 'en') return `${MONTHS[month]} ${day}, ${year}`;
  if (locale === 'ja') return `${year}年${month + 1}月${day}日`;
  return undefined;
}

/** The locales whose numbers plainInteger and plainPercent write as Intl does. */
const PLAIN_NUMBERS: ReadonlySet<string> = new Set<Locale>(['en', 'ja']);

/** A value made on first use (the Intl formatters: most answers use few of them, many none). */
function onFirstUse<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

export function createTranslator(locale: Locale = 'en', timeZone = 'UTC'): Translator {
  const catalog = catalogs[locale] ?? en;
  const plain = PLAIN_NUMBERS.has(locale);
  const numberFormat = onFirstUse(() => new Intl.NumberFormat(locale));
  const percentFormat = onFirstUse(() => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }));
  const days = onFirstUse(
    () => new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' }),
  );
  const times = onFirstUse(
    () =>
      new Intl.DateTimeFormat(locale, {
        timeZone,
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZoneName: 'short',
      }),
  );
  const numbers = {
    format: (value: number) => (plain ? plainInteger(value) : undefined) ?? numberFormat().format(value),
  };
  const percents = {
    format: (share: number) => (plain ? plainPercent(share) : undefined) ?? percentFormat().format(share),
  };

  // {name} fills a value; {name|one|other} fills a number followed by its English plural form.
  const fill = (template: string, params: MessageParams = {}) =>
    template.replace(/\{(\w+)(?:\|([^|}]*)\|([^}]*))?\}/g, (whole, name: string, one?: string, other?: string) => {
      const value = params[name];
      if (value === undefined || value === null) return whole;
      const text = typeof value === 'number' ? numbers.format(value) : value;
      if (one === undefined || other === undefined) return text;
      return `${text} ${Number(value) === 1 ? one : other}`;
    });

  const translator: Translator = {
    locale,
    timeZone,
    t: (key, params) => fill(catalog[key] ?? en[key] ?? key, params),
    number: (value) => numbers.format(value),
    percent: (share) => percents.format(share),
    day: (day) => {
      const time = Date.parse(`${day}T00:00:00Z`);
      return Number.isNaN(time) ? day : (plainDay(locale, time) ?? days().format(time));
    },
    dateTime: (iso) => {
      const time = Date.parse(iso);
      return Number.isNaN(time) ? iso : times().format(time);
    },
    hint: (hint) => {
      const key = `hint.${hint.code}` as MessageKey;
      if (!(key in catalog)) return fill(catalog['hint.unknown'], { code: hint.code });
      const params: MessageParams = { ...hint.params };
      if (hint.code === 'fix-blocker' && typeof hint.params.fix === 'string') {
        const fixKey = `fix.${hint.params.fix}` as MessageKey;
        params.fix = fixKey in catalog ? catalog[fixKey] : hint.params.fix;
      }
      return fill(catalog[key], params);
    },
  };
  return translator;
}
