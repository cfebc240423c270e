// A Slack Web API that accepts the connection and never answers: the post gives up at its
// deadline, the next digest still goes out, and shutdown is not held up.
import { describe, expect, it } from 'vitest';
import { createSlackBot } from '../../src/chat/slack/app.ts';
import { createDigestScheduler, type DigestLedger } from '../../src/schedule/runner.ts';
import { startFakeSlack } from '../support/fake-slack.ts';

describe('a hung Slack endpoint', () => {
  it('does not stop the next digest or the shutdown', async () => {
    const fake = await startFakeSlack();
    const bot = createSlackBot({
      botToken: 'xoxb-hung',
      signingSecret: 'hung-secret',
      port: 0,
      apiUrl: fake.apiUrl,
      digestChannel: 'C0DIGEST',
      answer: async () => ({ title: '', tone: 'info', blocks: [] }),
      access: { allowedChannels: [], allowedUsers: [] },
      // long enough for a loaded machine to answer auth.test, short enough for the test
      callTimeoutMs: 1500,
      stopGraceMs: 1000,
    });
    await bot.start();
    const sent = new Map<string, string>();
    const ledger: DigestLedger = {
      lastSent: async (destination) => sent.get(destination),
      markSent: async (destination, until) => void sent.set(destination, until),
    };
    let now = new Date('2026-06-11T09:05:00Z');
    const scheduler = createDigestScheduler({
      destinations: [bot.destination!],
      ledger,
      buildDigest: async () => ({ reply: { title: 'Daily DMARC digest', tone: 'info', blocks: [] }, reportCount: 0 }),
      digestTime: '09:00',
      timeZone: 'UTC',
      now: () => now,
      retry: { attempts: 1 },
    });
    try {
      fake.failNext('chat.postMessage', { status: 0, hang: true });
      const first = await scheduler.tick();
      expect(first.map((o) => o.status)).toEqual(['failed']);
      expect(first[0]!.error).toMatch(/no answer within|timeout/i);

      now = new Date('2026-06-11T10:05:00Z'); // after the rest
      const second = await scheduler.tick();
      expect(second.map((o) => o.status)).toEqual(['sent']);
      expect(fake.callsTo('chat.postMessage')).toHaveLength(2);

      // a post hangs while the bot shuts down: stop() still returns
      fake.failNext('chat.postMessage', { status: 0, hang: true });
      const hanging = bot.destination!.post({ title: 'late alert', tone: 'bad', blocks: [] }).catch((e: Error) => e);
      await scheduler.stop();
      await bot.stop();
      expect(await hanging).toBeInstanceOf(Error);
    } finally {
      await fake.close();
    }
  });
});
