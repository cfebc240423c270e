// The two settings that shape what a user reads (LOCALE, TZ), with their rules and the error every
// bad setting throws. The full schema in config.ts uses these same rules; this module loads no
// schema library, so commands that need nothing else (`ask help`) start without one.

/** The catalogs LOCALE may name. */
export const LOCALES = ['en', 'ja'] as const;
export type LocaleSetting = (typeof LOCALES)[number];
export const LOCALE_EXPECTED = 'en or ja';
export const TIME_ZONE_EXPECTED = 'an IANA time zone such as Europe/Berlin or UTC';
export const PRESENTATION_DEFAULTS = { LOCALE: 'en', TZ: 'UTC' } as const;

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly expected: string,
  ) {
    super(`configuration: ${setting}: ${expected}`);
    this.name = 'ConfigError';
  }
}

/**
 * True when Intl knows the zone; an unknown one would only fail later, at the first date shown.
 * The default, UTC, is known without asking: Intl's first date formatter of a process costs
 * 20-40 ms, which a command that shows no date would pay for this check alone.
 */
export function isTimeZone(value: string): boolean {
  if (value === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export function isLocale(value: string): value is LocaleSetting {
  return (LOCALES as readonly string[]).includes(value);
}

export interface PresentationSettings {
  LOCALE: LocaleSetting;
  TZ: string;
}

/**
 * LOCALE and TZ alone, validated as loadConfig validates them (an empty value is unset); throws a
 * ConfigError naming the bad one. The other settings are not read.
 */
export function loadPresentationSettings(env: NodeJS.ProcessEnv = process.env): PresentationSettings {
  const given = (name: string) => (env[name]?.trim() === '' ? undefined : env[name]);
  const locale = given('LOCALE') ?? PRESENTATION_DEFAULTS.LOCALE;
  if (!isLocale(locale)) throw new ConfigError('LOCALE', `${LOCALE_EXPECTED} (got "${locale}")`);
  const timeZone = given('TZ') ?? PRESENTATION_DEFAULTS.TZ;
  if (!isTimeZone(timeZone)) throw new ConfigError('TZ', `${TIME_ZONE_EXPECTED} (got "${timeZone}")`);
  return { LOCALE: locale, TZ: timeZone };
}
