// The daily digest with its trend chart, through the whole bot (startBot) to the Slack and Discord
// stand-ins: Slack's external upload flow into the digest's thread, Discord's multipart message
// with the picture in the embed (webhook and bot channel), and the terminal's sparklines.

import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDiscordBot } from '../../src/chat/discord/bot.ts';
import { startBot, type RunningBot } from '../../src/cli/start.ts';
import { loadConfig } from '../../src/config.ts';
import { createCommandContext } from '../../src/context.ts';
import { buildDigest } from '../../src/digest/build.ts';
import { createLogger, silentLogger } from '../../src/log.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { addDays } from '../../src/insight/stats.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { DOMAIN, OWN, record, report } from '../commands/scenario.ts';
import { CLASS_COLOURS } from '../../src/chart/index.ts';
import { countColour, decode } from './pixels.ts';
import { freePort } from '../support/ports.ts';

const WEBHOOK = 'https://discord.com/api/webhooks/111111111111111111/chart-webhook-token';

let dir: string;
let store: ReportStore;
let bot: RunningBot | null = null;
let slack: FakeSlack | null = null;
let discord: FakeDiscord | null = null;

// Two weeks of reports up to yesterday: the own server, and a failing sender.
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-chart-digest-'));
  store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  for (let index = 0; index < 14; index++) {
    const day = addDays(yesterday, -index);
    const records = [
      record(OWN, 90, { spf: [[DOMAIN, 'pass']], dkim: [[DOMAIN, 'pass']] }),
      record('198.51.100.20', 10, { spf: [['bounce.esp.example', 'pass']] }),
    ];
    await store.ingest(report('google.com', `d-${day}`, `${day}T00:00:00Z`, `${day}T23:59:59Z`, records), 'test');
  }
  await store.flush();
});

afterEach(async () => {
  await bot?.stop();
  bot = null;
  await store.close();
  await slack?.close();
  await discord?.close();
  slack = discord = null;
  await rm(dir, { recursive: true, force: true });
});

function config(extra: Record<string, string>) {
  return loadConfig({
    DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
    TZ: 'UTC',
    DNS_SERVERS: '127.0.0.1:9',
    DNS_TIMEOUT_MS: '200',
    ...extra,
  });
}

function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: createLogger('info', stream) };
}

describe('the digest with its chart', () => {
  it('reaches Slack by the complete upload flow, in the digest thread, and the Discord webhook as multipart', async () => {
    slack = await startFakeSlack();
    discord = await startFakeDiscord();
    bot = await startBot({
      config: config({
        SLACK_BOT_TOKEN: 'xoxb-chart',
        SLACK_SIGNING_SECRET: 'chart-secret',
        SLACK_API_URL: slack.apiUrl,
        SLACK_DIGEST_CHANNEL: 'C0DIGEST',
        PORT: String(await freePort()),
        DISCORD_WEBHOOK_URL: WEBHOOK,
        DISCORD_API_URL: discord.apiUrl,
      }),
      log: silentLogger,
      store,
    });
    await slack.waitFor((calls) => calls.some((call) => call.path.endsWith('files.completeUploadExternal')));
    await discord.waitFor((calls) => calls.some((call) => call.path.startsWith('/webhooks/111111111111111111/')));

    // Slack: the message, then the three steps of the upload, in order
    const steps = slack.calls
      .map((call) => call.path.replace(/^\/api\//, '').replace(/^\/upload\/.*/, 'upload'))
      .filter((step) => step !== 'auth.test');
    expect(steps).toEqual(['chat.postMessage', 'files.getUploadURLExternal', 'upload', 'files.completeUploadExternal']);
    const [upload] = slack.uploads;
    expect(upload!.completed).toMatchObject({ channelId: 'C0DIGEST', threadTs: slack.posted[0]!.ts });
    const png = decode(upload!.bytes!);
    expect([png.width, png.height]).toEqual([1280, 640]);
    expect(countColour(png, CLASS_COLOURS.aligned)).toBeGreaterThan(10_000);
    expect(upload!.altText).toContain(DOMAIN);
    expect(await store.getState('digest:slack:C0DIGEST')).toBeTruthy();

    // Discord webhook: payload_json with the embed pointing at files[0]
    const [hook] = discord.callsTo('POST', /^\/webhooks\/111111111111111111\/chart-webhook-token$/);
    expect(hook!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(hook!.body.embeds[0].image).toEqual({ url: 'attachment://chart.png' });
    expect(hook!.body.attachments).toEqual([{ id: 0, filename: 'chart.png' }]);
    expect(hook!.files.map((file) => [file.field, file.filename, file.contentType])).toEqual([
      ['files[0]', 'chart.png', 'image/png'],
    ]);
    expect(decode(hook!.files[0]!.bytes)).toMatchObject({ width: 1280, height: 640 });
  });

  it('goes out on Slack without the chart when the app lacks files:write, and the log says why', async () => {
    slack = await startFakeSlack({ scopes: ['chat:write', 'commands'] });
    const { lines, log } = capturedLog();
    bot = await startBot({
      config: config({
        SLACK_BOT_TOKEN: 'xoxb-chart',
        SLACK_SIGNING_SECRET: 'chart-secret',
        SLACK_API_URL: slack.apiUrl,
        SLACK_DIGEST_CHANNEL: 'C0DIGEST',
        PORT: String(await freePort()),
      }),
      log,
      store,
    });
    // the digest counts as sent once its message went out and the upload was tried
    while (!(await store.getState('digest:slack:C0DIGEST'))) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(slack.callsTo('files.getUploadURLExternal')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('files.completeUploadExternal')).toEqual([]);
    expect(slack.uploads).toEqual([]);
    const warning = lines.find((line) => String(line.msg).startsWith('chart not posted'));
    expect(warning).toMatchObject({ code: 'missing_scope' });
    expect(String(warning!.msg)).toMatch(/files:write/);
  });

  it('reaches a Discord channel through the bot as multipart with the attachment', async () => {
    discord = await startFakeDiscord();
    const settings = config({});
    const context = createCommandContext({
      config: settings,
      store,
      requester: { platform: 'terminal', userId: 'digest' },
      dns: false,
    });
    const until = new Date();
    const digest = await buildDigest(store, context, { since: new Date(until.getTime() - 30 * 86_400_000), until });
    expect(digest.reply.image?.name).toBe('chart.png');
    const discordBot = createDiscordBot({
      token: 'discord-chart-token',
      apiUrl: discord.apiUrl,
      digestChannelId: '610000000000000009',
      registry: [],
      answer: async () => digest.reply,
      access: { allowedChannels: [], allowedUsers: [] },
    });
    await discordBot.destinations[0]!.post(digest.reply);
    const [call] = discord.callsTo('POST', /^\/channels\/610000000000000009\/messages$/);
    expect(call!.headers['content-type']).toMatch(/^multipart\/form-data/);
    expect(call!.body.embeds[0].image).toEqual({ url: 'attachment://chart.png' });
    expect(call!.files).toHaveLength(1);
    expect(call!.files[0]!.bytes.equals(digest.reply.image!.png)).toBe(true);
    await discordBot.stop();
  });

  it('shows a sparkline line per domain in the terminal digest', async () => {
    const context = createCommandContext({
      config: config({}),
      store,
      requester: { platform: 'terminal', userId: 'digest' },
      dns: false,
    });
    const until = new Date();
    const digest = await buildDigest(
      store,
      context,
      { since: new Date(until.getTime() - 30 * 86_400_000), until },
      { chart: 'text' },
    );
    expect(digest.reply.image).toBeUndefined();
    const text = renderTerminal(digest.reply);
    expect(text).toMatch(/^Pass rate, last 30 days$/m);
    expect(text).toMatch(new RegExp(`^${DOMAIN.replace('.', '\\.')} [ ▁▂▃▄▅▆▇█]{30} 90% pass, 1,400 messages$`, 'm'));
  });
});
