import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('runs on the embedded defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config.DMARC_STORE).toBe('sqlite://./data/dmarc.sqlite');
    expect(config.RETENTION_DAYS).toBe(400);
    expect(config.IMAP_TLS).toBe('tls');
    expect(config.DIGEST_TIME).toBe('09:00');
    expect(config.ALLOWED_USERS).toEqual([]);
  });

  it('treats empty settings from .env as unset', () => {
    expect(loadConfig({ IMAP_PORT: '', RETENTION_DAYS: '' }).RETENTION_DAYS).toBe(400);
  });

  it.each([
    ['IMAP_PORT', 'abc'],
    ['IMAP_TLS', 'ssl'],
    ['DIGEST_TIME', '9am'],
    ['DMARC_STORE', 'mysql://x'],
    ['READY_REJECT_PASS_RATE', '99'],
    ['ALERT_PASS_RATE_DROP', '10'],
    ['ALERT_DAILY_CAP', '-1'],
    ['LOCALE', 'de'],
  ])('refuses %s=%s with one line that names the setting and the value', (setting, value) => {
    let error: unknown;
    try {
      loadConfig({ [setting]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(setting);
    expect(message).toContain(value);
    expect(message).not.toContain('\n');
  });

  it('splits ID lists', () => {
    expect(loadConfig({ ALLOWED_CHANNELS: 'C1, C2,,' }).ALLOWED_CHANNELS).toEqual(['C1', 'C2']);
  });

  it('documents every setting in .env.example with a comment line above it', () => {
    const lines = readFileSync(new URL('../.env.example', import.meta.url), 'utf8').split('\n');
    const documented = new Map<string, string>();
    lines.forEach((line, index) => {
      const match = /^([A-Z][A-Z0-9_]*)=/.exec(line);
      if (match) documented.set(match[1]!, lines[index - 1] ?? '');
    });
    const settings = Object.keys(configSchema.shape).sort();
    expect([...documented.keys()].sort()).toEqual(settings);
    for (const [setting, above] of documented) expect(above.startsWith('# '), setting).toBe(true);
  });

  it('the example file itself is a valid configuration', () => {
    const env = Object.fromEntries(
      readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z]/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(() => loadConfig(env)).not.toThrow();
  });
});
