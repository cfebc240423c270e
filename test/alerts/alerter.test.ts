import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import type { Reply } from '../../src/reply/model.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { openStore } from '../../src/store/index.ts';
import { createAlerter } from '../../src/alerts/alerter.ts';
import { PostError, type Destination } from '../../src/chat/post.ts';

function record(ip: string, count: number, dmarc: 'pass' | 'fail'): AggregateRecord {
  return {
    sourceIp: ip,
    count,
    disposition: 'none',
    evaluated: { dkim: dmarc, spf: 'fail' },
    dmarc,
    identifiers: { headerFrom: 'example.com', envelopeFrom: null, envelopeTo: null },
    reasons: [],
    authResults: { dkim: dmarc === 'pass' ? [{ domain: 'example.com', selector: 's', result: 'pass' }] : [], spf: [] },
    alignment: { dkim: dmarc === 'pass', spf: false },
  };
}

let reportCounter = 0;
function report(day: string, records: AggregateRecord[], orgName = 'google.com'): AggregateReport {
  return {
    kind: 'aggregate',
    orgName,
    orgEmail: null,
    reportId: `r-${++reportCounter}`,
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

function recorder(fail = () => false): Destination & { posts: Reply[] } {
  const destination = {
    id: 'test',
    posts: [] as Reply[],
    async post(reply: Reply) {
      if (fail()) throw new PostError('down', 503);
      destination.posts.push(reply);
    },
  };
  return destination;
}

describe('alerter on a real SQLite store', () => {
  let dir: string;
  let store: ReportStore;
  let now = new Date('2026-06-11T08:00:00Z');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmarc-alerts-'));
    store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    now = new Date('2026-06-11T08:00:00Z');
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** what the ingest pipeline does: store the report, then hand it to onReport */
  async function ingestAndCheck(alerter: ReturnType<typeof createAlerter>, r: AggregateReport) {
    expect(await store.ingest(r, 'test', now)).toBe('new');
    await store.flush();
    return alerter.process(r);
  }

  it('alerts once per source per day for a new failing source, again the next day', async () => {
    const destination = recorder();
    const alerter = createAlerter({
      store,
      destinations: [destination],
      rules: { minMessages: 10 },
      timeZone: 'UTC',
      now: () => now,
      retry: { sleep: async () => undefined },
    });
    const first = await ingestAndCheck(
      alerter,
      report('2026-06-10', [record('203.0.113.7', 25, 'fail'), record('192.0.2.1', 100, 'pass')]),
    );
    expect(first.map((f) => [f.kind, f.ip])).toEqual([['new-failing-source', '203.0.113.7']]);
    expect(destination.posts).toHaveLength(1);
    expect(destination.posts[0]!.title).toContain('203.0.113.7');

    // another reporter tells the same story the same day: no second alert
    await ingestAndCheck(alerter, report('2026-06-10', [record('203.0.113.7', 30, 'fail')], 'yahoo.com'));
    expect(destination.posts).toHaveLength(1);

    // next day it goes on: one more alert
    now = new Date('2026-06-12T08:00:00Z');
    await ingestAndCheck(alerter, report('2026-06-11', [record('203.0.113.7', 30, 'fail')]));
    expect(destination.posts).toHaveLength(2);
  });

  it('uses the stored history: a source that passed before is only reported on a sharp rise', async () => {
    const destination = recorder();
    const alerter = createAlerter({
      store,
      destinations: [destination],
      rules: { minMessages: 10 },
      timeZone: 'UTC',
      now: () => now,
    });
    // a week of history: passing mostly, failing 5 a day
    for (let day = 3; day <= 9; day++)
      await store.ingest(
        report(`2026-06-0${day}`, [record('198.51.100.4', 50, 'pass'), record('198.51.100.4', 5, 'fail')]),
        'history',
        now,
      );
    await store.flush();
    expect(await ingestAndCheck(alerter, report('2026-06-10', [record('198.51.100.4', 14, 'fail')]))).toEqual([]);
    const rise = await ingestAndCheck(alerter, report('2026-06-10', [record('198.51.100.4', 15, 'fail')], 'yahoo.com'));
    expect(rise.map((f) => f.kind)).toEqual(['failing-surge']);
  });

  it('stays silent for a source marked spoof', async () => {
    await store.setMark({ subject: '203.0.113.7', verdict: 'spoof', by: 'test', at: now.toISOString() });
    const destination = recorder();
    const alerter = createAlerter({
      store,
      destinations: [destination],
      rules: { minMessages: 10 },
      timeZone: 'UTC',
      now: () => now,
    });
    expect(await ingestAndCheck(alerter, report('2026-06-10', [record('203.0.113.7', 500, 'fail')]))).toEqual([]);
    expect(destination.posts).toHaveLength(0);
  });

  it('does not remember an alert no platform took, so the next report tries again', async () => {
    let down = true;
    const destination = recorder(() => down);
    const alerter = createAlerter({
      store,
      destinations: [destination],
      rules: { minMessages: 10 },
      timeZone: 'UTC',
      now: () => now,
      retry: { attempts: 2, sleep: async () => undefined },
    });
    expect(await ingestAndCheck(alerter, report('2026-06-10', [record('203.0.113.7', 25, 'fail')]))).toEqual([]);
    down = false;
    await ingestAndCheck(alerter, report('2026-06-10', [record('203.0.113.7', 25, 'fail')], 'yahoo.com'));
    expect(destination.posts).toHaveLength(1);
  });

  it('queues reports handed to onReport and ignores failure and TLS reports', async () => {
    const destination = recorder();
    const alerter = createAlerter({
      store,
      destinations: [destination],
      rules: { minMessages: 10 },
      timeZone: 'UTC',
      now: () => now,
    });
    const r = report('2026-06-10', [record('203.0.113.8', 12, 'fail')]);
    await store.ingest(r, 'test', now);
    await store.flush();
    alerter.onReport({
      kind: 'tls',
      orgName: 'x',
      reportId: 't',
      begin: r.begin,
      end: r.end,
      contactInfo: null,
      policies: [],
    });
    alerter.onReport(r);
    await alerter.idle();
    expect(destination.posts.map((p) => (p.data as { alert: { ip: string } }).alert.ip)).toEqual(['203.0.113.8']);
  });
});
