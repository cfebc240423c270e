// Mine / Spoof / Details on alerts: a click is verified like a command, records the mark with who
// clicked (real dispatcher, real SQLite store) and updates the message on the platform stand-in.
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { createCommandContext } from '../../src/context.ts';
import { answer as dispatch } from '../../src/command-kit/dispatch.ts';
import { withAdminGate } from '../../src/chat/access.ts';
import type { AnswerFn } from '../../src/chat/answer.ts';
import { createSlackBot, type SlackBot } from '../../src/chat/slack/app.ts';
import { createDiscordBot, type DiscordBot } from '../../src/chat/discord/bot.ts';
import { commandRegistry } from '../../src/command-kit/registry.ts';
import { renderSlack } from '../../src/render/slack.ts';
import { renderDiscord } from '../../src/render/discord.ts';
import { alertReply } from '../../src/alerts/render.ts';
import type { AlertFinding } from '../../src/alerts/detect.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { FAKE_BOT_USER, startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';

const signingSecret = 'buttons-signing-secret';
const finding: AlertFinding = {
  kind: 'new-failing-source',
  domain: 'example.com',
  ip: '203.0.113.7',
  failing: 40,
  messages: 40,
  baselinePerDay: 0,
  reporter: 'google.com',
  begin: '2026-06-10T00:00:00Z',
  end: '2026-06-10T23:59:59Z',
  mark: null,
  class: 'unconfirmed',
  headerFrom: ['example.com'],
};

let dir: string;
let store: ReportStore;
let answer: AnswerFn;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-buttons-'));
  store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
  const config = loadConfig({ DNS_SERVERS: '127.0.0.1:1', DNS_TIMEOUT_MS: '50' });
  answer = withAdminGate(
    (line, requester) => dispatch(line, createCommandContext({ config, store, requester, dns: false })),
    ['U0ADMIN', '700000000000000001'],
  );
});
afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  for (const subject of Object.keys(await store.marks())) await store.clearMark(subject);
});

describe('Slack buttons (signed block_actions against the Bolt HTTP receiver)', () => {
  let fake: FakeSlack;
  let bot: SlackBot;
  let port: number;
  beforeAll(async () => {
    fake = await startFakeSlack();
    bot = createSlackBot({
      botToken: 'xoxb-buttons',
      signingSecret,
      port: 0,
      apiUrl: fake.apiUrl,
      digestChannel: 'C0ALERTS',
      answer: (line, requester) => answer(line, requester),
      access: { allowedChannels: ['C0ALERTS'], allowedUsers: [] },
      retry: { sleep: async () => undefined },
    });
    ({ port } = (await bot.start()) as { port: number });
  });
  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
  });
  beforeEach(() => void (fake.calls.length = 0));

  function clickBody(actionId: string, user: string, channel = 'C0ALERTS') {
    const message = { ts: '1781000000.000100', ...renderSlack(alertReply(finding)) };
    const payload = {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0001' },
      api_app_id: 'A0001',
      token: 'legacy',
      container: { type: 'message', message_ts: message.ts, channel_id: channel, is_ephemeral: false },
      trigger_id: '1.2.3',
      team: { id: 'T0001', domain: 'example' },
      channel: { id: channel, name: 'alerts' },
      message,
      response_url: fake.responseUrl(),
      actions: [
        {
          type: 'button',
          action_id: actionId,
          block_id: `dmarc_choice:${finding.ip}`,
          value: finding.ip,
          action_ts: '1781000001.000200',
          text: { type: 'plain_text', text: 'x' },
        },
      ],
    };
    return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  }

  async function click(body: string, secret = signingSecret) {
    const timestamp = Math.floor(Date.now() / 1000);
    return fetch(`http://127.0.0.1:${port}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex'),
      },
      body,
    });
  }

  it('the alert carries Mine / Spoof / Details buttons for its source', () => {
    const actions = renderSlack(alertReply(finding)).blocks.find((block) => block.type === 'actions')!;
    expect(actions.block_id).toBe('dmarc_choice:203.0.113.7');
    expect((actions.elements as Array<{ action_id: string }>).map((e) => e.action_id)).toEqual([
      'dmarc_mine',
      'dmarc_spoof',
      'dmarc_details',
    ]);
  });

  it('a signed Spoof click marks the source with who clicked and updates the message', async () => {
    expect((await click(clickBody('dmarc_spoof', 'U0ADMIN'))).status).toBe(200);
    await fake.waitFor((calls) => calls.some((call) => call.path.endsWith('chat.update')));
    const mark = (await store.marks())['203.0.113.7'];
    expect(mark).toMatchObject({ subject: '203.0.113.7', verdict: 'spoof', by: 'slack:u0admin' });
    const [update] = fake.callsTo('chat.update');
    expect(update!.body.channel).toBe('C0ALERTS');
    expect(update!.body.ts).toBe('1781000000.000100');
    const blocks = update!.body.blocks as Array<Record<string, any>>;
    expect(blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(JSON.stringify(blocks)).toContain('203.0.113.7 marked *spoof* by <@U0ADMIN>');
  });

  it('a badly signed click is refused before anything runs', async () => {
    expect((await click(clickBody('dmarc_mine', 'U0ADMIN'), 'wrong-secret')).status).toBe(401);
    expect(await store.marks()).toEqual({});
  });

  it('a click from outside ALLOWED_CHANNELS, or by someone not in ADMIN_USERS, marks nothing', async () => {
    await click(clickBody('dmarc_mine', 'U0ADMIN', 'C0ELSEWHERE'));
    await click(clickBody('dmarc_mine', 'U0READER'));
    await fake.waitFor((calls) => calls.filter((call) => call.path.startsWith('/response/')).length >= 2);
    expect(await store.marks()).toEqual({});
    const texts = fake.callsTo('/response/').map((call) => String(call.body.text));
    expect(texts.some((text) => text.includes('only answers in certain channels'))).toBe(true);
    expect(texts.some((text) => text.includes('ADMIN_USERS'))).toBe(true);
    expect(fake.callsTo('chat.update')).toHaveLength(0);
  });

  it('Details answers with the ip command, privately, and changes nothing', async () => {
    await click(clickBody('dmarc_details', 'U0READER'));
    await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
    const [answerCall] = fake.callsTo('/response/');
    expect(answerCall!.body.response_type).toBe('ephemeral');
    expect(String(answerCall!.body.text)).toContain('203.0.113.7');
    expect(await store.marks()).toEqual({});
  });
});

describe('Discord buttons (raw INTERACTION_CREATE type 3 on a real discord.js Client)', () => {
  let fake: FakeDiscord;
  let bot: DiscordBot;
  beforeAll(async () => {
    fake = await startFakeDiscord();
    bot = createDiscordBot({
      token: 'discord-buttons-token.abc.def',
      apiUrl: fake.apiUrl,
      digestChannelId: '610000000000000009',
      registry: commandRegistry,
      answer: (line, requester) => answer(line, requester),
      access: { allowedChannels: [], allowedUsers: [] },
      retry: { sleep: async () => undefined },
    });
  });
  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
  });
  beforeEach(() => void (fake.calls.length = 0));

  let counter = 0;
  function buttonInteraction(customId: string, user = { id: '700000000000000001', username: 'alice' }) {
    const id = String(510000000000000000n + BigInt(++counter));
    const rendered = renderDiscord(alertReply(finding));
    return {
      id,
      application_id: '400000000000000001',
      type: 3,
      token: `button-token-${id}`,
      version: 1,
      channel_id: '610000000000000009',
      channel: { id: '610000000000000009', type: 0, name: 'alerts', guild_id: '300000000000000001' },
      guild_id: '300000000000000001',
      locale: 'en-US',
      guild_locale: 'en-US',
      app_permissions: '0',
      entitlements: [],
      authorizing_integration_owners: { '0': '300000000000000001' },
      context: 0,
      member: {
        user: { ...user, discriminator: '0', global_name: null, avatar: null },
        roles: [],
        permissions: '0',
        joined_at: '2026-01-01T00:00:00.000Z',
        deaf: false,
        mute: false,
        flags: 0,
      },
      data: { custom_id: customId, component_type: 2 },
      message: {
        id: '800000000000000077',
        type: 0,
        channel_id: '610000000000000009',
        content: '',
        embeds: rendered.embeds,
        components: rendered.components,
        author: FAKE_BOT_USER,
        attachments: [],
        mentions: [],
        mention_roles: [],
        mention_everyone: false,
        pinned: false,
        tts: false,
        timestamp: '2026-06-11T08:00:00.000Z',
        edited_timestamp: null,
        flags: 0,
      },
    };
  }

  function hand(raw: unknown) {
    (
      bot.client as unknown as { actions: { InteractionCreate: { handle(data: unknown): void } } }
    ).actions.InteractionCreate.handle(raw);
  }

  it('a Mine click marks the source with who clicked and updates the message (callback type 7)', async () => {
    hand(buttonInteraction('dmarc:mine:203.0.113.7'));
    await fake.waitFor((calls) => calls.some((call) => /\/callback$/.test(call.path)));
    const [callback] = fake.callsTo('POST', /^\/interactions\/\d+\/[^/]+\/callback$/);
    expect(callback!.body.type).toBe(7);
    const rows = callback!.body.data.components as Array<{ components: Array<{ label: string; disabled?: boolean }> }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.components).toEqual([
      expect.objectContaining({ label: '203.0.113.7 marked mine by @alice', disabled: true }),
    ]);
    await expect
      .poll(async () => (await store.marks())['203.0.113.7'])
      .toMatchObject({
        verdict: 'mine',
        by: 'discord:alice',
      });
  });

  it('a click by someone not in ADMIN_USERS gets a private refusal and marks nothing', async () => {
    hand(buttonInteraction('dmarc:spoof:203.0.113.7', { id: '700000000000000009', username: 'mallory' }));
    await fake.waitFor((calls) => calls.some((call) => /\/callback$/.test(call.path)));
    const [callback] = fake.callsTo('POST', /^\/interactions\/\d+\/[^/]+\/callback$/);
    expect(callback!.body.type).toBe(4);
    expect(callback!.body.data.flags & 64).toBe(64);
    expect(JSON.stringify(callback!.body.data.embeds)).toMatch(/ADMIN\\*_USERS/);
    expect(await store.marks()).toEqual({});
  });
});
