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

export function createTranslator(locale: Locale = 'en', timeZone = 'UTC'): Translator {
  const catalog = catalogs[locale] ?? en;
  const numbers = new Intl.NumberFormat(locale);
  const percents = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  const days = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' });
  const times = new Intl.DateTimeFormat(locale, {
    timeZone,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  });

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
      return Number.isNaN(time) ? day : days.format(time);
    },
    dateTime: (iso) => {
      const time = Date.parse(iso);
      return Number.isNaN(time) ? iso : times.format(time);
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
