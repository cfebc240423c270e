import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import { commandRegistry } from '../../src/command-kit/registry.ts';
import { loadConfig } from '../../src/config.ts';
import { createCommandContext } from '../../src/context.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import type { CommandDef } from '../../src/command-kit/types.ts';
import type { Reply } from '../../src/reply/model.ts';
import type { CommandRequest, Requester, TypedCommand } from '../../src/command-kit/types.ts';
import { createDiscordBot, registerCommands, type DiscordBot } from '../../src/chat/discord/bot.ts';
import { buildCommandPayload, interactionToLine } from '../../src/chat/discord/payload.ts';
import { withRetry } from '../../src/chat/post.ts';
import { escapeDiscord } from '../../src/render/discord.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';

const token = 'discord-test-token.abc.def';
const webhookToken = 'webhook-secret-token_XYZ';

const notCalled = async (): Promise<Reply> => {
  throw new Error('handlers are not called by the adapter');
};
const registry: CommandDef[] = [
  {
    name: 'ip',
    description: 'What one source IP sent',
    options: [
      { name: 'address', description: 'IPv4 or IPv6 address', type: 'ip', required: true, positional: true },
      { name: 'days', description: 'How many days back', type: 'integer', min: 1, max: 400 },
    ],
    examples: ['ip 192.0.2.1'],
    handler: notCalled,
  },
  {
    name: 'sources',
    description: 'Sending sources of a domain',
    options: [
      { name: 'domain', description: 'Policy domain', type: 'domain', positional: true },
      { name: 'filter', description: 'Which sources', type: 'choice', choices: ['all', 'failing'] },
    ],
    examples: ['sources example.com'],
    handler: notCalled,
  },
];

function recordingAnswer() {
  const asked: Array<{ line: string; typed: TypedCommand | null; requester: Requester }> = [];
  const answer = async (request: CommandRequest, requester: Requester): Promise<Reply> => {
    const line = typeof request === 'string' ? request : request.text;
    asked.push({ line, typed: typeof request === 'string' ? null : request, requester });
    if (line.startsWith('sources')) {
      return {
        title: 'Sources',
        tone: 'warning',
        blocks: [
          {
            type: 'list',
            items: Array.from({ length: 500 }, (_, i) => `10.1.${Math.floor(i / 200)}.${i % 200} sender_${i}`),
          },
          {
            type: 'fields',
            fields: Array.from({ length: 40 }, (_, i) => ({ label: `f${i}`, value: 'v'.repeat(1500) })),
          },
        ],
      };
    }
    return { title: `Answer to ${line}`, tone: 'good', blocks: [{ type: 'text', text: `You asked: ${line}` }] };
  };
  return { asked, answer };
}

let interactionCounter = 0;
function rawInteraction(
  subcommand: string,
  options: Array<{ name: string; type: number; value: unknown }>,
  user = { id: '700000000000000001', username: 'alice' },
  channelId = '600000000000000001',
) {
  const id = String(500000000000000000n + BigInt(++interactionCounter));
  return {
    id,
    application_id: '400000000000000001',
    type: 2,
    token: `interaction-token-${id}`,
    version: 1,
    channel_id: channelId,
    channel: { id: channelId, type: 0, name: 'ops', guild_id: '300000000000000001' },
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
    data: { id: '450000000000000001', name: 'dmarc', type: 1, options: [{ type: 1, name: subcommand, options }] },
  };
}

describe('Discord (real discord.js Client, REST on a local stand-in)', () => {
  let fake: FakeDiscord;
  let bot: DiscordBot;
  const recorder = recordingAnswer();

  beforeAll(async () => {
    fake = await startFakeDiscord();
    bot = createDiscordBot({
      token,
      apiUrl: fake.apiUrl,
      digestChannelId: '610000000000000009',
      webhookUrl: `https://discord.com/api/webhooks/123456789012345678/${webhookToken}`,
      registry,
      answer: recorder.answer,
      access: { allowedChannels: [], allowedUsers: ['700000000000000001', '700000000000000002'] },
      retry: { sleep: async () => undefined },
    });
  });
  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
  });
  beforeEach(() => {
    fake.calls.length = 0;
    recorder.asked.length = 0;
  });

  function hand(raw: unknown) {
    (
      bot.client as unknown as { actions: { InteractionCreate: { handle(data: unknown): void } } }
    ).actions.InteractionCreate.handle(raw);
  }

  it('defers the reply ephemerally, then edits it with the answer as embeds', async () => {
    hand(
      rawInteraction('ip', [
        { name: 'address', type: 3, value: '192.0.2.1' },
        { name: 'days', type: 4, value: 7 },
      ]),
    );
    await fake.waitFor((calls) => calls.some((call) => call.method === 'PATCH'));
    const [callback] = fake.callsTo('POST', /\/callback$/);
    expect(callback!.body.type).toBe(5); // DeferredChannelMessageWithSource
    expect(callback!.body.data.flags & 64).toBe(64); // ephemeral
    const [edit] = fake.callsTo('PATCH', /\/webhooks\/400000000000000001\/interaction-token-\d+\/messages\/@original$/);
    expect(edit!.body.embeds[0].title).toBe('Answer to ip 192.0.2.1 days:7');
    expect(edit!.body.embeds[0].description).toBe('You asked: ip 192.0.2.1 days:7');
    // the deferral went out before the answer was edited in
    expect(fake.calls.indexOf(callback!)).toBeLessThan(fake.calls.indexOf(edit!));
    expect(recorder.asked[0]!.requester).toEqual({
      platform: 'discord',
      userId: '700000000000000001',
      userName: 'alice',
      channelId: '600000000000000001',
    });
  });

  it('shares the answer when the public option is true', async () => {
    hand(
      rawInteraction('ip', [
        { name: 'address', type: 3, value: '192.0.2.1' },
        { name: 'public', type: 5, value: true },
      ]),
    );
    await fake.waitFor((calls) => calls.some((call) => call.method === 'PATCH'));
    const [callback] = fake.callsTo('POST', /\/callback$/);
    expect(callback!.body.data.flags & 64).toBe(0);
    expect(recorder.asked[0]!.line).toBe('ip 192.0.2.1');
  });

  it('refuses people outside the allow-list, privately, without running the command', async () => {
    hand(
      rawInteraction(
        'ip',
        [
          { name: 'address', type: 3, value: '192.0.2.1' },
          { name: 'public', type: 5, value: true },
        ],
        { id: '799999999999999999', username: 'mallory' },
      ),
    );
    await fake.waitFor((calls) => calls.some((call) => call.method === 'PATCH'));
    expect(fake.callsTo('POST', /\/callback$/)[0]!.body.data.flags & 64).toBe(64);
    expect(fake.callsTo('PATCH', /@original$/)[0]!.body.embeds[0].title).toMatch(/^Sorry/);
    expect(recorder.asked).toEqual([]);
  });

  it('with DISCORD_GUILD_ID, refuses an interaction from another server and a DM from someone not allowed', async () => {
    const guarded = createDiscordBot({
      token,
      apiUrl: fake.apiUrl,
      guildId: '300000000000000001',
      registry,
      answer: recorder.answer,
      access: { allowedChannels: [], allowedUsers: [] },
      retry: { sleep: async () => undefined },
    });
    try {
      const handOn = (raw: unknown) =>
        (
          guarded.client as unknown as { actions: { InteractionCreate: { handle(data: unknown): void } } }
        ).actions.InteractionCreate.handle(raw);
      const elsewhere = rawInteraction('ip', [{ name: 'address', type: 3, value: '192.0.2.1' }]);
      elsewhere.guild_id = '399999999999999999';
      elsewhere.channel.guild_id = '399999999999999999';
      handOn(elsewhere);
      await fake.waitFor((calls) => calls.some((call) => call.method === 'PATCH'));
      expect(fake.callsTo('POST', /\/callback$/)[0]!.body.data.flags & 64).toBe(64);
      expect(fake.callsTo('PATCH', /@original$/)[0]!.body.embeds[0].title).toMatch(/only in its own Discord server/);
      expect(recorder.asked).toEqual([]);

      handOn(rawInteraction('ip', [{ name: 'address', type: 3, value: '192.0.2.1' }]));
      await fake.waitFor((calls) => calls.filter((call) => call.method === 'PATCH').length >= 2);
      expect(recorder.asked.map((a) => a.line)).toEqual(['ip 192.0.2.1']);
    } finally {
      await guarded.stop();
    }
  });

  it('registers /dmarc for server managers by default, with a date option that takes today', () => {
    const payload = buildCommandPayload(registry);
    expect(payload.default_member_permissions).toBe('32');
    const withDate = buildCommandPayload([
      { ...registry[0]!, name: 'date', options: [{ name: 'date', description: 'day', type: 'date', required: true }] },
    ]);
    const dateOption = withDate.options[0]!.options!.find((o) => o.name === 'date')!;
    expect('today'.length).toBeGreaterThanOrEqual(dateOption.min_length!);
    expect('2026-06-10'.length).toBeLessThanOrEqual(dateOption.max_length!);
  });

  it('keeps a 500-source answer within embed limits', async () => {
    hand(rawInteraction('sources', [{ name: 'domain', type: 3, value: 'example.com' }]));
    await fake.waitFor((calls) => calls.some((call) => call.method === 'PATCH'));
    const embeds = fake.callsTo('PATCH', /@original$/)[0]!.body.embeds as Array<{
      title?: string;
      description?: string;
      fields?: Array<{ name: string; value: string }>;
      footer?: { text: string };
    }>;
    expect(embeds.length).toBeLessThanOrEqual(10);
    let total = 0;
    for (const embed of embeds) {
      expect(embed.description?.length ?? 0).toBeLessThanOrEqual(4096);
      expect(embed.fields?.length ?? 0).toBeLessThanOrEqual(25);
      for (const field of embed.fields ?? []) expect(field.value.length).toBeLessThanOrEqual(1024);
      total +=
        (embed.title?.length ?? 0) +
        (embed.description?.length ?? 0) +
        (embed.footer?.text.length ?? 0) +
        (embed.fields ?? []).reduce((s, f) => s + f.name.length + f.value.length, 0);
    }
    expect(total).toBeLessThanOrEqual(6000);
    expect(embeds[0]!.description).toMatch(/… and \d+ more/);
  });

  it('posts digests to the channel through the bot, with the bot token', async () => {
    const digest = bot.destinations.find((d) => d.id === 'discord:610000000000000009')!;
    await digest.post({ title: 'Daily DMARC digest', tone: 'info', blocks: [{ type: 'text', text: '4 new reports' }] });
    const [call] = fake.callsTo('POST', /^\/channels\/610000000000000009\/messages$/);
    expect(call!.headers.authorization).toBe(`Bot ${token}`);
    expect(call!.body.embeds[0]).toMatchObject({ title: 'Daily DMARC digest', description: '4 new reports' });
    expect(call!.body.enforce_nonce).toBe(true);
    expect(String(call!.body.nonce)).toMatch(/^\d{1,25}$/);
  });

  const reply = { title: 'Daily DMARC digest', tone: 'info' as const, blocks: [] };
  it('a retried digest post carries the same nonce, so Discord keeps one message', async () => {
    const digest = bot.destinations.find((d) => d.id === 'discord:610000000000000009')!;
    fake.failNext(/^\/channels\/610000000000000009\/messages$/, { status: 500 });
    await withRetry(() => digest.post(reply), { sleep: async () => undefined });
    const posts = fake.callsTo('POST', /^\/channels\/610000000000000009\/messages$/);
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(posts.map((p) => p.body.nonce)).size).toBe(1);
  });

  it('posts digests to the webhook under DISCORD_API_URL, and retries a 429 after its Retry-After', async () => {
    const webhook = bot.destinations.find((d) => d.id === 'discord-webhook')!;
    fake.failNext(/^\/webhooks\/123456789012345678\//, {
      status: 429,
      headers: { 'retry-after': '2' },
      body: { message: 'You are being rate limited.', retry_after: 2, global: false },
    });
    const waits: number[] = [];
    await withRetry(() => webhook.post({ title: 'Daily DMARC digest', tone: 'info', blocks: [] }), {
      sleep: async (ms) => void waits.push(ms),
    });
    const calls = fake.callsTo('POST', /^\/webhooks\/123456789012345678\/webhook-secret-token_XYZ$/);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.query).toBe('wait=true');
    expect(calls[1]!.body.embeds[0].title).toBe('Daily DMARC digest');
    expect(waits).toEqual([2000]);
  });

  it('never shows the webhook token in a failure', async () => {
    const webhook = bot.destinations.find((d) => d.id === 'discord-webhook')!;
    fake.failNext(/^\/webhooks\//, { status: 404, body: { message: `Unknown Webhook ${webhookToken}`, code: 10015 } });
    const error = await webhook.post({ title: 'x', tone: 'info', blocks: [] }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error).not.toBeNull();
    expect(error!.message).toContain('404');
    expect(error!.message).not.toContain(webhookToken);
  });

  it('registers /dmarc for a guild, and globally without a guild', async () => {
    const guild = await registerCommands({
      token,
      applicationId: '400000000000000001',
      guildId: '300000000000000001',
      apiUrl: fake.apiUrl,
      registry,
    });
    const global = await registerCommands({
      token,
      applicationId: '400000000000000001',
      apiUrl: fake.apiUrl,
      registry,
    });
    expect(guild.scope).toBe('guild');
    expect(global.scope).toBe('global');
    const [guildPut] = fake.callsTo(
      'PUT',
      /^\/applications\/400000000000000001\/guilds\/300000000000000001\/commands$/,
    );
    const [globalPut] = fake.callsTo('PUT', /^\/applications\/400000000000000001\/commands$/);
    expect(guildPut!.headers.authorization).toBe(`Bot ${token}`);
    expect(guildPut!.body).toEqual(globalPut!.body);
    const [command] = guildPut!.body;
    expect(command.name).toBe('dmarc');
    expect(command.options.map((o: { name: string }) => o.name)).toEqual(['ip', 'sources']);
  });
});

describe('command payload', () => {
  it('gives each subcommand typed options, required ones first, and a public switch', () => {
    const payload = buildCommandPayload([
      {
        ...registry[0]!,
        options: [
          { name: 'days', description: 'd', type: 'integer', min: 1, max: 400 },
          { name: 'address', description: 'a', type: 'ip', required: true, positional: true },
        ],
      },
      registry[1]!,
    ]);
    const [ip, sources] = payload.options;
    expect(ip!.type).toBe(1);
    expect(ip!.options!.map((o) => [o.name, o.type, o.required ?? false])).toEqual([
      ['address', 3, true],
      ['days', 4, false],
      ['public', 5, false],
    ]);
    expect(ip!.options![1]).toMatchObject({ min_value: 1, max_value: 400 });
    expect(sources!.options!.find((o) => o.name === 'filter')!.choices).toEqual([
      { name: 'all', value: 'all' },
      { name: 'failing', value: 'failing' },
    ]);
    for (const sub of payload.options) expect(sub.description.length).toBeLessThanOrEqual(100);
  });

  it('turns interaction options back into the text command line', () => {
    expect(
      interactionToLine(registry, 'sources', [
        { name: 'filter', value: 'failing' },
        { name: 'domain', value: 'example.com' },
        { name: 'public', value: false },
      ]),
    ).toEqual({ line: 'sources example.com filter:failing', shared: false });
    expect(
      interactionToLine(registry, 'ip', [
        { name: 'address', value: '2001:db8::1' },
        { name: 'public', value: true },
      ]),
    ).toEqual({ line: 'ip 2001:db8::1', shared: true });
  });
});

describe('Discord typed options reach the commands as typed', () => {
  let fake: FakeDiscord;
  let dir: string;
  let store: ReportStore;
  let bot: DiscordBot;

  beforeAll(async () => {
    fake = await startFakeDiscord();
    dir = await mkdtemp(join(tmpdir(), 'dmarc-discord-typed-'));
    store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    const config = loadConfig({});
    bot = createDiscordBot({
      token,
      apiUrl: fake.apiUrl,
      registry: commandRegistry,
      answer: (request, requester) =>
        answer(request, createCommandContext({ config, store, requester, now: () => new Date(), dns: false })),
      access: { allowedChannels: [], allowedUsers: [] },
      retry: { sleep: async () => undefined },
    });
  });
  afterAll(async () => {
    await bot?.stop();
    await store?.close();
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function hand(raw: unknown) {
    (
      bot.client as unknown as { actions: { InteractionCreate: { handle(data: unknown): void } } }
    ).actions.InteractionCreate.handle(raw);
  }

  it('stores a mark subject with double quotes and spaces exactly as typed', async () => {
    const subject = 'Acme "Bulk" Mail \\ Co';
    hand(
      rawInteraction('mark', [
        { name: 'subject', type: 3, value: subject },
        { name: 'verdict', type: 3, value: 'spoof' },
      ]),
    );
    await fake.waitFor((calls) => calls.some((call) => call.method === 'PATCH'));
    const marks = Object.values(await store.marks());
    expect(marks.map((mark) => [mark.subject, mark.verdict, mark.by])).toEqual([[subject, 'spoof', 'discord:alice']]);
    const [edit] = fake.callsTo('PATCH', /messages\/@original$/);
    // titles are escaped for Discord markdown now: the subject shows literally
    expect(edit!.body.embeds[0].title).toContain(escapeDiscord(subject));
  });

  it('validates typed values like text: a day count out of range is a usage error', async () => {
    fake.calls.length = 0;
    hand(rawInteraction('summary', [{ name: 'days', type: 4, value: 0 }]));
    await fake.waitFor((calls) => calls.some((call) => call.method === 'PATCH'));
    const [edit] = fake.callsTo('PATCH', /messages\/@original$/);
    expect(JSON.stringify(edit!.body.embeds)).toContain('days');
    expect(edit!.body.embeds[0].title).toBe('Usage error');
  });
});
