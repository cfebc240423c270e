// The Prometheus metrics of the bot (prom-client, on a registry of its own so that tests and
// several bots in one process do not share counters). The event metrics are moved by the
// OpsObserver this returns; the per-domain gauges are filled from the store on scrape, at most
// once per refresh interval, because readiness reads a window of day documents.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { OpsObserver } from './observer.ts';
import type { DomainFigures } from './domains.ts';

export interface MetricsOptions {
  /** per-domain figures (pass rate, last day's messages, readiness); read on scrape */
  domainFigures?: () => Promise<DomainFigures[]>;
  /** how long per-domain figures are reused between scrapes (default 5 minutes) */
  refreshMs?: number;
  /** the mailbox accounts, so that each shows as disconnected before its first connection */
  imapAccounts?: readonly string[];
  /** process metrics (CPU, memory, event loop) besides the bot's own; default true */
  processMetrics?: boolean;
  now?: () => Date;
  /** a failed refresh is logged, and the last figures stay */
  onRefreshError?: (error: unknown) => void;
}

export interface Metrics {
  registry: Registry;
  observer: OpsObserver;
  /** the exposition text (what GET /metrics answers) */
  scrape(): Promise<string>;
  /**
   * What the health check reads: whether every account's watcher is connected (`down` names those
   * that are not) and the oldest of their last good passes (null while one has none yet).
   */
  imapState(): { connected: boolean; lastPass: Date | null; down: string[] };
}

export const READINESS_VERDICTS = [
  'insufficient-data',
  'not-ready',
  'ready-quarantine',
  'ready-reject',
  'enforced',
] as const;

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const now = options.now ?? (() => new Date());
  const refreshMs = options.refreshMs ?? 5 * 60_000;
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'dmarc_bot_' });

  const reports = new Counter({
    name: 'dmarc_reports_ingested_total',
    help: 'Reports handed to the store, by kind (aggregate, failure, tls) and outcome (new, duplicate, expired)',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  });
  const readerErrors = new Counter({
    name: 'dmarc_reader_errors_total',
    help: 'Inputs or parts of inputs that could not be read, by cause',
    labelNames: ['cause'],
    registers: [registry],
  });
  const imapConnected = new Gauge({
    name: 'dmarc_imap_connected',
    help: '1 while the mailbox watcher of the account holds an IMAP connection, else 0',
    labelNames: ['account'],
    registers: [registry],
  });
  const imapLastPass = new Gauge({
    name: 'dmarc_imap_last_success_timestamp_seconds',
    help: "Unix time of the last pass over the account's mailbox that finished without error (0: none yet)",
    labelNames: ['account'],
    registers: [registry],
  });
  const digests = new Counter({
    name: 'dmarc_digests_total',
    help: 'Digests posted (result=sent) or given up after retries (result=failed), per destination',
    labelNames: ['destination', 'result'],
    registers: [registry],
  });
  const alerts = new Counter({
    name: 'dmarc_alerts_total',
    help: 'Alerts posted (result=sent) or given up after retries (result=failed), per destination',
    labelNames: ['destination', 'result'],
    registers: [registry],
  });
  // per account: connected, and its last good pass
  const accounts = new Map<string, { connected: boolean; lastPass: Date | null }>();
  const accountState = (account = 'default') => {
    let state = accounts.get(account);
    if (!state) {
      state = { connected: false, lastPass: null };
      accounts.set(account, state);
      imapConnected.set({ account }, 0);
      imapLastPass.set({ account }, 0);
    }
    return state;
  };
  for (const account of options.imapAccounts?.length ? options.imapAccounts : ['default']) accountState(account);
  const observer: OpsObserver = {
    reportIngested: (kind, outcome) => reports.inc({ kind, outcome }),
    readerError: (cause) => readerErrors.inc({ cause }),
    imapConnection(value, account = 'default') {
      accountState(account).connected = value;
      imapConnected.set({ account }, value ? 1 : 0);
    },
    imapPass(at, account = 'default') {
      accountState(account).lastPass = at;
      imapLastPass.set({ account }, at.getTime() / 1000);
    },
    delivery: (kind, destination, ok) =>
      (kind === 'digest' ? digests : alerts).inc({ destination, result: ok ? 'sent' : 'failed' }),
  };

  const domainFigures = options.domainFigures;
  if (domainFigures) {
    let cached: { at: number; figures: DomainFigures[] } | null = null;
    let pending: Promise<DomainFigures[]> | null = null;
    const current = async (): Promise<DomainFigures[]> => {
      const at = now().getTime();
      if (cached && at - cached.at < refreshMs) return cached.figures;
      // scrapes that arrive during a refresh share it
      pending ??= domainFigures()
        .then((figures) => {
          cached = { at, figures };
          return figures;
        })
        .catch((error: unknown) => {
          options.onRefreshError?.(error);
          return cached?.figures ?? [];
        })
        .finally(() => (pending = null));
      return pending;
    };
    const passRatio = new Gauge({
      name: 'dmarc_domain_pass_ratio',
      help: 'DMARC pass rate of non-spoofed, non-forwarded mail over the readiness window (0..1), as /dmarc ready',
      labelNames: ['domain'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const figure of await current()) this.set({ domain: figure.domain }, figure.passRate);
      },
    });
    new Gauge({
      name: 'dmarc_domain_messages_last_day',
      help: 'Messages reported for the last complete UTC day (grows while that day’s reports arrive)',
      labelNames: ['domain'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const figure of await current()) this.set({ domain: figure.domain }, figure.messagesLastDay);
      },
    });
    new Gauge({
      name: 'dmarc_domain_readiness',
      help: 'Readiness verdict of /dmarc ready: 1 for the current verdict, 0 for the others',
      labelNames: ['domain', 'verdict'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const figure of await current())
          for (const verdict of READINESS_VERDICTS)
            this.set({ domain: figure.domain, verdict }, figure.verdict === verdict ? 1 : 0);
      },
    });
    void passRatio;
  }

  return {
    registry,
    observer,
    scrape: () => registry.metrics(),
    imapState: () => {
      const states = [...accounts.entries()];
      const down = states.filter(([, state]) => !state.connected).map(([account]) => account);
      const passes = states.map(([, state]) => state.lastPass);
      const lastPass = passes.some((pass) => pass === null)
        ? null
        : (passes as Date[]).reduce((oldest, pass) => (pass < oldest ? pass : oldest), passes[0] as Date);
      return { connected: down.length === 0, lastPass: lastPass ?? null, down };
    },
  };
}
