// The store driver registry: which URLs it accepts, and that the config schema asks it.

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { storeDriverFor, storeDrivers, storeUrlForms } from '../../src/store/drivers.ts';

describe('store drivers', () => {
  it('finds the driver of each scheme, in any case', () => {
    expect(storeDriverFor('sqlite://./data/x.sqlite')?.kind).toBe('sqlite');
    expect(storeDriverFor('redis://127.0.0.1:6379')?.kind).toBe('redis');
    expect(storeDriverFor('rediss://cache.example:6380')?.kind).toBe('redis');
    expect(storeDriverFor('postgres://u@db/dmarc')?.kind).toBe('postgres');
    expect(storeDriverFor('PostgreSQL://u@db/dmarc')?.kind).toBe('postgres');
  });

  it('knows no other scheme, nor a URL without "://"', () => {
    expect(storeDriverFor('mysql://db/dmarc')).toBeUndefined();
    expect(storeDriverFor('sqlite:data.sqlite')).toBeUndefined();
    expect(storeDriverFor('./data/dmarc.sqlite')).toBeUndefined();
  });

  it('gives one scheme to one driver only', () => {
    const schemes = storeDrivers.flatMap((driver) => driver.schemes);
    expect(new Set(schemes).size).toBe(schemes.length);
  });

  it('is what the config schema accepts, and its message lists every driver', () => {
    for (const url of ['sqlite://./d.sqlite', 'redis://127.0.0.1:1', 'postgresql://u@h/db'])
      expect(loadConfig({ DMARC_STORE: url }).DMARC_STORE).toBe(url);
    expect(storeUrlForms()).toBe('sqlite://PATH, redis://HOST:PORT or postgres://USER@HOST/DB');
    expect(() => loadConfig({ DMARC_STORE: 'mysql://db/dmarc' })).toThrow(ConfigError);
    expect(() => loadConfig({ DMARC_STORE: 'mysql://db/dmarc' })).toThrow(storeUrlForms());
  });
});
