// Every malformed setting stops the program at configuration time with one line that names it and
// says what is expected; combinations that are only wrong together are refused too.

import { describe, expect, it } from 'vitest';
import { ConfigError, EXIT_CONFIG, isLoopbackHost, isResolverAddress, loadConfig } from '../src/config.ts';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('strict settings', () => {
  it.each([
    [{ TZ: 'Mars/Phobos' }, 'TZ', 'an IANA time zone'],
    [{ TZ: 'Europe/Berlinn' }, 'TZ', 'an IANA time zone'],
    [{ DNS_SERVERS: 'garbage' }, 'DNS_SERVERS', 'resolver IP addresses'],
    [{ DNS_SERVERS: '192.0.2.53,dns.example' }, 'DNS_SERVERS', 'resolver IP addresses'],
    [{ DNS_SERVERS: '192.0.2.53:99999' }, 'DNS_SERVERS', 'resolver IP addresses'],
    [{ DNS_SERVERS: '192.0.2.53:' }, 'DNS_SERVERS', 'resolver IP addresses'],
    [{ SLACK_API_URL: 'slack.com/api' }, 'SLACK_API_URL', 'an http:// or https:// URL'],
    [{ DISCORD_API_URL: 'ftp://discord.example/api' }, 'DISCORD_API_URL', 'an http:// or https:// URL'],
    [{ DISCORD_WEBHOOK_URL: 'javascript:alert(1)' }, 'DISCORD_WEBHOOK_URL', 'an http:// or https:// URL'],
    [{ PORT: '0' }, 'PORT', 'a port number from 1 to 65535'],
    [{ PORT: '65536' }, 'PORT', 'a port number from 1 to 65535'],
    [{ IMAP_PORT: '143x' }, 'IMAP_PORT', 'a port number from 1 to 65535'],
    [{ METRICS_PORT: 'nine' }, 'METRICS_PORT', 'a port number from 1 to 65535'],
    [{ METRICS_HOST: 'every where' }, 'METRICS_HOST', 'a host name or IP address'],
    [{ IMAP_HOST: 'mail example.com' }, 'IMAP_HOST', 'a host name or IP address'],
    [{ STORE_CONNECT_TIMEOUT_MS: '0' }, 'STORE_CONNECT_TIMEOUT_MS', 'a whole number, at least 1'],
    [{ DNS_TIMEOUT_MS: '1.5' }, 'DNS_TIMEOUT_MS', 'a whole number'],
    [{ RETENTION_DAYS: '-3' }, 'RETENTION_DAYS', 'a whole number, at least 0'],
    [{ READY_QUARANTINE_PASS_RATE: '95%' }, 'READY_QUARANTINE_PASS_RATE', 'a fraction from 0 to 1'],
    [{ DMARC_DEMO: 'yes' }, 'DMARC_DEMO', '1, 0, true or false'],
    [{ IMAP_ALLOW_PLAINTEXT: 'yes' }, 'IMAP_ALLOW_PLAINTEXT', 'true or false'],
    [{ IMAP_TLS_REJECT_UNAUTHORIZED: 'no' }, 'IMAP_TLS_REJECT_UNAUTHORIZED', 'true or false'],
  ])('refuses %o with one line naming %s', (env, setting, expected) => {
    const message = refusal(env);
    expect(message.startsWith(`configuration: ${setting}: `)).toBe(true);
    if (expected) expect(message).toContain(expected);
    expect(message).toContain(`(got "${Object.values(env)[0]}")`);
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/Invalid input|expected number|received/);
  });

  it('accepts real zones, resolver addresses with ports and http(s) URLs', () => {
    const config = loadConfig({
      TZ: 'Asia/Tokyo',
      DNS_SERVERS: '192.0.2.53, 192.0.2.54:5353, 2001:db8::53, [2001:db8::54]:53',
      SLACK_API_URL: 'http://127.0.0.1:8080/api/',
      METRICS_PORT: '9464',
      DMARC_DEMO: '0',
    });
    expect(config.TZ).toBe('Asia/Tokyo');
    expect(config.DNS_SERVERS).toEqual(['192.0.2.53', '192.0.2.54:5353', '2001:db8::53', '[2001:db8::54]:53']);
    expect(config.METRICS_PORT).toBe(9464);
    expect(config.METRICS_HOST).toBe('127.0.0.1');
    expect(config.STORE_CONNECT_TIMEOUT_MS).toBe(5000);
    expect(config.DMARC_DEMO).toBe('0');
  });

  it('refuses IMAP_TLS=off toward a remote host unless plain text is allowed explicitly', () => {
    const remote = { IMAP_HOST: 'mail.example.com', IMAP_USER: 'dmarc', IMAP_TLS: 'off' };
    const message = refusal(remote);
    expect(message).toMatch(/^configuration: IMAP_TLS: off sends the password in plain text to mail\.example\.com/);
    expect(message).toContain('IMAP_ALLOW_PLAINTEXT=true');
    expect(message).not.toContain('\n');
    expect(loadConfig({ ...remote, IMAP_ALLOW_PLAINTEXT: 'true' }).IMAP_TLS).toBe('off');
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]'])
      expect(loadConfig({ ...remote, IMAP_HOST: host }).IMAP_HOST).toBe(host);
    expect(loadConfig({ ...remote, IMAP_TLS: 'starttls' }).IMAP_TLS).toBe('starttls');
  });

  it('tells loopback from remote and resolver addresses from names', () => {
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
    expect(isLoopbackHost('::2')).toBe(false);
    expect(isResolverAddress('[192.0.2.1]:53')).toBe(false);
    expect(isResolverAddress('192.0.2.1:0')).toBe(false);
    expect(isResolverAddress('256.0.0.1')).toBe(false);
    expect(isResolverAddress('[::1]:53')).toBe(true);
  });
});

describe('dmarc-bot start with a bad setting', () => {
  it.each([
    ['TZ', 'Mars/Phobos'],
    ['DNS_SERVERS', 'garbage'],
    ['METRICS_PORT', '99999'],
  ])('%s=%s: one line naming it, and the configuration exit status', async (setting, value) => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-config-'));
    const child = spawn(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'start'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, DMARC_DEMO: '0', [setting]: value },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^configuration: ${setting}: `))]);
  });
});
