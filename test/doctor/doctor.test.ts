import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/servers.ts';
import { loadConfig } from '../../src/config.ts';
import { realDoctorDeps } from '../../src/cli/doctor.ts';
import { formatCheck, runChecks, type CheckResult } from '../../src/doctor/checks.ts';
import { startDovecot, disposeDovecot, type DovecotServer } from '../support/dovecot.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';

const run = promisify(execFile);
const BOT_TOKEN = 'xoxb-111-222-doctorsecret';
const DISCORD_TOKEN = 'discord.doctor.secret-token';

let dir: string;
let dovecot: DovecotServer;
let slack: FakeSlack;
let discord: FakeDiscord;
let dns: DnsTestServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-doctor-'));
  [dovecot, slack, discord, dns] = await Promise.all([
    startDovecot(),
    startFakeSlack(),
    startFakeDiscord(),
    startDnsServer(),
  ]);
});
afterAll(async () => {
  await Promise.all([disposeDovecot(dovecot), slack.close(), discord.close(), dns.close()]);
  await rm(dir, { recursive: true, force: true });
});

function env(overrides: Record<string, string> = {}): Record<string, string> {
  const { user, password } = dovecot.user();
  return {
    DMARC_STORE: `sqlite://${join(dir, `store-${Math.random().toString(36).slice(2)}.sqlite`)}`,
    IMAP_HOST: '127.0.0.1',
    IMAP_PORT: String(dovecot.port),
    IMAP_USER: user,
    IMAP_PASSWORD: password,
    IMAP_TLS: 'off',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: 'signing-secret-doctor',
    SLACK_API_URL: slack.apiUrl,
    SLACK_DIGEST_CHANNEL: 'C0DIGEST',
    DISCORD_TOKEN,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_APPLICATION_ID: '900000000000000001',
    DISCORD_DIGEST_CHANNEL_ID: '700000000000000001',
    DNS_SERVERS: dns.address,
    DNS_TIMEOUT_MS: '500',
    ...overrides,
  };
}

const byPart = (results: CheckResult[], part: string) => results.filter((result) => result.part === part);

describe.skipIf(skipWithout('dovecot'))('dmarc-bot doctor', () => {
  it('passes every configured part when each works, one line per check', async () => {
    slack.failNext('conversations.info', {
      status: 200,
      body: { ok: true, channel: { id: 'C0DIGEST', name: 'dmarc', is_member: true } },
    });
    discord.failNext(/^\/users\/@me$/, { status: 200, body: { id: '900000000000000001', username: 'dmarc-bot' } });
    discord.failNext(/^\/channels\/700000000000000001$/, {
      status: 200,
      body: { id: '700000000000000001', name: 'mail-ops' },
    });
    dns.ptr('8.8.8.8', 'dns.google');
    const config = loadConfig(env());
    const results = await runChecks(config, realDoctorDeps(config));
    const failures = results.filter((result) => result.status === 'fail');
    expect(failures).toEqual([]);
    expect(byPart(results, 'store')[0]?.status).toBe('ok');
    expect(byPart(results, 'imap')[0]?.detail).toContain('logged in');
    expect(byPart(results, 'imap mailbox')[0]?.status).toBe('ok');
    // the processed/invalid folders do not exist in a fresh mailbox: a warning, not a failure
    expect(byPart(results, 'imap folder').map((result) => result.status)).toEqual(['warn', 'warn']);
    expect(byPart(results, 'slack channel')[0]?.detail).toContain('#dmarc');
    expect(byPart(results, 'discord channel')[0]?.detail).toContain('#mail-ops');
    expect(byPart(results, 'dns')[0]).toMatchObject({ status: 'ok' });
    expect(byPart(results, 'dns')[0]?.detail).toContain('dns.google');
    expect(byPart(results, 'dns resolver')).toEqual([
      { part: 'dns resolver', status: 'ok', detail: `${dns.address} answers` },
    ]);
    for (const result of results) expect(formatCheck(result)).not.toContain('\n');
  });

  it('names each broken part with a fix, and never prints a secret', async () => {
    slack.failNext('auth.test', { status: 200, body: { ok: false, error: 'invalid_auth' } });
    discord.failNext(/^\/users\/@me$/, { status: 401, body: { message: '401: Unauthorized', code: 0 } });
    dns.silent = true;
    // a store path below a regular file can never be created
    await writeFile(join(dir, 'not-a-folder'), 'x');
    const config = loadConfig(
      env({ IMAP_PASSWORD: 'wrong-password-doctor', DMARC_STORE: `sqlite://${join(dir, 'not-a-folder', 'x.sqlite')}` }),
    );
    const results = await runChecks(config, realDoctorDeps(config));
    dns.silent = false;
    const store = byPart(results, 'store')[0]!;
    expect(store.status).toBe('fail');
    expect(store.fix).toMatch(/writable/);
    const imap = byPart(results, 'imap')[0]!;
    expect(imap.status).toBe('fail');
    expect(imap.fix).toMatch(/IMAP_USER and IMAP_PASSWORD/);
    const slackCheck = byPart(results, 'slack')[0]!;
    expect(slackCheck).toMatchObject({ status: 'fail' });
    expect(slackCheck.detail).toContain('invalid_auth');
    expect(slackCheck.fix).toMatch(/SLACK_BOT_TOKEN/);
    const discordCheck = byPart(results, 'discord')[0]!;
    expect(discordCheck.status).toBe('fail');
    expect(discordCheck.fix).toMatch(/DISCORD_TOKEN/);
    expect(byPart(results, 'dns')[0]?.status).toBe('warn');
    expect(byPart(results, 'dns resolver')[0]).toMatchObject({ status: 'warn' });
    expect(byPart(results, 'dns resolver')[0]?.detail).toMatch(/did not answer within 500 ms \(ETIMEOUT\)/);
    const printed = results.map(formatCheck).join('\n');
    for (const secret of [BOT_TOKEN, DISCORD_TOKEN, 'wrong-password-doctor', 'signing-secret-doctor'])
      expect(printed).not.toContain(secret);
  });

  it('tells a Slack bot that is not in the digest channel how to invite it', async () => {
    slack.failNext('conversations.info', {
      status: 200,
      body: { ok: true, channel: { id: 'C0DIGEST', name: 'dmarc', is_member: false } },
    });
    const config = loadConfig(env({ DISCORD_TOKEN: '', DISCORD_API_URL: '', IMAP_HOST: '' }));
    const results = await runChecks(config, realDoctorDeps(config));
    const channel = byPart(results, 'slack channel')[0]!;
    expect(channel.status).toBe('fail');
    expect(channel.fix).toContain('/invite');
    expect(byPart(results, 'imap')[0]?.status).toBe('skip');
    expect(byPart(results, 'discord')[0]?.status).toBe('skip');
  });

  it('runs as a command: exit 1 with FAIL lines for a broken setup, 0 when all works', async () => {
    const base = { PATH: process.env.PATH ?? '', HOME: dir, LOG_LEVEL: 'silent' };
    const broken = await run(process.execPath, ['src/bin.mjs', 'doctor'], {
      env: {
        ...base,
        ...env({ IMAP_PASSWORD: 'nope-doctor', SLACK_BOT_TOKEN: '', DISCORD_TOKEN: '', DNS_TIMEOUT_MS: '200' }),
      },
      cwd: process.cwd(),
    }).catch((error: { code: number; stdout: string }) => error);
    expect('code' in broken ? broken.code : 0).toBe(1);
    expect(broken.stdout).toMatch(/^FAIL\s+imap\s+.*fix: check IMAP_USER and IMAP_PASSWORD/m);
    expect(broken.stdout).toMatch(/^ok\s+store\s/m);
    expect(broken.stdout).not.toContain('nope-doctor');

    const bad = await run(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'doctor'], {
      env: { ...base, IMAP_TLS: 'ssl' },
      cwd: dir,
    }).catch((error: { code: number; stdout: string }) => error);
    expect(bad.stdout).toMatch(/^FAIL\s+configuration\s+IMAP_TLS/m);

    const good = await run(process.execPath, ['src/bin.mjs', 'doctor'], {
      env: { ...base, ...env({ SLACK_BOT_TOKEN: '', DISCORD_TOKEN: '', DNS_TIMEOUT_MS: '200' }) },
      cwd: process.cwd(),
    });
    expect(good.stdout).toContain('all configured parts work');
  });
});
