// `/dmarc chart` through the real discord.js Client (REST on the local stand-in): the real command
// over a stored month, its picture edited into the deferred reply as a multipart attachment that the
// answer's embed shows.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import { commandRegistry } from '../../src/command-kit/registry.ts';
import { createDiscordBot, type DiscordBot } from '../../src/chat/discord/bot.ts';
import { testContext } from '../commands/context.ts';
import { DOMAIN, NOW, scenarioReports, storeWith, type TestStore } from '../commands/scenario.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';
import { decode } from './pixels.ts';

const APPLICATION = '400000000000000001';

function chartInteraction(options: Array<{ name: string; type: number; value: unknown }>) {
  const channelId = '600000000000000001';
  return {
    id: '500000000000000901',
    application_id: APPLICATION,
    type: 2,
    token: 'interaction-token-chart',
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
      user: { id: '700000000000000001', username: 'alice', discriminator: '0', global_name: null, avatar: null },
      roles: [],
      permissions: '0',
      joined_at: '2026-01-01T00:00:00.000Z',
      deaf: false,
      mute: false,
      flags: 0,
    },
    data: { id: '450000000000000001', name: 'dmarc', type: 1, options: [{ type: 1, name: 'chart', options }] },
  };
}

let fixture: TestStore;
let fake: FakeDiscord;
let bot: DiscordBot;
beforeAll(async () => {
  fixture = await storeWith(scenarioReports());
  fake = await startFakeDiscord();
  bot = createDiscordBot({
    token: 'discord-test-token.abc.def',
    apiUrl: fake.apiUrl,
    registry: commandRegistry,
    answer: (request) => answer(request, testContext(fixture.store, { now: NOW })),
    access: { allowedChannels: [], allowedUsers: [] },
    retry: { sleep: async () => undefined },
  });
});
afterAll(async () => {
  await bot?.stop();
  await fake?.close();
  await fixture?.close();
});

describe('/dmarc chart on Discord', () => {
  it('edits the deferred reply with the PNG as files[0], shown in the embed as attachment://chart.png', async () => {
    (
      bot.client as unknown as { actions: { InteractionCreate: { handle(data: unknown): void } } }
    ).actions.InteractionCreate.handle(
      chartInteraction([
        { name: 'domain', type: 3, value: DOMAIN },
        { name: 'days', type: 4, value: 14 },
      ]),
    );
    await fake.waitFor((calls) => calls.some((call) => call.method === 'PATCH'));
    const [edit] = fake.callsTo(
      'PATCH',
      new RegExp(`/webhooks/${APPLICATION}/interaction-token-chart/messages/@original$`),
    );
    expect(edit!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(edit!.body.embeds[0].title).toContain(DOMAIN);
    expect(edit!.body.embeds[0].image).toEqual({ url: 'attachment://chart.png' });
    expect(edit!.files.map((file) => [file.field, file.filename, file.contentType])).toEqual([
      ['files[0]', 'chart.png', 'image/png'],
    ]);
    expect(decode(edit!.files[0]!.bytes)).toMatchObject({ width: 1280, height: 640 });
  });
});
