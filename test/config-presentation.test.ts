// LOCALE and TZ read alone (for `ask help`) follow the rules of the full schema: the same values
// are accepted, the same ones refused, naming the same setting.

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { isTimeZone, loadPresentationSettings } from '../src/config-presentation.ts';

function outcome(read: () => { LOCALE: string; TZ: string }): string {
  try {
    const { LOCALE, TZ } = read();
    return `ok ${LOCALE} ${TZ}`;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return `refused ${(error as ConfigError).setting}`;
  }
}

describe('loadPresentationSettings', () => {
  it.each([
    {},
    { LOCALE: 'ja' },
    { LOCALE: '' },
    { LOCALE: '  ' },
    { LOCALE: 'de' },
    { LOCALE: 'JA' },
    { LOCALE: ' ja' },
    { TZ: 'Asia/Tokyo' },
    { TZ: '' },
    { TZ: 'Mars/Phobos' },
    { TZ: 'Europe/Berlinn' },
    { LOCALE: 'ja', TZ: 'Europe/Berlin' },
    { TZ: 'UTC' },
    { TZ: 'utc' },
    { TZ: ' UTC' },
    { TZ: 'UTC+1' },
  ])('agrees with loadConfig on %o', (env) => {
    expect(outcome(() => loadPresentationSettings(env))).toBe(outcome(() => loadConfig(env)));
  });

  it('reads no other setting', () => {
    expect(loadPresentationSettings({ DMARC_STORE: 'mysql://x', LOCALE: 'ja' })).toEqual({ LOCALE: 'ja', TZ: 'UTC' });
    expect(() => loadConfig({ DMARC_STORE: 'mysql://x', LOCALE: 'ja' })).toThrow(ConfigError);
  });

  it('knows a time zone as Intl does, UTC (taken without asking Intl) included', () => {
    for (const zone of ['UTC', 'utc', 'Etc/UTC', 'Asia/Tokyo', 'Mars/Phobos', 'UTC ', '']) {
      let known = true;
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
      } catch {
        known = false;
      }
      expect(isTimeZone(zone), zone).toBe(known);
    }
  });

  it('names the setting and the value it refuses', () => {
    expect(() => loadPresentationSettings({ LOCALE: 'de' })).toThrow('configuration: LOCALE: en or ja (got "de")');
  });
});
