import { webApi } from '@slack/bolt';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { shareSlackImage } from '../../src/chat/slack/files.ts';
import { renderTrendChart } from '../../src/chart/index.ts';
import type { ReplyImage } from '../../src/reply/model.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { decode } from './pixels.ts';
import { generatedMonth } from './month.ts';

let slack: FakeSlack | null = null;
afterEach(async () => {
  await slack?.close();
  slack = null;
});

const client = (fake: FakeSlack) =>
  new webApi.WebClient('xoxb-test', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, timeout: 10_000 });

async function chartImage(): Promise<ReplyImage> {
  return { name: 'chart.png', png: await renderTrendChart(generatedMonth('slack')), alt: 'example.com: 30 days' };
}

function logger() {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const log = { warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }) };
  return { lines, log: log as never };
}

describe('shareSlackImage', () => {
  it('goes the external upload flow: upload URL, the PNG bytes, then shared in the thread', async () => {
    slack = await startFakeSlack();
    const image = await chartImage();
    const shared = await shareSlackImage(client(slack), { channel: 'C0DIGEST', threadTs: '1700000000.000100' }, image);
    expect(shared).toBe(true);
    const methods = slack.calls.map((call) => call.path.replace(/^\/api\//, '').replace(/^\/upload\/.*/, 'upload'));
    expect(methods).toEqual(['files.getUploadURLExternal', 'upload', 'files.completeUploadExternal']);
    const [upload] = slack.uploads;
    expect(upload).toMatchObject({ filename: 'chart.png', length: image.png.length, altText: image.alt });
    expect(upload!.bytes!.equals(image.png)).toBe(true);
    expect(decode(upload!.bytes!)).toMatchObject({ width: 1280, height: 640 });
    expect(upload!.completed).toEqual({ channelId: 'C0DIGEST', threadTs: '1700000000.000100', title: image.alt });
  });

  it('without files:write shares nothing and logs why, without throwing', async () => {
    slack = await startFakeSlack({ scopes: ['chat:write', 'commands'] });
    const { lines, log } = logger();
    const shared = await shareSlackImage(client(slack), { channel: 'C0DIGEST' }, await chartImage(), log);
    expect(shared).toBe(false);
    expect(slack.uploads).toEqual([]);
    expect(slack.callsTo('files.completeUploadExternal')).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields.code).toBe('missing_scope');
    expect(lines[0]!.message).toMatch(/files:write/);
  });
});

describe('the Slack app manifest', () => {
  it('asks for files:write, which the upload flow needs, beside the other bot scopes', () => {
    const manifest = readFileSync(fileURLToPath(new URL('../../slack-app-manifest.yml', import.meta.url)), 'utf8');
    const bot = /^ {4}bot:\n((?: {6}(?:- .+|#.*)\n)+)/m.exec(manifest);
    expect(bot, 'oauth_config.scopes.bot').not.toBeNull();
    const scopes = [...bot![1]!.matchAll(/^ {6}- (\S+)/gm)].map((match) => match[1]);
    expect(scopes).toEqual(expect.arrayContaining(['commands', 'chat:write', 'files:write', 'im:write']));
  });
});
