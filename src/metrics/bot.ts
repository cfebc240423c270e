// Monitoring as `dmarc-bot start` runs it: with METRICS_PORT set, the metrics and /healthz server
// on METRICS_HOST; without it, the no-op observer and nothing listening.

import { imapConfigured, mailboxesOf, type Config } from '../config.ts';
import { createCommandContext, identifyFor } from '../context.ts';
import type { Logger } from '../log.ts';
import type { ReportStore } from '../store/types.ts';
import { domainFigures } from './domains.ts';
import { checkHealth } from './health.ts';
import { createMetrics } from './metrics.ts';
import { noopObserver, type OpsObserver } from './observer.ts';
import { startMetricsServer } from './server.ts';

export interface BotMonitoring {
  observer: OpsObserver;
  /** the bound port, or null when metrics are off */
  port: number | null;
  /** whether this instance leads (reads the mailbox); /healthz reports a standby as healthy */
  setLeading(leading: boolean): void;
  close(): Promise<void>;
}

export async function startBotMonitoring(input: {
  config: Config;
  store: ReportStore;
  log: Logger;
  now: () => Date;
}): Promise<BotMonitoring> {
  const { config, store, log, now } = input;
  if (config.METRICS_PORT === undefined)
    return { observer: noopObserver, port: null, setLeading: () => undefined, close: async () => undefined };
  // offline identification: a scrape never waits on DNS
  const context = createCommandContext({
    config,
    store,
    requester: { platform: 'terminal', userId: 'metrics' },
    now,
    dns: false,
  });
  const identify = identifyFor(context);
  const metrics = createMetrics({
    imapAccounts: mailboxesOf(config).map((account) => account.IMAP_ACCOUNT),
    domainFigures: () => domainFigures(store, identify, context.thresholds, now()),
    now,
    onRefreshError: (error) =>
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'per-domain metrics not refreshed'),
  });
  let leading = false;
  const mailbox = imapConfigured(config)
    ? {
        leading: () => leading,
        state: () => metrics.imapState(),
        maxPassAgeMs: 2 * config.IMAP_POLL_SECONDS * 1000 + 60_000,
      }
    : undefined;
  const server = await startMetricsServer({
    host: config.METRICS_HOST,
    port: config.METRICS_PORT,
    scrape: () => metrics.scrape(),
    contentType: metrics.registry.contentType,
    health: () => checkHealth({ store, now, ...(mailbox ? { mailbox } : {}) }),
    onError: (error) =>
      log.error({ err: error instanceof Error ? error.message : String(error) }, 'metrics request failed'),
  });
  log.info({ host: config.METRICS_HOST, port: server.port }, 'metrics on /metrics, health on /healthz');
  return {
    observer: metrics.observer,
    port: server.port,
    setLeading: (value) => (leading = value),
    close: () => server.close(),
  };
}
