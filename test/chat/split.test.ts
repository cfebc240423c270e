// A digest with more domains than one message holds is split, not cut: a Slack thread under the
// first message, several Discord messages; nothing says "shortened".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/reply/model.ts';
import { createSlackBot, type SlackBot } from '../../src/chat/slack/app.ts';
import { createDiscordBot, type DiscordBot } from '../../src/chat/discord/bot.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';

function digest(domains: number): Reply {
  return {
    title: 'Daily DMARC digest',
    tone: 'warning',
    blocks: Array.from({ length: domains }, (_, d) => [
      { type: 'header' as const, text: `domain-${d}.example` },
      {
        type: 'list' as const,
        title: 'Failing sources',
        items: Array.from(
          { length: 12 },
          (_, i) => `198.51.100.${i}: ${i + 10} of 40 failing, sender number ${i} of domain ${d}`,
        ),
      },
    ]).flat(),
  };
}

describe('long digests are split over several messages', () => {
  let slackFake: FakeSlack;
  let discordFake: FakeDiscord;
  let slack: SlackBot;
  let discord: DiscordBot;
  beforeAll(async () => {
    slackFake = await startFakeSlack();
    discordFake = await startFakeDiscord();
    const answer = async () => ({ title: '', tone: 'info' as const, blocks: [] });
    slack = createSlackBot({
      botToken: 'xoxb-split',
      signingSecret: 'split-secret',
      apiUrl: slackFake.apiUrl,
      digestChannel: 'C0DIGEST',
      answer,
      access: { allowedChannels: [], allowedUsers: [] },
    });
    discord = createDiscordBot({
      token: 'discord-split-token.abc.def',
      apiUrl: discordFake.apiUrl,
      digestChannelId: '610000000000000009',
      registry: [],
      answer,
      access: { allowedChannels: [], allowedUsers: [] },
    });
  });
  afterAll(async () => {
    await discord?.stop();
    await slackFake?.close();
    await discordFake?.close();
  });

  it('Slack: the first message, the rest in its thread, every domain shown', async () => {
    await slack.destination!.post(digest(15));
    const posts = slackFake.callsTo('chat.postMessage');
    expect(posts.length).toBeGreaterThan(1);
    expect(posts[0]!.body.thread_ts).toBeUndefined();
    for (const post of posts.slice(1)) expect(post.body.thread_ts).toBeTruthy();
    const all = posts.map((p) => JSON.stringify(p.body.blocks)).join('\n');
    for (let d = 0; d < 15; d++) expect(all).toContain(`domain-${d}.example`);
    expect(all).not.toContain('did not fit');
  });

  it('Discord: several messages, every domain shown, none shortened', async () => {
    await discord.destinations[0]!.post(digest(15));
    const posts = discordFake.callsTo('POST', /^\/channels\/610000000000000009\/messages$/);
    expect(posts.length).toBeGreaterThan(1);
    const all = posts.map((p) => JSON.stringify(p.body.embeds)).join('\n');
    for (let d = 0; d < 15; d++) expect(all).toContain(`domain-${d}.example`);
    expect(all).not.toContain('Shortened');
    expect(new Set(posts.map((p) => p.body.nonce)).size).toBe(posts.length);
  });
});

describe('splitReply with a picture', () => {
  it('sends the chart once, with the first message', async () => {
    const { splitReply } = await import('../../src/reply/split.ts');
    const image = { name: 'chart.png', png: Buffer.from([1, 2, 3]), alt: 'trend' };
    const parts = splitReply({ ...digest(6), image }, (reply) => reply.blocks.length <= 4);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts[0]!.image).toBe(image);
    expect(parts.slice(1).every((part) => part.image === undefined)).toBe(true);
  });
});
