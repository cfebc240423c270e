import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/reply/model.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { openStore } from '../../src/store/index.ts';
import { createAlertPacer } from '../../src/alerts/pacer.ts';
import { createSlackBot } from '../../src/chat/slack/app.ts';
import type { Destination } from '../../src/chat/post.ts';
import { startFakeSlack } from '../support/fake-slack.ts';

const alert = (n: number): Reply => ({ title: `DMARC alert ${n}`, tone: 'bad', blocks: [] });

/** a clock that only moves when the pacer sleeps */
function fakeClock(start: string) {
  let at = Date.parse(start);
  const slept: number[] = [];
  return {
    now: () => new Date(at),
    sleep: async (ms: number) => {
      slept.push(ms);
      at += ms;
    },
    advance: (ms: number) => void (at += ms),
    slept,
  };
}

function recorder(id: string, clock: { now(): Date }): Destination & { posts: Array<{ title: string; at: number }> } {
  const destination = {
    id,
    posts: [] as Array<{ title: string; at: number }>,
    async post(reply: Reply) {
      destination.posts.push({ title: reply.title, at: clock.now().getTime() });
    },
  };
  return destination;
}

describe('alert pacer', () => {
  let dir: string;
  let store: ReportStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmarc-pacer-'));
    store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the minimum interval per destination, each destination on its own queue', async () => {
    const clock = fakeClock('2026-06-11T08:00:00Z');
    const a = recorder('a', clock);
    const b = recorder('b', clock);
    const pacer = createAlertPacer({
      destinations: [a, b],
      store,
      timeZone: 'UTC',
      minIntervalMs: 30_000,
      now: clock.now,
      sleep: clock.sleep,
    });
    await Promise.all([pacer.send(alert(1)), pacer.send(alert(2)), pacer.send(alert(3))]);
    for (const destination of [a, b]) {
      expect(destination.posts.map((p) => p.title)).toEqual(['DMARC alert 1', 'DMARC alert 2', 'DMARC alert 3']);
      const gaps = destination.posts.slice(1).map((p, i) => p.at - destination.posts[i]!.at);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(30_000);
    }
  });

  it('holds back alerts over the daily cap and sums them up once the day is over', async () => {
    const clock = fakeClock('2026-06-11T08:00:00Z');
    const a = recorder('a', clock);
    const pacer = createAlertPacer({
      destinations: [a],
      store,
      timeZone: 'UTC',
      dailyCap: 2,
      now: clock.now,
      sleep: clock.sleep,
    });
    const outcomes = [];
    for (let n = 1; n <= 5; n++) outcomes.push((await pacer.send(alert(n))).get('a'));
    expect(outcomes).toEqual(['sent', 'sent', 'held', 'held', 'held']);
    expect(a.posts).toHaveLength(2);
    await pacer.summarizeHeld();
    expect(a.posts).toHaveLength(2); // the day is not over yet

    clock.advance(24 * 3600_000);
    // a new pacer (a restart): the count is in the store
    const later = createAlertPacer({
      destinations: [a],
      store,
      timeZone: 'UTC',
      dailyCap: 2,
      now: clock.now,
      sleep: clock.sleep,
    });
    await later.summarizeHeld();
    expect(a.posts.map((p) => p.title)).toEqual([
      'DMARC alert 1',
      'DMARC alert 2',
      'DMARC alerts: 3 more alerts were held back on 2026-06-11 (daily cap 2)',
    ]);
    await later.summarizeHeld();
    expect(a.posts).toHaveLength(3); // once
    expect((await later.send(alert(6))).get('a')).toBe('sent');
  });

  it('the cap survives a restart within the day', async () => {
    const clock = fakeClock('2026-06-11T08:00:00Z');
    const a = recorder('a', clock);
    const options = { destinations: [a], store, timeZone: 'UTC', dailyCap: 1, now: clock.now, sleep: clock.sleep };
    expect((await createAlertPacer(options).send(alert(1))).get('a')).toBe('sent');
    expect((await createAlertPacer(options).send(alert(2))).get('a')).toBe('held');
  });

  it("honours a 429's Retry-After from Slack", async () => {
    const fake = await startFakeSlack();
    try {
      const slack = createSlackBot({
        botToken: 'xoxb-pacer',
        signingSecret: 'pacer-secret',
        port: 0,
        apiUrl: fake.apiUrl,
        digestChannel: 'C0ALERTS',
        answer: async () => ({ title: '', tone: 'info', blocks: [] }),
        access: { allowedChannels: [], allowedUsers: [] },
      });
      fake.failNext('chat.postMessage', { status: 429, headers: { 'retry-after': '7' } });
      const clock = fakeClock('2026-06-11T08:00:00Z');
      const pacer = createAlertPacer({
        destinations: [slack.destination!],
        store,
        timeZone: 'UTC',
        now: clock.now,
        sleep: clock.sleep,
      });
      expect((await pacer.send(alert(1))).get('slack:C0ALERTS')).toBe('sent');
      expect(clock.slept).toEqual([7000]);
      expect(fake.callsTo('chat.postMessage')).toHaveLength(2);
    } finally {
      await fake.close();
    }
  });
});
