// The whole bot in-process (startBot) against the Slack and Discord stand-ins, a real SQLite store,
// the real command dispatcher and digest: what a self-hoster sees on both platforms.
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/index.ts';
import { startBot, type RunningBot } from '../../src/cli/start.ts';
import { createDiscordBot } from '../../src/chat/discord/bot.ts';
import { createCommandContext } from '../../src/context.ts';
import { answer } from '../../src/command-kit/dispatch.ts';
import { commandRegistry } from '../../src/command-kit/registry.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';
import { freePort } from '../support/ports.ts';

function record(ip: string, count: number, dmarc: 'pass' | 'fail'): AggregateRecord {
  return {
    sourceIp: ip,
    count,
    disposition: 'none',
    evaluated: { dkim: dmarc, spf: dmarc },
    dmarc,
    identifiers: { headerFrom: 'example.com', envelopeFrom: null, envelopeTo: null },
    reasons: [],
    authResults: { dkim: [], spf: [] },
    alignment: { dkim: dmarc === 'pass', spf: false },
  };
}

function report(day: string, id: string): AggregateReport {
  return {
    kind: 'aggregate',
    orgName: 'google.com',
    orgEmail: null,
    reportId: id,
    begin: `${day}T00:00:00Z`,
    end: `${day}T23:59:59Z`,
    policy: {
      domain: 'example.com',
      p: 'none',
      sp: null,
      np: null,
      pct: null,
      adkim: null,
      aspf: null,
      fo: null,
      testing: null,
    },
    records: [record('192.0.2.1', 37, 'pass'), record('203.0.113.9', 3, 'fail')],
    errors: [],
  };
}

const signingSecret = 'e2e-signing-secret';

describe('the bot on Slack and Discord at once (stand-ins, real store and commands)', () => {
  let dir: string;
  let store: ReportStore;
  let slack: FakeSlack;
  let discord: FakeDiscord;
  let bot: RunningBot;
  let port: number;
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmarc-e2e-'));
    store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    await store.ingest(report(yesterday, 'e2e-1'), 'test');
    await store.flush();
    slack = await startFakeSlack();
    discord = await startFakeDiscord();
    port = await freePort();
    const config = loadConfig({
      DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
      SLACK_BOT_TOKEN: 'xoxb-e2e',
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_DIGEST_CHANNEL: 'C0DIGEST',
      PORT: String(port),
      DISCORD_WEBHOOK_URL: 'https://discord.com/api/webhooks/111111111111111111/e2e-webhook-token',
      DISCORD_API_URL: discord.apiUrl,
      TZ: 'UTC',
      DNS_SERVERS: '127.0.0.1:9',
      DNS_TIMEOUT_MS: '200',
    });
    bot = await startBot({ config, log: silentLogger, store });
  });
  afterAll(async () => {
    await bot?.stop();
    await store?.close();
    await slack?.close();
    await discord?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('posts the first digest to the Slack channel and the Discord webhook, once', async () => {
    expect(bot.platforms).toEqual(['slack', 'discord']);
    expect(bot.destinations.map((d) => d.id)).toEqual(['slack:C0DIGEST', 'discord-webhook']);
    await slack.waitFor((calls) => calls.some((call) => call.path.endsWith('chat.postMessage')));
    await discord.waitFor((calls) => calls.some((call) => call.path.startsWith('/webhooks/111111111111111111/')));
    const [post] = slack.callsTo('chat.postMessage');
    expect(post!.body.channel).toBe('C0DIGEST');
    expect(JSON.stringify(post!.body.blocks)).toContain('example.com');
    const [hook] = discord.callsTo('POST', /^\/webhooks\/111111111111111111\/e2e-webhook-token$/);
    expect(JSON.stringify(hook!.body.embeds)).toContain('example.com');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    // both marked sent: a schedule pass now finds nothing due
    expect(await store.getState('digest:slack:C0DIGEST')).toBeTruthy();
    expect(await store.getState('digest:discord-webhook')).toBeTruthy();
  });

  it('answers a signed /dmarc ip from the store', async () => {
    const body = new URLSearchParams({
      command: '/dmarc',
      text: 'ip 192.0.2.1',
      user_id: 'U1',
      user_name: 'alice',
      channel_id: 'C1',
      team_id: 'T1',
      response_url: slack.responseUrl('e2e'),
      trigger_id: 't',
    }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await fetch(`http://127.0.0.1:${port}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature':
          'v0=' + createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex'),
      },
      body,
    });
    expect(response.status).toBe(200);
    await slack.waitFor((calls) => calls.some((call) => call.path === '/response/e2e'));
    const answerBody = slack.callsTo('/response/e2e')[0]!.body;
    expect(String(answerBody.text)).toContain('192.0.2.1');
    expect(JSON.stringify(answerBody.blocks)).toMatch(/\b37\b/);
  });

  it('answers a Discord interaction through the real registry and dispatcher', async () => {
    const discordBot = createDiscordBot({
      token: 'discord-e2e-token',
      apiUrl: discord.apiUrl,
      registry: commandRegistry,
      answer: (line, requester) =>
        answer(line, createCommandContext({ config: loadConfig({ TZ: 'UTC' }), store, requester, dns: false })),
      // a DM interaction: answered only for allowed users
      access: { allowedChannels: [], allowedUsers: ['710000000000000001'] },
    });
    try {
      (
        discordBot.client as unknown as { actions: { InteractionCreate: { handle(data: unknown): void } } }
      ).actions.InteractionCreate.handle({
        id: '510000000000000001',
        application_id: '410000000000000001',
        type: 2,
        token: 'e2e-interaction',
        version: 1,
        channel_id: '610000000000000001',
        locale: 'en-US',
        app_permissions: '0',
        entitlements: [],
        authorizing_integration_owners: { '1': '710000000000000001' },
        context: 1,
        user: { id: '710000000000000001', username: 'bob', discriminator: '0', global_name: null, avatar: null },
        data: {
          id: '460000000000000001',
          name: 'dmarc',
          type: 1,
          options: [
            {
              type: 1,
              name: 'ip',
              options: [
                { type: 3, name: 'address', value: '192.0.2.1' },
                { type: 4, name: 'days', value: 7 },
              ],
            },
          ],
        },
      });
      await discord.waitFor((calls) =>
        calls.some((call) => call.method === 'PATCH' && call.path.includes('e2e-interaction')),
      );
      const edit = discord.calls.find((call) => call.method === 'PATCH' && call.path.includes('e2e-interaction'))!;
      expect(edit.body.embeds[0].title).toContain('192.0.2.1');
      expect(JSON.stringify(edit.body.embeds)).toMatch(/\b37\b/);
    } finally {
      await discordBot.stop();
    }
  });
});
