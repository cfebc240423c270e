// `dmarc-bot start` with METRICS_PORT against a real Dovecot: the IMAP metrics follow the
// connection (up, down when the server stops, up again after it returns), reports read from the
// mailbox are counted, and /healthz says 200 or 503 with what works.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { startBot, type RunningBot } from '../../src/cli/start.ts';
import { openStore } from '../../src/store/index.ts';
import { checkHealth } from '../../src/metrics/health.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { distinctAggregateMail, mailWithoutReport } from '../support/mail.ts';
import { freePort } from '../support/ports.ts';
import { health, sample, scrape } from './scrape.ts';

// the single mailbox of the IMAP_* settings is the account `default`
const MAIN = { account: 'default' };
let dovecot: DovecotServer;
let bot: RunningBot | undefined;

beforeAll(async () => {
  dovecot = await startDovecot();
});
afterAll(async () => {
  await bot?.stop();
  if (dovecot) await disposeDovecot(dovecot);
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('metrics of the running bot', () => {
  it('IMAP connection, last pass, ingest counts and /healthz', { timeout: 90_000 }, async () => {
    const account = dovecot.user();
    dovecot.deliver(account.user, [distinctAggregateMail(1), distinctAggregateMail(2), mailWithoutReport()]);
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-bot-metrics-'));
    const metricsPort = await freePort();
    const config = loadConfig({
      DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
      IMAP_HOST: dovecot.host,
      IMAP_PORT: String(dovecot.port),
      IMAP_USER: account.user,
      IMAP_PASSWORD: account.password,
      IMAP_TLS: 'off',
      METRICS_PORT: String(metricsPort),
      // the generated reports are years old: keep them
      RETENTION_DAYS: '0',
      TZ: 'UTC',
    });
    const startedAt = Date.now() / 1000;
    bot = await startBot({ config, log: silentLogger, input: new PassThrough(), output: new PassThrough() });
    expect(bot.metricsPort).toBe(metricsPort);

    await until(
      async () => (sample(await scrape(metricsPort), 'dmarc_imap_last_success_timestamp_seconds', MAIN) ?? 0) > 0,
      'a mailbox pass',
    );
    const first = await scrape(metricsPort);
    expect(sample(first, 'dmarc_imap_connected', MAIN)).toBe(1);
    expect(sample(first, 'dmarc_imap_last_success_timestamp_seconds', MAIN)).toBeGreaterThanOrEqual(
      Math.floor(startedAt),
    );
    expect(sample(first, 'dmarc_reports_ingested_total', { kind: 'aggregate', outcome: 'new' })).toBe(2);
    expect(sample(first, 'dmarc_reader_errors_total', { cause: 'not-a-report' })).toBe(1);
    // the terminal got the first digest
    expect(sample(first, 'dmarc_digests_total', { destination: 'terminal', result: 'sent' })).toBe(1);
    const healthy = await health(metricsPort);
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({ ok: true, store: { ok: true }, mailbox: { ok: true } });
    expect(String((healthy.body.mailbox as { detail: string }).detail)).toMatch(/^connected, last pass /);

    await dovecot.stop();
    await until(async () => sample(await scrape(metricsPort), 'dmarc_imap_connected', MAIN) === 0, 'the disconnect');
    const down = await health(metricsPort);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      ok: false,
      store: { ok: true },
      mailbox: { ok: false, detail: 'not connected' },
    });

    await dovecot.restart();
    await until(async () => sample(await scrape(metricsPort), 'dmarc_imap_connected', MAIN) === 1, 'the reconnect');
    expect((await health(metricsPort)).status).toBe(200);

    await bot.stop();
    bot = undefined;
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });

  it('without METRICS_PORT nothing listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-bot-nometrics-'));
    const config = loadConfig({ DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`, TZ: 'UTC' });
    const quiet = await startBot({ config, log: silentLogger, input: new PassThrough(), output: new PassThrough() });
    expect(quiet.metricsPort).toBeNull();
    await quiet.stop();
  });

  it('/healthz reports a store that does not answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-health-'));
    const store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    expect(await checkHealth({ store })).toMatchObject({ ok: true, mailbox: { detail: 'not configured' } });
    await store.close();
    const report = await checkHealth({ store });
    expect(report.ok).toBe(false);
    expect(report.store.ok).toBe(false);
  });
});
