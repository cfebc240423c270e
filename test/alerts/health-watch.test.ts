// The health alerts end to end on a real SQLite store: each episode alerts once, a closed episode
// alerts again when it comes back, and the digest scheduler runs the check after a digest.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import type { Reply } from '../../src/reply/model.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { openStore } from '../../src/store/index.ts';
import { createAlertPacer } from '../../src/alerts/pacer.ts';
import { createHealthWatch } from '../../src/alerts/health-watch.ts';
import { createDigestScheduler, storeLedger } from '../../src/schedule/runner.ts';
import type { Destination } from '../../src/chat/post.ts';
import { addDays } from '../../src/insight/stats.ts';

function record(ip: string, count: number, pass: boolean): AggregateRecord {
  return {
    sourceIp: ip,
    count,
    disposition: 'none',
    evaluated: { dkim: pass ? 'pass' : 'fail', spf: 'fail' },
    dmarc: pass ? 'pass' : 'fail',
    identifiers: { headerFrom: 'example.com', envelopeFrom: null, envelopeTo: null },
    reasons: [],
    authResults: { dkim: pass ? [{ domain: 'example.com', selector: 's1', result: 'pass' }] : [], spf: [] },
    alignment: { dkim: pass, spf: false },
  };
}

function report(day: string, records: AggregateRecord[]): AggregateReport {
  return {
    kind: 'aggregate',
    orgName: 'google.com',
    orgEmail: null,
    reportId: `r-${day}`,
    begin: `${day}T00:00:00Z`,
    end: `${day}T23:59:59Z`,
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

function recorder(): Destination & { posts: Reply[] } {
  const destination = {
    id: 'test',
    posts: [] as Reply[],
    async post(reply: Reply) {
      destination.posts.push(reply);
    },
  };
  return destination;
}

describe('health watch on a real store', () => {
  let dir: string;
  let store: ReportStore;
  let now: Date;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmarc-health-'));
    store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function steadyDays(from: string, count: number) {
    for (let i = 0; i < count; i++) {
      const day = addDays(from, i);
      await store.ingest(report(day, [record('192.0.2.10', 300, true), record('203.0.113.5', 3, false)]), 'gen', now);
    }
    await store.flush();
  }

  it('alerts once per episode: reports stop, come back, stop again', async () => {
    now = new Date('2026-06-21T08:00:00Z');
    await steadyDays('2026-06-01', 20); // up to 06-20
    const destination = recorder();
    const pacer = createAlertPacer({ destinations: [destination], store, timeZone: 'UTC', now: () => now });
    const watch = createHealthWatch({ store, pacer, now: () => now });
    expect(await watch.check()).toEqual([]);

    now = new Date('2026-06-25T08:00:00Z'); // 5 days without reports
    expect((await watch.check()).map((f) => f.kind)).toEqual(['no-reports']);
    expect(destination.posts.map((p) => p.title)).toEqual([
      'DMARC alert: No DMARC reports for example.com since 2026-06-20 (5 days)',
    ]);
    now = new Date('2026-06-26T08:00:00Z');
    // still the same episode, also for a new watcher (a restart): the ledger is in the store
    expect(await createHealthWatch({ store, pacer, now: () => now }).check()).toEqual([]);
    expect(destination.posts).toHaveLength(1);

    await steadyDays('2026-06-21', 5); // reports are back up to 06-25
    expect(await watch.check()).toEqual([]);
    now = new Date('2026-06-30T08:00:00Z');
    expect((await watch.check()).map((f) => f.kind)).toEqual(['no-reports']);
    expect(destination.posts).toHaveLength(2);
  });

  it('the digest scheduler runs the check after a digest went out', async () => {
    now = new Date('2026-06-21T09:30:00Z');
    await steadyDays('2026-06-01', 19);
    // the last day: our own server's mail fails
    await store.ingest(
      report('2026-06-20', [record('192.0.2.10', 100, true), record('192.0.2.10', 200, false)]),
      'gen',
      now,
    );
    await store.flush();
    const destination = recorder();
    const pacer = createAlertPacer({ destinations: [destination], store, timeZone: 'UTC', now: () => now });
    const watch = createHealthWatch({ store, pacer, now: () => now });
    const scheduler = createDigestScheduler({
      destinations: [destination],
      ledger: storeLedger(store),
      buildDigest: async () => ({ reply: { title: 'Daily DMARC digest', tone: 'info', blocks: [] }, reportCount: 1 }),
      digestTime: '09:00',
      timeZone: 'UTC',
      now: () => now,
      afterPass: watch.afterPass,
    });
    await scheduler.tick();
    expect(destination.posts.map((p) => p.title)).toEqual([
      'Daily DMARC digest',
      'DMARC alert: DMARC pass rate for example.com fell to 33.3 % on 2026-06-20 (99 % in the week before)',
    ]);
    await scheduler.tick();
    expect(destination.posts).toHaveLength(2);
  });
});
