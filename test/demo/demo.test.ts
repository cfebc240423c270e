import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDemoStore, wantsDemo, DEMO_DOMAIN, type DemoStore } from '../../src/demo/index.ts';
import { answer } from '../../src/command-kit/dispatch.ts';
import { createCommandContext } from '../../src/context.ts';
import { loadConfig } from '../../src/config.ts';

describe('wantsDemo', () => {
  it('runs the demo only when nothing points at a real store, mailbox or chat', () => {
    expect(wantsDemo({})).toBe(true);
    expect(wantsDemo({ TZ: 'Europe/Berlin', LOG_LEVEL: 'debug' })).toBe(true);
    expect(wantsDemo({ DMARC_STORE: 'sqlite://./data/mine.sqlite' })).toBe(false);
    expect(wantsDemo({ IMAP_HOST: 'mail.example.net' })).toBe(false);
    expect(wantsDemo({ IMAP_ACCOUNTS: 'main,work' })).toBe(false);
    expect(wantsDemo({ SLACK_BOT_TOKEN: 'xoxb-1' })).toBe(false);
    expect(wantsDemo({ DISCORD_WEBHOOK_URL: 'https://discord.example/api/webhooks/1/x' })).toBe(false);
    expect(wantsDemo({ IMAP_HOST: '  ' })).toBe(true);
    expect(wantsDemo({ DMARC_STORE: 'redis://x', DMARC_DEMO: '1' })).toBe(true);
    expect(wantsDemo({ DMARC_DEMO: '0' })).toBe(false);
  });
});

describe('the demo store', () => {
  const now = new Date('2026-11-29T08:00:00Z');
  let dir: string;
  let demo: DemoStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmarc-demo-'));
    demo = await prepareDemoStore({ now, path: join(dir, 'demo.sqlite') });
  });
  afterAll(async () => {
    await demo.store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds the generated month, ending yesterday, read through the real reader without errors', async () => {
    expect(demo.errors).toEqual([]);
    // every aggregate report of the month, plus the failure and TLS reports
    expect(demo.reports).toBeGreaterThan(demo.truth.totals.reports);
    expect(demo.truth.lastDay).toBe('2026-11-28');
    const days = await demo.store.days(DEMO_DOMAIN, demo.truth.firstDay, demo.truth.lastDay);
    const messages = days.flatMap((day) => Object.values(day.reports)).reduce((sum, part) => sum + part.messages, 0);
    expect(messages).toBe(demo.truth.totals.messages);
  });

  it('is made afresh at every start: the same month again is stored as new, not as duplicates of old demo data', async () => {
    const path = join(dir, 'again.sqlite');
    const first = await prepareDemoStore({ now, path });
    await first.store.close();
    const second = await prepareDemoStore({ now, path });
    expect(second.reports).toBe(first.reports);
    const days = await second.store.days(DEMO_DOMAIN, second.truth.firstDay, second.truth.lastDay);
    const messages = days.flatMap((day) => Object.values(day.reports)).reduce((sum, part) => sum + part.messages, 0);
    expect(messages).toBe(second.truth.totals.messages);
    await second.store.close();
  });

  it('gives /dmarc ready something real: not ready, with the newsletter service and the forgotten relay as blockers', async () => {
    const context = createCommandContext({
      config: loadConfig({}),
      store: demo.store,
      requester: { platform: 'terminal', userId: 'test' },
      now: () => now,
      dns: false,
    });
    const reply = await answer(`ready ${DEMO_DOMAIN}`, context);
    const data = reply.data as { verdict: string; blockers: Array<{ class: string; ips: string[] }> };
    expect(data.verdict).toBe('not-ready');
    const forgotten = demo.truth.sources.find((source) => source.role === 'forgotten')!;
    const esp = demo.truth.sources.find((source) => source.role === 'esp')!;
    expect(
      data.blockers.some(
        (blocker) => blocker.class === 'unconfirmed' && forgotten.ips.every((ip) => blocker.ips.includes(ip)),
      ),
    ).toBe(true);
    expect(
      data.blockers.some(
        (blocker) => blocker.class === 'legitimate-failing' && esp.ips.some((ip) => blocker.ips.includes(ip)),
      ),
    ).toBe(true);
    // an unconfirmed sender may be the owner's own or a spoofer: the reply says how to decide either way
    const text = JSON.stringify(reply.blocks);
    expect(text).toContain(`/dmarc mark ${forgotten.ips[0]} spoof`);
    // the spoofing run is what enforcement will stop, not a blocker
    const spoofer = demo.truth.sources.find((source) => source.role === 'spoofer')!;
    expect(data.blockers.some((blocker) => blocker.ips.some((ip) => spoofer.ips.includes(ip)))).toBe(false);
  });
});
