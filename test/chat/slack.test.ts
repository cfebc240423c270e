import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Receiver, ReceiverEvent } from '@slack/bolt';
import type { App } from '@slack/bolt';
import type { Reply } from '../../src/reply/model.ts';
import type { CommandRequest, Requester } from '../../src/command-kit/types.ts';
import { createSlackBot, type SlackBot } from '../../src/chat/slack/app.ts';
import { withRetry } from '../../src/chat/post.ts';
import { SOCKET_TICKET, startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { createLogger } from '../../src/log.ts';
import { Writable } from 'node:stream';

const signingSecret = 'test-signing-secret-0123456789';
const botToken = 'xoxb-test-token-abcdef';

/** The answer function the adapter is given: records who asked what. */
function recordingAnswer() {
  const asked: Array<{ line: string; requester: Requester }> = [];
  const answer = async (request: CommandRequest, requester: Requester): Promise<Reply> => {
    // Slack's slash command is text: it reaches the dispatcher as a line
    if (typeof request !== 'string') throw new Error('Slack handed a typed command');
    const line = request;
    asked.push({ line, requester });
    if (line.startsWith('sources')) {
      return {
        title: 'Sources',
        tone: 'info',
        blocks: [
          {
            type: 'list',
            title: 'All sources',
            items: Array.from({ length: 500 }, (_, i) => `10.0.${Math.floor(i / 200)}.${i % 200} <sender ${i}>`),
          },
        ],
      };
    }
    return { title: `Answer to ${line}`, tone: 'good', blocks: [{ type: 'text', text: `You asked: ${line}` }] };
  };
  return { asked, answer };
}

function slashBody(fake: FakeSlack, text: string, overrides: Record<string, string> = {}): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0001',
    team_domain: 'example',
    channel_id: 'C0ALLOWED',
    channel_name: 'ops',
    user_id: 'U0ASKER',
    user_name: 'alice',
    command: '/dmarc',
    text,
    api_app_id: 'A0001',
    response_url: fake.responseUrl(),
    trigger_id: '1.2.3',
    ...overrides,
  }).toString();
}

function sign(body: string, timestamp: number, secret = signingSecret): string {
  return 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
}

async function post(port: number, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
}

async function signedPost(port: number, body: string): Promise<Response> {
  const timestamp = Math.floor(Date.now() / 1000);
  return post(port, body, {
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': sign(body, timestamp),
  });
}

describe('Slack in HTTP mode (real Bolt app, signed requests on loopback)', () => {
  let fake: FakeSlack;
  let bot: SlackBot;
  let port: number;
  const recorder = recordingAnswer();

  beforeAll(async () => {
    fake = await startFakeSlack();
    bot = createSlackBot({
      botToken,
      signingSecret,
      port: 0,
      apiUrl: fake.apiUrl,
      digestChannel: 'C0DIGEST',
      answer: recorder.answer,
      access: { allowedChannels: ['C0ALLOWED'], allowedUsers: ['U0BOSS'] },
      retry: { sleep: async () => undefined },
    });
    ({ port } = (await bot.start()) as { port: number });
  });
  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
  });
  beforeEach(() => {
    recorder.asked.length = 0;
    fake.calls.length = 0;
  });

  it('acknowledges a signed /dmarc at once and sends the answer, ephemeral, to response_url', async () => {
    const body = slashBody(fake, 'ip 192.0.2.1');
    const response = await signedPost(port, body);
    expect(response.status).toBe(200);
    await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
    const [answer] = fake.callsTo('/response/');
    expect(answer!.body.response_type).toBe('ephemeral');
    expect(answer!.body.text).toContain('Answer to ip 192.0.2.1');
    expect(JSON.stringify(answer!.body.blocks)).toContain('You asked: ip 192.0.2.1');
    expect(recorder.asked).toEqual([
      {
        line: 'ip 192.0.2.1',
        requester: { platform: 'slack', userId: 'U0ASKER', userName: 'alice', channelId: 'C0ALLOWED' },
      },
    ]);
  });

  it('shares the answer in the channel when asked with "public"', async () => {
    await signedPost(port, slashBody(fake, 'summary public'));
    await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
    const [answer] = fake.callsTo('/response/');
    expect(answer!.body.response_type).toBe('in_channel');
    expect(recorder.asked[0]!.line).toBe('summary');
  });

  it('refuses a forged signature with 401 and runs nothing', async () => {
    const body = slashBody(fake, 'ip 192.0.2.1');
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await post(port, body, {
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': sign(body, timestamp, 'not-the-secret'),
    });
    expect(response.status).toBe(401);
    // a valid request afterwards is answered, and it is the only thing that ran
    await signedPost(port, slashBody(fake, 'help'));
    await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
    expect(recorder.asked.map((a) => a.line)).toEqual(['help']);
    expect(fake.callsTo('/response/')).toHaveLength(1);
  });

  it('refuses a stale request (timestamp older than 5 minutes), even when correctly signed', async () => {
    const body = slashBody(fake, 'ip 192.0.2.1');
    const stale = Math.floor(Date.now() / 1000) - 10 * 60;
    const response = await post(port, body, {
      'x-slack-request-timestamp': String(stale),
      'x-slack-signature': sign(body, stale),
    });
    expect(response.status).toBe(401);
    await signedPost(port, slashBody(fake, 'help'));
    await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
    expect(recorder.asked.map((a) => a.line)).toEqual(['help']);
  });

  it('answers people outside the allow-lists with a polite refusal, without running the command', async () => {
    await signedPost(port, slashBody(fake, 'ip 192.0.2.1', { channel_id: 'C0OTHER', user_id: 'U0STRANGER' }));
    await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
    const [answer] = fake.callsTo('/response/');
    expect(answer!.body.response_type).toBe('ephemeral');
    expect(String(answer!.body.text)).toMatch(/Sorry/);
    expect(recorder.asked).toEqual([]);
    // an allowed user is answered in any channel
    fake.calls.length = 0;
    await signedPost(port, slashBody(fake, 'help', { channel_id: 'C0OTHER', user_id: 'U0BOSS' }));
    await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
    expect(recorder.asked.map((a) => a.requester.userId)).toEqual(['U0BOSS']);
  });

  it('keeps a 500-source answer within Block Kit limits', async () => {
    await signedPost(port, slashBody(fake, 'sources'));
    await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
    const blocks = fake.callsTo('/response/')[0]!.body.blocks as Array<{ type: string; text?: { text: string } }>;
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const block of blocks) if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    const list = blocks.find((block) => block.text?.text.includes('All sources'))!;
    expect(list.text!.text).toMatch(/… and \d+ more$/);
    // escaped: the angle brackets from the data do not reach Slack raw
    expect(list.text!.text).toContain('&lt;sender 0&gt;');
  });

  it('refuses a request body over 64 KiB before parsing it', async () => {
    const body = slashBody(fake, 'ip ' + 'x'.repeat(70 * 1024));
    const response = await signedPost(port, body);
    expect(response.status).toBe(413);
    expect(recorder.asked).toEqual([]);
  });

  it('posts a digest with chat.postMessage to the digest channel, with the bot token and a text fallback', async () => {
    await bot.destination!.post({
      title: 'Daily DMARC digest',
      tone: 'info',
      blocks: [{ type: 'text', text: '3 new reports' }],
    });
    const [call] = fake.callsTo('chat.postMessage');
    expect(call!.headers.authorization).toBe(`Bearer ${botToken}`);
    expect(call!.body.channel).toBe('C0DIGEST');
    expect(call!.body.text).toContain('Daily DMARC digest');
    expect(JSON.stringify(call!.body.blocks)).toContain('3 new reports');
  });

  it('retries a digest post after a 429, waiting as long as Retry-After says', async () => {
    fake.failNext('chat.postMessage', { status: 429, headers: { 'retry-after': '3' } });
    const waits: number[] = [];
    await withRetry(() => bot.destination!.post({ title: 'Digest', tone: 'info', blocks: [] }), {
      sleep: async (ms) => void waits.push(ms),
    });
    expect(waits).toEqual([3000]);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(2);
  });

  it('retries after a 500 and gives up after the bounded attempts', async () => {
    fake.failNext('chat.postMessage', { status: 500 }, { status: 502 }, { status: 503 });
    const waits: number[] = [];
    await expect(
      withRetry(() => bot.destination!.post({ title: 'Digest', tone: 'info', blocks: [] }), {
        attempts: 3,
        baseDelayMs: 100,
        sleep: async (ms) => void waits.push(ms),
      }),
    ).rejects.toThrow();
    expect(waits).toEqual([100, 200]);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(3);
  });
});

/** Bolt's receiver interface without a network: hands each event to the app and captures the ack. */
class DirectReceiver implements Receiver {
  private app: App | undefined;
  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async deliver(body: Record<string, unknown>): Promise<{ acked: boolean }> {
    let acked = false;
    const event: ReceiverEvent = {
      body,
      ack: async () => {
        acked = true;
      },
    };
    await this.app!.processEvent(event);
    return { acked };
  }
}

describe('Slack command path through the receiver interface (as Socket Mode delivers it)', () => {
  it('acknowledges and answers a slash command event', async () => {
    const fake = await startFakeSlack();
    const receiver = new DirectReceiver();
    const recorder = recordingAnswer();
    const bot = createSlackBot({
      botToken,
      apiUrl: fake.apiUrl,
      receiver,
      answer: recorder.answer,
      access: { allowedChannels: [], allowedUsers: [] },
      botId: 'B0BOT',
      botUserId: 'U0BOT',
    });
    try {
      await bot.start();
      const body = Object.fromEntries(new URLSearchParams(slashBody(fake, 'date 2026-06-01')));
      const { acked } = await receiver.deliver(body);
      expect(acked).toBe(true);
      await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
      expect(fake.callsTo('/response/')[0]!.body.text).toContain('Answer to date 2026-06-01');
      expect(bot.mode).toBe('custom');
      // botId given: Bolt did not need auth.test
      expect(fake.callsTo('auth.test')).toHaveLength(0);
    } finally {
      await bot.stop();
      await fake.close();
    }
  });
});

describe('Slack in Socket Mode (SocketModeReceiver against the stand-in)', () => {
  it('connects with apps.connections.open, acknowledges the envelope and answers via response_url', async () => {
    const fake = await startFakeSlack();
    const recorder = recordingAnswer();
    const bot = createSlackBot({
      botToken,
      appToken: 'xapp-1-test-app-token',
      apiUrl: fake.apiUrl,
      answer: recorder.answer,
      access: { allowedChannels: [], allowedUsers: [] },
      botId: 'B0BOT',
      botUserId: 'U0BOT',
    });
    try {
      expect(bot.mode).toBe('socket');
      await bot.start();
      await fake.socketConnected();
      const open = fake.callsTo('apps.connections.open');
      expect(open).toHaveLength(1);
      expect(open[0]!.headers.authorization).toBe('Bearer xapp-1-test-app-token');
      const envelopeId = fake.sendSlashCommand(
        Object.fromEntries(new URLSearchParams(slashBody(fake, 'ip 192.0.2.7 public'))),
      );
      await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
      expect(fake.socketAcks.map((ack) => ack.envelope_id)).toContain(envelopeId);
      const [answer] = fake.callsTo('/response/');
      expect(answer!.body.response_type).toBe('in_channel');
      expect(answer!.body.text).toContain('Answer to ip 192.0.2.7');
    } finally {
      await bot.stop();
      await fake.close();
    }
  });
});

describe('Slack debug logs', () => {
  it('never show the Socket Mode ticket or a response_url, even at debug level', async () => {
    const fake = await startFakeSlack();
    const logged: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const recorder = recordingAnswer();
    const bot = createSlackBot({
      botToken,
      appToken: 'xapp-1-test-app-token',
      apiUrl: fake.apiUrl,
      answer: recorder.answer,
      access: { allowedChannels: [], allowedUsers: [] },
      botId: 'B0BOT',
      botUserId: 'U0BOT',
      log: createLogger('debug', sink),
    });
    const responseUrl = fake.responseUrl('secret-response-path-77');
    try {
      await bot.start();
      await fake.socketConnected();
      fake.sendSlashCommand(
        Object.fromEntries(new URLSearchParams(slashBody(fake, 'ip 192.0.2.7', { response_url: responseUrl }))),
      );
      await fake.waitFor((calls) => calls.some((call) => call.path.startsWith('/response/')));
    } finally {
      await bot.stop();
      await fake.close();
    }
    const text = logged.join('');
    // the debug log did speak of the socket URL and of the command's payload ...
    expect(text).toMatch(/ticket=\[redacted\]/);
    expect(text).toMatch(/response_url.{0,8}\[redacted\]/);
    // ... with neither secret in it
    expect(text).not.toContain(SOCKET_TICKET);
    expect(text).not.toContain('secret-response-path-77');
  });
});

describe('Slack answer delivery', () => {
  it('retries an answer the response_url refused with 429, after the Retry-After it gave', async () => {
    const fake = await startFakeSlack();
    const receiver = new DirectReceiver();
    const recorder = recordingAnswer();
    const waits: number[] = [];
    const bot = createSlackBot({
      botToken,
      apiUrl: fake.apiUrl,
      receiver,
      answer: recorder.answer,
      access: { allowedChannels: [], allowedUsers: [] },
      botId: 'B0BOT',
      botUserId: 'U0BOT',
      retry: { sleep: async (ms) => void waits.push(ms) },
    });
    try {
      await bot.start();
      fake.failNext('/response/late', { status: 429, headers: { 'retry-after': '4' }, body: 'rate limited' });
      await receiver.deliver({
        ...Object.fromEntries(new URLSearchParams(slashBody(fake, 'help'))),
        response_url: fake.responseUrl('late'),
      });
      await fake.waitFor((calls) => calls.filter((call) => call.path === '/response/late').length >= 2);
      // Slack's own word: 4 seconds, not the first backoff step
      expect(waits).toEqual([4000]);
      expect(fake.callsTo('/response/late')[1]!.body.text).toContain('Answer to help');
    } finally {
      await bot.stop();
      await fake.close();
    }
  });
});
