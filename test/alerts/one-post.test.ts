// A report naming many failing sources gives one alert post per destination, through the real
// alert path (store -> alerter -> pacer -> Slack/Discord adapters) against the platform stand-ins.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { openStore } from '../../src/store/index.ts';
import { createAlerter } from '../../src/alerts/alerter.ts';
import { createSlackBot, type SlackBot } from '../../src/chat/slack/app.ts';
import { createDiscordBot, type DiscordBot } from '../../src/chat/discord/bot.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';

function failing(ip: string, count: number): AggregateRecord {
  return {
    sourceIp: ip,
    count,
    disposition: 'none',
    evaluated: { dkim: 'fail', spf: 'fail' },
    dmarc: 'fail',
    identifiers: { headerFrom: 'example.com', envelopeFrom: null, envelopeTo: null },
    reasons: [],
    authResults: { dkim: [], spf: [] },
    alignment: { dkim: false, spf: false },
  };
}

function botnetReport(id: string, sources: number): AggregateReport {
  const records: AggregateRecord[] = [];
  // distinct counts so the order (most failing first) is known: source i fails 10 + i messages
  for (let i = 0; i < sources; i++) records.push(failing(`10.${Math.floor(i / 250)}.${i % 250}.1`, 10 + i));
  return {
    kind: 'aggregate',
    orgName: 'google.com',
    orgEmail: null,
    reportId: id,
    begin: '2026-06-10T00:00:00Z',
    end: '2026-06-10T23:59:59Z',
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
    records,
    errors: [],
  };
}

describe('one alert post per report and destination', () => {
  let dir: string;
  let slackFake: FakeSlack;
  let discordFake: FakeDiscord;
  let slack: SlackBot;
  let discord: DiscordBot;
  let store: ReportStore;
  const now = () => new Date('2026-06-11T08:00:00Z');

  beforeAll(async () => {
    slackFake = await startFakeSlack();
    discordFake = await startFakeDiscord();
    slack = createSlackBot({
      botToken: 'xoxb-alert-test',
      signingSecret: 'alert-secret',
      port: 0,
      apiUrl: slackFake.apiUrl,
      digestChannel: 'C0ALERTS',
      answer: async () => ({ title: '', tone: 'info', blocks: [] }),
      access: { allowedChannels: [], allowedUsers: [] },
    });
    discord = createDiscordBot({
      token: 'discord-alert-token.abc.def',
      apiUrl: discordFake.apiUrl,
      digestChannelId: '610000000000000009',
      registry: [],
      answer: async () => ({ title: '', tone: 'info', blocks: [] }),
      access: { allowedChannels: [], allowedUsers: [] },
    });
  });
  afterAll(async () => {
    await discord?.stop();
    await slackFake?.close();
    await discordFake?.close();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmarc-one-post-'));
    store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    slackFake.calls.length = 0;
    discordFake.calls.length = 0;
    return async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    };
  });

  for (const sources of [25, 500]) {
    it(`${sources} new failing sources: one post on Slack, one on Discord, top sources then "and M more"`, async () => {
      const alerter = createAlerter({
        store,
        destinations: [slack.destination!, ...discord.destinations],
        rules: { minMessages: 10 },
        timeZone: 'UTC',
        now,
        topSources: 10,
      });
      const report = botnetReport(`botnet-${sources}`, sources);
      expect(await store.ingest(report, 'test', now())).toBe('new');
      await store.flush();
      const posted = await alerter.process(report);
      expect(posted).toHaveLength(sources);

      const slackPosts = slackFake.callsTo('chat.postMessage');
      expect(slackPosts).toHaveLength(1);
      const slackText = JSON.stringify(slackPosts[0]!.body.blocks);
      const top = `10.${Math.floor((sources - 1) / 250)}.${(sources - 1) % 250}.1`;
      expect(slackText).toContain(top);
      const restMessages = Array.from({ length: sources - 10 }, (_, i) => 10 + i).reduce((a, b) => a + b, 0);
      expect(slackText).toContain(`and ${sources - 10} more (${restMessages} messages)`);
      // the smallest source is not listed by address
      expect(slackText).not.toContain('10.0.0.1:');

      const discordPosts = discordFake.callsTo('POST', /^\/channels\/610000000000000009\/messages$/);
      expect(discordPosts).toHaveLength(1);
      const discordText = JSON.stringify(discordPosts[0]!.body.embeds);
      expect(discordText).toContain(top);
      expect(discordText).toContain(`and ${sources - 10} more (${restMessages} messages)`);

      // the same sources again the same day (another reporter): nothing new, nothing posted
      const again = { ...botnetReport(`botnet-${sources}-b`, sources), orgName: 'yahoo.com' };
      await store.ingest(again, 'test', now());
      await store.flush();
      expect(await alerter.process(again)).toEqual([]);
      expect(slackFake.callsTo('chat.postMessage')).toHaveLength(1);
    });
  }
});
