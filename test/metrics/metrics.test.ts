// Every metric of /metrics, scraped over HTTP, moved by the events that should move it: real
// ingest of generated reports into a real SQLite store, digests and alerts posted to a local
// stand-in of Slack's Web API, and per-domain figures equal to what /dmarc ready computes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../../src/config.ts';
import { createCommandContext, identifyFor } from '../../src/context.ts';
import { ingestInput } from '../../src/ingest/pipeline.ts';
import { queryReady } from '../../src/insight/index.ts';
import { readReports } from '../../src/reader/index.ts';
import {
  createMetrics,
  domainFigures,
  startMetricsServer,
  type Metrics,
  type MetricsServer,
} from '../../src/metrics/index.ts';
import { checkHealth } from '../../src/metrics/health.ts';
import { aggregateXml, exampleMonthMails, failureReportMail, tlsReportMail } from '../../src/generate/index.ts';
import { createDigestScheduler, storeLedger } from '../../src/schedule/runner.ts';
import { createAlerter } from '../../src/alerts/alerter.ts';
import { createSlackBot } from '../../src/chat/slack/app.ts';
import { buildDigest } from '../../src/digest/build.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { aggregate, failure, record, tls } from '../store/factories.ts';
import { mailWithoutReport } from '../support/mail.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { freshSqliteStore } from '../ingest/totals.ts';
import { sample, scrape } from './scrape.ts';

const NOW = new Date('2026-02-01T12:00:00Z');
const headers = (n: number) => ({
  from: 'reports@receiver.example',
  to: 'dmarc@example.com',
  subject: `report ${n}`,
  date: NOW,
  messageId: `<m${n}@receiver.example>`,
});

let store: ReportStore;
let metrics: Metrics;
let server: MetricsServer;

beforeAll(async () => {
  ({ store } = await freshSqliteStore());
  const config = loadConfig({});
  const context = createCommandContext({
    config,
    store,
    requester: { platform: 'terminal', userId: 'metrics' },
    now: () => NOW,
    dns: false,
  });
  metrics = createMetrics({
    domainFigures: () => domainFigures(store, identifyFor(context), context.thresholds, NOW),
    refreshMs: 0,
    processMetrics: false,
    now: () => NOW,
  });
  server = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    scrape: () => metrics.scrape(),
    contentType: metrics.registry.contentType,
    health: () => checkHealth({ store }),
  });
});

afterAll(async () => {
  await server?.close();
  await store?.close();
});

describe('ingest metrics', () => {
  it('count reports by kind and outcome and reader errors by cause', async () => {
    const { mails } = exampleMonthMails({ endDay: '2026-01-31', seed: 'metrics' });
    const before = await scrape(server.port);
    expect(sample(before, 'dmarc_reports_ingested_total', { kind: 'aggregate', outcome: 'new' })).toBeUndefined();
    expect(before).toContain('# TYPE dmarc_reports_ingested_total counter');

    const deps = { store, observer: metrics.observer, now: () => NOW };
    for (const mail of mails) await ingestInput({ source: mail.name, bytes: mail.raw }, deps);
    for (const mail of mails.slice(0, 3)) await ingestInput({ source: `${mail.name}#again`, bytes: mail.raw }, deps);
    await ingestInput(
      { source: 'failure.eml', bytes: failureReportMail(failure({ domain: 'example.com' }), headers(1)) },
      deps,
    );
    await ingestInput(
      {
        source: 'tls.eml',
        bytes: tlsReportMail(
          tls({ begin: '2026-01-30T00:00:00Z', end: '2026-01-30T23:59:59Z', domains: ['example.com'] }),
          headers(2),
        ),
      },
      deps,
    );
    await store.flush();

    const after = await scrape(server.port);
    expect(sample(after, 'dmarc_reports_ingested_total', { kind: 'aggregate', outcome: 'new' })).toBe(mails.length);
    expect(sample(after, 'dmarc_reports_ingested_total', { kind: 'aggregate', outcome: 'duplicate' })).toBe(3);
    expect(sample(after, 'dmarc_reports_ingested_total', { kind: 'failure', outcome: 'new' })).toBe(1);
    expect(sample(after, 'dmarc_reports_ingested_total', { kind: 'tls', outcome: 'new' })).toBe(1);
    expect((await store.ingestedSince('1970-01-01T00:00:00.000Z')).length).toBe(mails.length + 2);

    // unreadable inputs: the causes the reader itself names, plus a mail that holds nothing
    const broken = Buffer.concat([gzipSync('<feedback>'), Buffer.from('x')]).subarray(0, 12);
    const readerSays = (await readReports(broken, { source: 'broken.xml.gz' })).errors.map((e) => e.code);
    expect(readerSays.length).toBeGreaterThan(0);
    await ingestInput({ source: 'broken.xml.gz', bytes: broken }, deps);
    await ingestInput({ source: 'empty.xml', bytes: new Uint8Array() }, deps);
    await ingestInput({ source: 'lunch.eml', bytes: mailWithoutReport() }, deps);
    const errors = await scrape(server.port);
    for (const code of new Set(readerSays))
      expect(sample(errors, 'dmarc_reader_errors_total', { cause: code! })).toBe(
        readerSays.filter((c) => c === code).length,
      );
    expect(sample(errors, 'dmarc_reader_errors_total', { cause: 'empty' })).toBe(1);
    const lunch = (await readReports(mailWithoutReport(), { source: 'lunch.eml' })).errors;
    const lunchCause = lunch[0]?.code ?? 'no-report';
    expect(sample(errors, 'dmarc_reader_errors_total', { cause: lunchCause })).toBe(1);
  });

  it('per-domain gauges equal the store’s figures and what /dmarc ready says', async () => {
    const exposition = await scrape(server.port);
    const config = loadConfig({});
    const context = createCommandContext({
      config,
      store,
      requester: { platform: 'terminal', userId: 'check' },
      now: () => NOW,
      dns: false,
    });
    const [ready] = await queryReady(store, identifyFor(context), 'example.com', context.thresholds, NOW);
    expect(sample(exposition, 'dmarc_domain_pass_ratio', { domain: 'example.com' })).toBeCloseTo(
      ready!.figures.passRate,
      9,
    );
    for (const verdict of ['insufficient-data', 'not-ready', 'ready-quarantine', 'ready-reject', 'enforced'])
      expect(sample(exposition, 'dmarc_domain_readiness', { domain: 'example.com', verdict })).toBe(
        verdict === ready!.verdict ? 1 : 0,
      );
    const lastDay = await store.days('example.com', '2026-01-31', '2026-01-31');
    const messages = lastDay.flatMap((doc) => Object.values(doc.reports)).reduce((sum, part) => sum + part.messages, 0);
    expect(messages).toBeGreaterThan(0);
    expect(sample(exposition, 'dmarc_domain_messages_last_day', { domain: 'example.com' })).toBe(messages);
  });
});

describe('digest and alert metrics', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(async () => slack?.close());

  function slackDestination(channel: string) {
    const bot = createSlackBot({
      botToken: 'xoxb-metrics',
      signingSecret: 'metrics-secret',
      apiUrl: slack.apiUrl,
      digestChannel: channel,
      botId: 'B1',
      botUserId: 'U1',
      port: 0,
      answer: async () => {
        throw new Error('no commands here');
      },
      access: { allowedChannels: [], allowedUsers: [] },
    });
    return bot.destination!;
  }
  // Slack refuses the next post as it does for a channel the bot is not in: final, not retried
  const refuseNextPost = () =>
    slack.failNext('chat.postMessage', { status: 200, body: { ok: false, error: 'channel_not_found' } });

  it('count digests sent and failed per destination', async () => {
    const context = createCommandContext({
      config: loadConfig({}),
      store,
      requester: { platform: 'terminal', userId: 'digest' },
      now: () => NOW,
      dns: false,
    });
    const scheduler = createDigestScheduler({
      // in this order: the refused post is the first of the pass
      destinations: [slackDestination('C0GONE'), slackDestination('C0OPS')],
      ledger: storeLedger(store),
      buildDigest: (window) =>
        buildDigest(store, context, { since: new Date(window.since), until: new Date(window.until) }),
      digestTime: '09:00',
      timeZone: 'UTC',
      now: () => NOW,
      observer: metrics.observer,
    });
    refuseNextPost();
    const outcomes = await scheduler.tick();
    expect(outcomes.map((o) => [o.destination, o.status])).toEqual([
      ['slack:C0GONE', 'failed'],
      ['slack:C0OPS', 'sent'],
    ]);
    const exposition = await scrape(server.port);
    expect(sample(exposition, 'dmarc_digests_total', { destination: 'slack:C0GONE', result: 'failed' })).toBe(1);
    expect(sample(exposition, 'dmarc_digests_total', { destination: 'slack:C0GONE', result: 'sent' })).toBeUndefined();
    expect(sample(exposition, 'dmarc_digests_total', { destination: 'slack:C0OPS', result: 'sent' })).toBe(1);
    // sent once: the next pass the same day posts nothing and counts nothing more
    await scheduler.tick();
    expect(
      sample(await scrape(server.port), 'dmarc_digests_total', { destination: 'slack:C0OPS', result: 'sent' }),
    ).toBe(1);
  });

  it('count alerts sent and failed per destination', async () => {
    const report = aggregate({
      begin: '2026-01-31T00:00:00Z',
      end: '2026-01-31T23:59:59Z',
      domain: 'alerts.example',
      reportId: 'alert-metrics',
      records: [record('203.0.113.66', 40, { dmarc: 'fail', headerFrom: 'alerts.example' })],
    });
    await ingestInput({ source: 'alert.xml', bytes: Buffer.from(aggregateXml(report)) }, { store, now: () => NOW });
    await store.flush();
    const alerter = createAlerter({
      store,
      destinations: [slackDestination('C0GONE'), slackDestination('C0OPS')],
      rules: { minMessages: 10 },
      timeZone: 'UTC',
      now: () => NOW,
      observer: metrics.observer,
    });
    refuseNextPost();
    const posted = await alerter.process(report);
    expect(posted.map((finding) => finding.ip)).toEqual(['203.0.113.66']);
    const exposition = await scrape(server.port);
    expect(sample(exposition, 'dmarc_alerts_total', { destination: 'slack:C0GONE', result: 'failed' })).toBe(1);
    expect(sample(exposition, 'dmarc_alerts_total', { destination: 'slack:C0OPS', result: 'sent' })).toBe(1);
    expect(sample(exposition, 'dmarc_alerts_total', { destination: 'slack:C0OPS', result: 'failed' })).toBeUndefined();
  });
});
