// LOCALE and TZ read alone (for `ask help`) follow the rules of the full schema: the same values
// are accepted, the same ones refused, naming the same setting.

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { loadPresentationSettings } from '../src/config-presentation.ts';

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
  ])('agrees with loadConfig on %o', (env) => {
    expect(outcome(() => loadPresentationSettings(env))).toBe(outcome(() => loadConfig(env)));
  });

  it('reads no other setting', () => {
    expect(loadPresentationSettings({ DMARC_STORE: 'mysql://x', LOCALE: 'ja' })).toEqual({ LOCALE: 'ja', TZ: 'UTC' });
    expect(() => loadConfig({ DMARC_STORE: 'mysql://x', LOCALE: 'ja' })).toThrow(ConfigError);
  });

  it('names the setting and the value it refuses', () => {
    expect(() => loadPresentationSettings({ LOCALE: 'de' })).toThrow('configuration: LOCALE: en or ja (got "de")');
  });
});
