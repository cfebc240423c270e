// Slack and Discord refusing the digest post (429 with Retry-After, 500), end to end through
// startBot with the platform stand-ins: the post is retried and delivered once; when a platform
// keeps failing, the digest is not marked sent and a later start posts it. The retry policy itself
// (waits, bounds) is covered in test/chat and test/schedule.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { randomAggregateReport } from '../../src/generate/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { startBot, type RunningBot } from '../../src/cli/start.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';
import { freePort } from '../support/ports.ts';
import { capturingLogger, waitUntil } from './helpers.ts';

const WEBHOOK = /^\/webhooks\/111111111111111111\/fault-webhook-token$/;
const DOMAIN = 'digest-faults.example';
let slack: FakeSlack;
let discord: FakeDiscord;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  [slack, discord] = await Promise.all([startFakeSlack(), startFakeDiscord()]);
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});
afterAll(async () => {
  await Promise.allSettled([slack?.close(), discord?.close()]);
});

/** A store holding one report of yesterday, so that the first digest has something to say. */
async function storeWithYesterday(): Promise<{ store: ReportStore; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-faults-chat-'));
  const url = `sqlite://${join(dir, 'store.sqlite')}`;
  const store = await openStore(url);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await store.ingest(
    randomAggregateReport({
      seed: 'chat-faults',
      records: 12,
      domain: DOMAIN,
      org: 'google.com',
      begin: `${yesterday}T00:00:00Z`,
    }),
    'test',
  );
  await store.flush();
  cleanup.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, url };
}

async function start(
  store: ReportStore,
  url: string,
  channel: string,
): Promise<{ bot: RunningBot; lines: Array<Record<string, unknown>> }> {
  const { logger, lines } = capturingLogger('info');
  const config = loadConfig({
    DMARC_STORE: url,
    SLACK_BOT_TOKEN: 'xoxb-faults',
    SLACK_SIGNING_SECRET: 'faults-secret',
    SLACK_API_URL: slack.apiUrl,
    SLACK_DIGEST_CHANNEL: channel,
    PORT: String(await freePort()),
    DISCORD_WEBHOOK_URL: 'https://discord.com/api/webhooks/111111111111111111/fault-webhook-token',
    DISCORD_API_URL: discord.apiUrl,
    TZ: 'UTC',
    DNS_SERVERS: '127.0.0.1:9',
    DNS_TIMEOUT_MS: '200',
  });
  const bot = await startBot({ config, log: logger, store });
  cleanup.push(() => bot.stop());
  return { bot, lines };
}

const postsTo = (channel: string) => slack.callsTo('chat.postMessage').filter((call) => call.body.channel === channel);
const sent = (lines: Array<Record<string, unknown>>, destination: string) =>
  lines.filter((line) => line.msg === 'digest sent' && line.destination === destination);

describe('fault: Slack and Discord answer 429 and 500 to the digest post', () => {
  it('retries and delivers the digest once on each platform', { timeout: 90_000 }, async () => {
    const { store, url } = await storeWithYesterday();
    slack.failNext('chat.postMessage', { status: 429, headers: { 'retry-after': '1' } }, { status: 500 });
    discord.failNext(
      WEBHOOK,
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: { message: 'You are being rate limited.', retry_after: 1, global: false },
      },
      { status: 500, body: { message: 'Internal Server Error' } },
    );
    const webhookCallsBefore = discord.callsTo('POST', WEBHOOK).length;
    const { lines } = await start(store, url, 'C0RETRY');

    await waitUntil(
      'the digest sent on both platforms',
      () => sent(lines, 'slack:C0RETRY').length === 1 && sent(lines, 'discord-webhook').length === 1,
      60,
    );
    // two refused attempts, then the one that got through
    expect(postsTo('C0RETRY')).toHaveLength(3);
    expect(discord.callsTo('POST', WEBHOOK).length - webhookCallsBefore).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(postsTo('C0RETRY').at(-1)!.body.blocks)).toContain(DOMAIN);
    expect(JSON.stringify(discord.callsTo('POST', WEBHOOK).at(-1)!.body.embeds)).toContain(DOMAIN);
    expect(await store.getState('digest:slack:C0RETRY')).toBeTruthy();
    expect(await store.getState('digest:discord-webhook')).toBeTruthy();
    expect(lines.filter((line) => line.msg === 'digest post failed, retrying').length).toBeGreaterThanOrEqual(2);
  });

  it(
    'when Slack keeps failing, the digest stays due and a later start posts it once',
    { timeout: 120_000 },
    async () => {
      const { store, url } = await storeWithYesterday();
      // more refusals than the post's bounded attempts
      slack.failNext(
        'chat.postMessage',
        ...Array.from({ length: 5 }, () => ({ status: 429, headers: { 'retry-after': '1' } })),
      );
      const first = await start(store, url, 'C0DOWN');
      await waitUntil(
        'the digest given up for now',
        () =>
          first.lines.some(
            (line) => line.msg === 'digest not sent; it stays due' && line.destination === 'slack:C0DOWN',
          ),
        90,
      );
      expect(sent(first.lines, 'slack:C0DOWN')).toHaveLength(0);
      expect(await store.getState('digest:slack:C0DOWN')).toBeUndefined();
      // Discord took its copy meanwhile
      await waitUntil('the Discord copy sent', () => sent(first.lines, 'discord-webhook').length === 1, 30);
      await first.bot.stop();
      const webhookCalls = discord.callsTo('POST', WEBHOOK).length;

      const second = await start(store, url, 'C0DOWN');
      await waitUntil('the digest sent after the restart', () => sent(second.lines, 'slack:C0DOWN').length === 1, 60);
      expect(await store.getState('digest:slack:C0DOWN')).toBeTruthy();
      // five refused, one delivered; Discord, already served, is not posted to again
      expect(postsTo('C0DOWN')).toHaveLength(6);
      expect(discord.callsTo('POST', WEBHOOK)).toHaveLength(webhookCalls);
      const delivered = postsTo('C0DOWN').at(-1)!;
      expect(JSON.stringify(delivered.body.blocks)).toContain(DOMAIN);
    },
  );
});
