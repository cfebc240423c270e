// Alerts as the bot raises them: `startBot` watching a real Dovecot mailbox; a report mail with a
// never-passing source arrives; the alert lands in the Slack digest channel (stand-in), once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/servers.ts';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { aggregateReportMail } from '../../src/generate/mail.ts';
import { startBot, type RunningBot } from '../../src/cli/start.ts';
import { openStore } from '../../src/store/index.ts';
import { startDovecot, disposeDovecot, type DovecotServer } from '../support/dovecot.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { freePort } from '../support/ports.ts';

function record(ip: string, count: number, dmarc: 'pass' | 'fail'): AggregateRecord {
  return {
    sourceIp: ip,
    count,
    disposition: 'none',
    evaluated: { dkim: dmarc, spf: dmarc },
    dmarc,
    identifiers: { headerFrom: 'example.com', envelopeFrom: 'example.com', envelopeTo: null },
    reasons: [],
    authResults: {
      dkim:
        dmarc === 'pass'
          ? [{ domain: 'example.com', selector: 's1', result: 'pass' }]
          : [{ domain: 'spoof.example', selector: 'x', result: 'fail' }],
      spf: [{ domain: 'example.com', scope: 'mfrom', result: dmarc }],
    },
    alignment: { dkim: dmarc === 'pass', spf: dmarc === 'pass' },
  };
}

function report(id: string, records: AggregateRecord[]): AggregateReport {
  const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  return {
    kind: 'aggregate',
    orgName: 'google.com',
    orgEmail: 'noreply-dmarc-support@google.com',
    reportId: id,
    begin: `${day}T00:00:00Z`,
    end: `${day}T23:59:59Z`,
    policy: {
      domain: 'example.com',
      p: 'none',
      sp: null,
      np: null,
      pct: 100,
      adkim: 'r',
      aspf: 'r',
      fo: null,
      testing: null,
    },
    records,
    errors: [],
  };
}

describe.skipIf(skipWithout('dovecot'))('alerts from the watched mailbox', () => {
  let dovecot: DovecotServer;
  let slack: FakeSlack;
  let dir: string;
  let bot: RunningBot | undefined;

  beforeAll(async () => {
    dovecot = await startDovecot();
    slack = await startFakeSlack();
    dir = await mkdtemp(join(tmpdir(), 'dmarc-imap-alert-'));
  });
  afterAll(async () => {
    await bot?.stop();
    await slack?.close();
    if (dovecot) await disposeDovecot(dovecot);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('posts one alert for a never-passing source with enough failing mail, none for the rest', async () => {
    const { user, password } = dovecot.user();
    dovecot.deliver(user, [
      aggregateReportMail(
        report('alert-1', [
          record('192.0.2.10', 200, 'pass'),
          record('203.0.113.66', 25, 'fail'),
          record('203.0.113.77', 4, 'fail'),
        ]),
        'gzip',
      ),
      // a second reporter the same day: the same source must not alert twice
      aggregateReportMail(
        {
          ...report('alert-2', [record('203.0.113.66', 40, 'fail')]),
          orgName: 'yahoo.com',
          orgEmail: 'dmarc@yahoo.com',
        },
        'xml',
      ),
    ]);
    const config = loadConfig({
      DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
      IMAP_HOST: dovecot.host,
      IMAP_PORT: String(dovecot.port),
      IMAP_USER: user,
      IMAP_PASSWORD: password,
      IMAP_TLS: 'off',
      SLACK_BOT_TOKEN: 'xoxb-alerts',
      SLACK_SIGNING_SECRET: 'alerts-secret',
      SLACK_API_URL: slack.apiUrl,
      SLACK_DIGEST_CHANNEL: 'C0ALERTS',
      PORT: String(await freePort()),
      TZ: 'UTC',
      ALERT_MIN_MESSAGES: '10',
    });
    const store = await openStore(config.DMARC_STORE);
    const startedAt = new Date(Date.now() - 1000).toISOString();
    bot = await startBot({ config, log: silentLogger, store });
    const alerts = () =>
      slack.callsTo('chat.postMessage').filter((call) => String(call.body.text).startsWith('DMARC alert'));
    await slack.waitFor(() => alerts().length >= 1);
    // both reports stored (and handed to the alerter) before counting
    while ((await store.ingestedSince(startedAt)).length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    await bot.stop();
    bot = undefined;
    await store.close();
    expect(alerts()).toHaveLength(1);
    const [alert] = alerts();
    expect(alert!.body.channel).toBe('C0ALERTS');
    expect(String(alert!.body.text)).toContain('203.0.113.66');
    expect(JSON.stringify(alert!.body.blocks)).not.toContain('203.0.113.77');
  });
});
