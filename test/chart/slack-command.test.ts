// `/dmarc chart` on Slack: the text answer through response_url, then the picture by the external
// upload flow, in the channel when shared and in the asker's DM otherwise.

import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { renderTrendChart } from '../../src/chart/index.ts';
import { handleDmarcCommand } from '../../src/chat/slack/command.ts';
import type { Reply } from '../../src/reply/model.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { generatedMonth } from './month.ts';

let slack: FakeSlack | null = null;
afterEach(async () => {
  await slack?.close();
  slack = null;
});

async function chartReply(): Promise<Reply> {
  return {
    title: 'example.com: Nov 1, 2026 to Nov 30, 2026 · not ready to enforce',
    tone: 'warning',
    blocks: [{ type: 'text', text: 'Markers: none' }],
    image: { name: 'chart.png', png: await renderTrendChart(generatedMonth('slack-command')), alt: 'example.com' },
  };
}

async function ask(fake: FakeSlack, text: string, log?: never) {
  const reply = await chartReply();
  await handleDmarcCommand(
    {
      command: {
        text,
        user_id: 'U0ALICE',
        user_name: 'alice',
        channel_id: 'C0OPS',
        response_url: fake.responseUrl(),
      },
      ack: async () => undefined,
      respond: async () => {
        throw new Error('the answer goes to response_url');
      },
      client: new webApi.WebClient('xoxb-test', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } }),
    },
    { answer: async () => reply, access: { allowedChannels: [], allowedUsers: [] }, ...(log ? { log } : {}) },
  );
  return reply;
}

describe('/dmarc chart on Slack', () => {
  it('shares the picture in the channel when asked with public, after the text answer', async () => {
    slack = await startFakeSlack();
    const reply = await ask(slack, 'chart example.com public');
    const order = slack.calls.map((call) => (call.path.split('/')[1] === 'response' ? 'response_url' : call.path));
    expect(order[0]).toBe('response_url');
    expect(slack.uploads).toHaveLength(1);
    expect(slack.uploads[0]!.bytes!.equals(reply.image!.png)).toBe(true);
    expect(slack.uploads[0]!.completed).toMatchObject({ channelId: 'C0OPS', threadTs: null });
    expect(slack.callsTo('conversations.open')).toEqual([]);
  });

  it("shares a private answer's picture in the asker's direct messages", async () => {
    slack = await startFakeSlack();
    await ask(slack, 'chart example.com');
    expect(slack.callsTo('conversations.open')[0]!.body.users).toBe('U0ALICE');
    expect(slack.uploads[0]!.completed).toMatchObject({ channelId: 'DU0ALICE' });
  });

  it('without im:write answers privately in text alone and logs why', async () => {
    slack = await startFakeSlack({ scopes: ['chat:write', 'commands', 'files:write'] });
    const warnings: Array<[Record<string, unknown>, string]> = [];
    const log = { warn: (fields: Record<string, unknown>, message: string) => warnings.push([fields, message]) };
    await ask(slack, 'chart example.com', log as never);
    expect(slack.callsTo('/response/')).toHaveLength(1);
    expect(slack.uploads).toEqual([]);
    expect(warnings[0]![0].code).toBe('missing_scope');
    expect(warnings[0]![1]).toMatch(/im:write/);
  });
});
