import { describe, expect, it } from 'vitest';
import type { Reply } from '../../src/reply/model.ts';
import { PostError, type Destination } from '../../src/chat/post.ts';
import { dueDigests, latestSlot } from '../../src/schedule/due.ts';
import { createDigestScheduler, type DigestLedger } from '../../src/schedule/runner.ts';

/** A ledger over a plain map; a "restart" is a new scheduler over the same map. */
function mapLedger(map = new Map<string, string>()): DigestLedger & { map: Map<string, string> } {
  return {
    map,
    lastSent: async (destination) => map.get(destination),
    markSent: async (destination, until) => void map.set(destination, until),
  };
}

function recordingDestination(
  id: string,
  failWith?: () => Error | null,
): Destination & { posts: Reply[]; attempts: number } {
  const destination = {
    id,
    posts: [] as Reply[],
    attempts: 0,
    async post(reply: Reply) {
      destination.attempts++;
      const error = failWith?.();
      if (error) throw error;
      destination.posts.push(reply);
    },
  };
  return destination;
}

const noSleep = { sleep: async () => undefined, baseDelayMs: 1 };

function clock(startIso: string) {
  let current = Date.parse(startIso);
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
  };
}

const buildDigest = async ({ since, until }: { since: string; until: string }) => ({
  reply: { title: `Digest ${since} .. ${until}`, tone: 'info' as const, blocks: [] },
  reportCount: 0,
});

describe('dueDigests', () => {
  it('puts the slot at the local digest time in the zone, also on the day DST starts', () => {
    // Berlin switches to summer time on 2026-03-29: 09:00 local is 08:00 UTC the day before, 07:00 UTC after
    expect(latestSlot(new Date('2026-03-28T12:00:00Z'), '09:00', 'Europe/Berlin').toISOString()).toBe(
      '2026-03-28T08:00:00.000Z',
    );
    expect(latestSlot(new Date('2026-03-29T12:00:00Z'), '09:00', 'Europe/Berlin').toISOString()).toBe(
      '2026-03-29T07:00:00.000Z',
    );
    // and back on winter time on 2026-10-25
    expect(latestSlot(new Date('2026-10-25T12:00:00Z'), '09:00', 'Europe/Berlin').toISOString()).toBe(
      '2026-10-25T08:00:00.000Z',
    );
    // a digest time inside the skipped hour moves to just after it
    expect(latestSlot(new Date('2026-03-29T12:00:00Z'), '02:30', 'Europe/Berlin').toISOString()).toBe(
      '2026-03-29T01:30:00.000Z',
    );
    // before today's slot the latest one is yesterday's
    expect(latestSlot(new Date('2026-03-29T06:59:00Z'), '09:00', 'Europe/Berlin').toISOString()).toBe(
      '2026-03-28T08:00:00.000Z',
    );
  });

  it('owes a digest to a destination never served and to one whose last digest predates the slot', () => {
    const now = new Date('2026-05-10T10:00:00Z');
    const due = dueDigests(now, { a: undefined, b: '2026-05-09T09:00:05Z', c: '2026-05-10T09:00:30Z' }, '09:00', 'UTC');
    expect(due.map((d) => d.destination)).toEqual(['a', 'b']);
    expect(due[0]!.since).toBe('2026-05-09T09:00:00.000Z');
    expect(due[1]!.since).toBe('2026-05-09T09:00:05.000Z');
  });
});

describe('digest scheduler', () => {
  it('posts each digest exactly once a day per destination, with windows that join up', async () => {
    const time = clock('2026-03-27T06:00:00Z');
    const ledger = mapLedger(
      new Map([
        ['slack:C1', '2026-03-26T08:00:00.000Z'],
        ['discord:9', '2026-03-26T08:00:00.000Z'],
      ]),
    );
    const slack = recordingDestination('slack:C1');
    const discord = recordingDestination('discord:9');
    const scheduler = createDigestScheduler({
      destinations: [slack, discord],
      ledger,
      buildDigest,
      digestTime: '09:00',
      timeZone: 'Europe/Berlin',
      now: time.now,
      retry: noSleep,
    });
    // four days in 7-minute steps, across the start of summer time
    for (let step = 0; step < (4 * 24 * 60) / 7; step++) {
      await scheduler.tick();
      time.advance(7 * 60_000);
    }
    expect(slack.posts).toHaveLength(4);
    expect(discord.posts).toHaveLength(4);
    const windows = slack.posts.map((reply) => reply.title.replace('Digest ', '').split(' .. '));
    for (let i = 1; i < windows.length; i++) expect(windows[i]![0]).toBe(windows[i - 1]![1]);
    // each post happened within one step after 09:00 Berlin time
    for (const [, until] of windows) {
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        hour: '2-digit',
        minute: '2-digit',
      }).format(new Date(until!));
      expect(local >= '09:00' && local < '09:07').toBe(true);
    }
  });

  it('does not post again after a restart, and catches up once after downtime', async () => {
    const ledger = mapLedger();
    const time = clock('2026-06-01T09:30:00Z');
    const first = recordingDestination('terminal');
    const a = createDigestScheduler({
      destinations: [first],
      ledger,
      buildDigest,
      digestTime: '09:00',
      timeZone: 'UTC',
      now: time.now,
      retry: noSleep,
    });
    await a.tick();
    expect(first.posts).toHaveLength(1);
    await a.stop();

    // restart the same day: nothing due
    const second = recordingDestination('terminal');
    const b = createDigestScheduler({
      destinations: [second],
      ledger,
      buildDigest,
      digestTime: '09:00',
      timeZone: 'UTC',
      now: time.now,
      retry: noSleep,
    });
    time.advance(60 * 60_000);
    await b.tick();
    expect(second.posts).toHaveLength(0);
    await b.stop();

    // down for three days, back at noon: one digest covering the whole gap
    time.advance(3 * 24 * 3600_000);
    const third = recordingDestination('terminal');
    const c = createDigestScheduler({
      destinations: [third],
      ledger,
      buildDigest,
      digestTime: '09:00',
      timeZone: 'UTC',
      now: time.now,
      retry: noSleep,
    });
    await c.tick();
    await c.tick();
    expect(third.posts).toHaveLength(1);
    expect(third.posts[0]!.title).toBe('Digest 2026-06-01T09:30:00.000Z .. 2026-06-04T10:30:00.000Z');
  });

  it('leaves a digest due and unmarked while the platform keeps failing, and sends it once it recovers', async () => {
    const ledger = mapLedger();
    const time = clock('2026-06-01T09:00:00Z');
    let down = true;
    const flaky = recordingDestination('slack:C1', () => (down ? new PostError('slack answered 503', 503) : null));
    const healthy = recordingDestination('discord:2');
    const sleeps: number[] = [];
    const scheduler = createDigestScheduler({
      destinations: [flaky, healthy],
      ledger,
      buildDigest,
      digestTime: '09:00',
      timeZone: 'UTC',
      now: time.now,
      retry: { attempts: 3, baseDelayMs: 1000, sleep: async (ms) => void sleeps.push(ms) },
    });
    const outcomes = await scheduler.tick();
    expect(outcomes.find((o) => o.destination === 'slack:C1')!.status).toBe('failed');
    expect(outcomes.find((o) => o.destination === 'discord:2')!.status).toBe('sent');
    expect(flaky.attempts).toBe(3);
    expect(sleeps).toEqual([1000, 2000]);
    expect(ledger.map.has('slack:C1')).toBe(false);

    // still failing an hour later: still not marked
    time.advance(3600_000);
    await scheduler.tick();
    expect(ledger.map.has('slack:C1')).toBe(false);

    down = false;
    time.advance(3600_000);
    await scheduler.tick();
    expect(flaky.posts).toHaveLength(1);
    expect(ledger.map.get('slack:C1')).toBe(time.now().toISOString());
    expect(healthy.posts).toHaveLength(1);
  });

  it('waits at least as long as Retry-After says after a 429', async () => {
    const ledger = mapLedger();
    let calls = 0;
    const limited = recordingDestination('slack:C1', () =>
      ++calls === 1 ? new PostError('rate limited', 429, 7000) : null,
    );
    const sleeps: number[] = [];
    const scheduler = createDigestScheduler({
      destinations: [limited],
      ledger,
      buildDigest,
      digestTime: '09:00',
      timeZone: 'UTC',
      now: () => new Date('2026-06-01T10:00:00Z'),
      retry: { baseDelayMs: 10, sleep: async (ms) => void sleeps.push(ms) },
    });
    const [outcome] = await scheduler.tick();
    expect(outcome!.status).toBe('sent');
    expect(sleeps).toEqual([7000]);
  });

  it('does not post a duplicate when two passes overlap', async () => {
    const ledger = mapLedger();
    const destination = recordingDestination('terminal');
    const scheduler = createDigestScheduler({
      destinations: [destination],
      ledger,
      buildDigest,
      digestTime: '09:00',
      timeZone: 'UTC',
      now: () => new Date('2026-06-01T10:00:00Z'),
      retry: noSleep,
    });
    await Promise.all([scheduler.tick(), scheduler.tick(), scheduler.tick()]);
    expect(destination.posts).toHaveLength(1);
  });

  it('runs passes on its timer until stopped', async () => {
    const destination = recordingDestination('terminal');
    const time = clock('2026-06-01T08:58:00Z');
    const timers: Array<() => void> = [];
    const scheduler = createDigestScheduler({
      destinations: [destination],
      ledger: mapLedger(new Map([['terminal', '2026-05-31T09:00:00.000Z']])),
      buildDigest,
      digestTime: '09:00',
      timeZone: 'UTC',
      now: time.now,
      retry: noSleep,
      setTimer: (callback) => {
        timers.push(callback);
        return () => undefined;
      },
    });
    scheduler.start();
    await new Promise((resolve) => setImmediate(resolve));
    expect(destination.posts).toHaveLength(0);
    time.advance(3 * 60_000);
    timers.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(destination.posts).toHaveLength(1);
    await scheduler.stop();
  });
});

describe('digest ledger in a real SQLite store', () => {
  it('remembers what was sent across a close and reopen of the store', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openStore } = await import('../../src/store/index.ts');
    const { storeLedger } = await import('../../src/schedule/runner.ts');
    const dir = await mkdtemp(join(tmpdir(), 'dmarc-ledger-'));
    const url = `sqlite://${join(dir, 'store.sqlite')}`;
    try {
      const now = () => new Date('2026-06-01T09:05:00Z');
      let store = await openStore(url);
      const first = recordingDestination('slack:C1');
      await createDigestScheduler({
        destinations: [first],
        ledger: storeLedger(store),
        buildDigest,
        digestTime: '09:00',
        timeZone: 'UTC',
        now,
        retry: noSleep,
      }).tick();
      expect(first.posts).toHaveLength(1);
      await store.close();

      store = await openStore(url);
      const again = recordingDestination('slack:C1');
      const other = recordingDestination('discord:5');
      await createDigestScheduler({
        destinations: [again, other],
        ledger: storeLedger(store),
        buildDigest,
        digestTime: '09:00',
        timeZone: 'UTC',
        now,
        retry: noSleep,
      }).tick();
      expect(again.posts).toHaveLength(0);
      // a destination added later gets its own first digest
      expect(other.posts).toHaveLength(1);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
