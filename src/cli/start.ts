// `dmarc-bot start`: the long-running bot. Every part is optional:
//  - the IMAP mailbox is watched when IMAP_HOST/IMAP_USER are set (new reports may raise alerts);
//  - Slack answers `/dmarc` when SLACK_BOT_TOKEN is set, Discord when DISCORD_TOKEN is set;
//  - without any chat platform the terminal is the chat: digests and alerts on stdout, `/dmarc`
//    lines on stdin answered;
//  - digests go out daily at DIGEST_TIME in TZ to every destination, exactly once each.
// With several instances on one shared store only the lease holder watches the mailbox, posts
// digests and alerts; every instance answers commands. SIGINT/SIGTERM: the message in hand is
// finished, state is stored, connections are closed.

import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { helpOption, parseCommandArgs } from './args.ts';
import { randomBytes } from 'node:crypto';
import { ConfigError, EXIT_CONFIG, imapConfigured, mailboxesOf, type Config } from '../config.ts';
import { loadSettings } from './settings.ts';
import { createLogger, type Logger } from '../log.ts';
import { createLogLines, type LogLines } from '../log-lines.ts';
import type { ReportStore } from '../store/types.ts';
import type { Requester } from '../command-kit/types.ts';
import { openStore } from '../store/index.ts';
import { createCommandContext } from '../context.ts';
import { answer as dispatch } from '../command-kit/dispatch.ts';
import { commandRegistry } from '../command-kit/registry.ts';
import type { Destination } from '../chat/post.ts';
import { redactSecrets } from '../text/redact.ts';
import type { AnswerFn } from '../chat/answer.ts';
import { withAdminGate } from '../chat/access.ts';
import type { ChatAdapter } from '../chat/platform.ts';
import { chatPlatforms } from '../chat/platforms.ts';
import { buildDigest as buildDigestReply } from '../digest/build.ts';
import { createDigestScheduler, storeLedger, type BuildDigestFn, type DigestScheduler } from '../schedule/runner.ts';
import { assertTimeZone } from '../schedule/zoned-time.ts';
import { createAlerter } from '../alerts/alerter.ts';
import { createAlertPacer } from '../alerts/pacer.ts';
import { createHealthWatch } from '../alerts/health-watch.ts';
import { openLease, holdLeadership } from '../lease/index.ts';
import { DEMO_NOTICE, prepareDemoStore, wantsDemo } from '../demo/index.ts';
import { startRetention } from '../schedule/retention.ts';
import { defaultAsnLookup } from '../senders/asn.ts';
import { startBotMonitoring } from '../metrics/bot.ts';
import { errorMessage } from '../text/error-message.ts';

export interface StartOptions {
  config: Config;
  log: Logger;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  now?: () => Date;
  /** tests: open an already prepared store */
  store?: ReportStore;
  /** a platform failed for good (e.g. Discord close 4004); default: log it, stop, exit 1 */
  onFatal?: (cause: string) => void;
  /** the person at the terminal ended the bot (Ctrl-C, Ctrl-D at the prompt) */
  onQuit?: () => void;
  /** the log's lines when they share the terminal: the terminal chat keeps them off its prompt */
  logLines?: LogLines;
  /** tests: a shorter lease, so that a waiting instance takes over sooner */
  leaseTtlMs?: number;
}

export interface RunningBot {
  destinations: Destination[];
  /** the names of the chat platforms running, in the order of src/chat/platforms.ts */
  platforms: string[];
  /** the port of /metrics and /healthz, or null when METRICS_PORT is not set */
  metricsPort: number | null;
  stop(): Promise<void>;
}

export async function startBot(options: StartOptions): Promise<RunningBot> {
  const { config, log } = options;
  const now = options.now ?? (() => new Date());
  assertTimeZone(config.TZ);
  for (const platform of chatPlatforms) platform.validate?.(config);
  const store =
    options.store ??
    (await openStore(config.DMARC_STORE, { logger: log, connectTimeoutMs: config.STORE_CONNECT_TIMEOUT_MS }));
  const monitoring = await startBotMonitoring({ config, store, log, now }).catch(async (error: unknown) => {
    if (!options.store) await store.close().catch(() => undefined);
    throw error;
  });
  const { observer } = monitoring;
  const access = { allowedChannels: config.ALLOWED_CHANNELS, allowedUsers: config.ALLOWED_USERS };
  const contextFor = (requester: Requester) => createCommandContext({ config, store, requester, now });
  // answers in progress, so shutdown can let them finish before the store closes
  const inFlight = new Set<Promise<unknown>>();
  const gated = withAdminGate((request, requester) => dispatch(request, contextFor(requester)), config.ADMIN_USERS);
  const answer: AnswerFn = (request, requester) => {
    const pending = gated(request, requester);
    inFlight.add(pending);
    void pending.finally(() => inFlight.delete(pending)).catch(() => undefined);
    return pending;
  };

  // systemd restarts a unit that exits non-zero, and the log line says why
  let stopForFatal: () => Promise<void> = async () => undefined;
  const fatal =
    options.onFatal ??
    ((cause: string) => {
      log.fatal({ cause }, cause);
      process.exitCode = 1;
      void stopForFatal().finally(() => process.exit(1));
    });

  const platforms: RunningBot['platforms'] = [];
  const destinations: Destination[] = [];
  const adapters: Array<{ name: string; adapter: ChatAdapter }> = [];
  const environment = {
    config,
    answer,
    access,
    registry: commandRegistry,
    log,
    input: options.input ?? process.stdin,
    output: options.output ?? process.stdout,
    onFatal: (cause: string) => fatal(cause),
    ...(options.onQuit ? { onQuit: options.onQuit } : {}),
    ...(options.logLines ? { logLines: options.logLines } : {}),
  };
  for (const platform of chatPlatforms) {
    if (!platform.enabled(config, platforms)) continue;
    const adapter = await platform.create(environment);
    adapters.push({ name: platform.name, adapter });
    platforms.push(platform.name);
    destinations.push(...adapter.destinations);
  }

  const buildDigest: BuildDigestFn = (window) =>
    buildDigestReply(
      store,
      contextFor({ platform: 'terminal', userId: 'digest' }),
      { since: new Date(window.since), until: new Date(window.until) },
      { log },
    );

  // the leader's work: mailbox, digest schedule, alerts
  const startLeading = async () => {
    log.info({ destinations: destinations.map((d) => d.id) }, 'leading: mailbox, digests and alerts');
    // one pacer for every kind of alert, so pacing and the daily cap count them all
    const pacer = createAlertPacer({
      destinations,
      store,
      timeZone: config.TZ,
      minIntervalMs: config.ALERT_MIN_INTERVAL_SECONDS * 1000,
      dailyCap: config.ALERT_DAILY_CAP,
      now,
      log,
    });
    const alerter = createAlerter({
      store,
      destinations,
      rules: { minMessages: config.ALERT_MIN_MESSAGES },
      topSources: config.ALERT_TOP_SOURCES,
      pacer,
      timeZone: config.TZ,
      now,
      log,
      observer,
    });
    const health = createHealthWatch({
      store,
      pacer,
      rules: {
        passRateDrop: config.ALERT_PASS_RATE_DROP,
        quietDays: config.ALERT_QUIET_DAYS,
        regularMinDays: config.ALERT_REGULAR_DAYS,
        noReportsDays: config.ALERT_NO_REPORTS_DAYS,
      },
      now,
      log,
    });
    const scheduler: DigestScheduler = createDigestScheduler({
      destinations,
      ledger: storeLedger(store),
      buildDigest,
      digestTime: config.DIGEST_TIME,
      timeZone: config.TZ,
      now,
      afterPass: health.afterPass,
      log,
      observer,
    });
    monitoring.setLeading(true);
    scheduler.start();
    const retention = startRetention({ store, retentionDays: config.RETENTION_DAYS, now, log });
    const imapAbort = new AbortController();
    let watching: Promise<void> = Promise.resolve();
    if (imapConfigured(config)) {
      const { watchMailboxes } = await import('../sources/imap.ts');
      watching = watchMailboxes(
        mailboxesOf(config),
        store,
        { logger: log, onReport: (report) => alerter.onReport(report), observer },
        imapAbort.signal,
      ).catch((error: unknown) => log.error({ err: errorMessage(error) }, 'mailbox watcher stopped'));
    }
    // not awaited: the lease is renewed meanwhile, however long a platform takes to connect
    const leaderWork = adapters.flatMap(({ name, adapter }) => {
      if (!adapter.lead) return [];
      const work = adapter.lead();
      work.started.then(
        (started) => {
          if (started) log.info(`${name} connected as the lease holder`);
        },
        (error: unknown) =>
          fatal(`${name} could not connect: ${redactSecrets(errorMessage(error), secretsOf(config))}`),
      );
      return [work];
    });
    return async () => {
      for (const work of leaderWork) await work.end().catch(() => undefined);
      monitoring.setLeading(false);
      imapAbort.abort();
      await watching;
      await scheduler.stop();
      await retention.stop();
      await alerter.stop();
      await flushOnStop(store, log);
    };
  };

  try {
    for (const { name, adapter } of adapters) {
      const fields = await adapter.start().catch((error: unknown) => {
        throw platformStartError(name, error, config);
      });
      log.info(fields, `${name} ready`);
    }
  } catch (error) {
    await monitoring.close();
    if (!options.store) await store.close();
    throw error;
  }

  // Leadership begins once every platform took its token, so a refused one ends the start with its
  // own line before any leader's work (the Discord gateway among it) has begun.
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const lease = await openLease(config.DMARC_STORE, {
    holder,
    ...(options.leaseTtlMs ? { ttlMs: options.leaseTtlMs } : {}),
  });
  const leadershipAbort = new AbortController();
  const leadership = holdLeadership(
    lease,
    {
      onLead: startLeading,
      onLose: () => log.warn('lost the lease; another instance leads now'),
      onWait: () => log.info('another instance holds the lease: answering commands here; the rest waits for the lease'),
    },
    leadershipAbort.signal,
  ).catch((error: unknown) => log.error({ err: errorMessage(error) }, 'leadership loop failed'));

  // Load the offline network-owner tables now rather than on the first /dmarc ip (about a second).
  setTimeout(() => defaultAsnLookup()('198.51.100.1'), 0).unref();

  let stopping: Promise<void> | null = null;
  const running: RunningBot = {
    destinations,
    platforms,
    metricsPort: monitoring.port,
    stop() {
      stopping ??= (async () => {
        for (const { adapter } of adapters) await adapter.stop().catch(() => undefined);
        await Promise.allSettled([...inFlight]);
        leadershipAbort.abort();
        await leadership;
        await lease.close().catch(() => undefined);
        await flushOnStop(store, log);
        await monitoring.close();
        if (!options.store)
          await store.close().catch((error: unknown) => log.warn({ err: errorMessage(error) }, 'store close failed'));
      })();
      return stopping;
    },
  };
  stopForFatal = () => running.stop();
  return running;
}

/**
 * The last flush on the way out. With the store away it fails: nothing is lost, because mail is
 * acknowledged on the server only after its reports are stored, so the next start reads it again.
 */
async function flushOnStop(store: ReportStore, log: Logger): Promise<void> {
  try {
    await store.flush();
  } catch (error) {
    log.warn(
      { err: errorMessage(error) },
      'store unreachable at shutdown: unacknowledged mail will be read again on the next start',
    );
  }
}

const help = `Usage: dmarc-bot start

Runs the bot: watches the IMAP mailbox (when IMAP_HOST is set), posts the daily digest at
DIGEST_TIME in TZ and alerts, and answers /dmarc on Slack and Discord. Without a chat platform
configured it uses this terminal: type /dmarc commands at the prompt. Settings come from the
environment and .env. Stop with Ctrl-C.
Exit status: 0 stopped by a signal or at the prompt, 1 could not start (settings, store, chat), 2 usage error.
`;

/**
 * A chat platform that refused to start, as one line naming the setting to fix (a revoked or
 * mistyped token is the usual cause), with every token redacted.
 */
function platformStartError(platform: string, error: unknown, config: Config): Error {
  const message = redactSecrets(errorMessage(error), secretsOf(config));
  const refusal = TOKEN_REFUSALS[platform];
  const title = platform.charAt(0).toUpperCase() + platform.slice(1);
  return new Error(
    refusal?.pattern.test(message)
      ? `${title} refused the token in ${refusal.settings} (${message.split('\n')[0]}): check or renew it`
      : `${title} could not be started: ${message.split('\n')[0]}`,
  );
}

function secretsOf(config: Config): Array<string | undefined> {
  return [config.SLACK_BOT_TOKEN, config.SLACK_APP_TOKEN, config.SLACK_SIGNING_SECRET, config.DISCORD_TOKEN];
}

/** How each platform says that a token is refused, and which settings hold its tokens. */
const TOKEN_REFUSALS: Record<string, { pattern: RegExp; settings: string } | undefined> = {
  slack: {
    pattern: /invalid_auth|not_authed|token_revoked|account_inactive|token_expired/,
    settings: 'SLACK_BOT_TOKEN / SLACK_APP_TOKEN',
  },
  discord: { pattern: /401|TokenInvalid|invalid token|Unauthorized/i, settings: 'DISCORD_TOKEN' },
};

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('start', help, () => parseArgs({ args: argv, options: helpOption }));
  if (typeof parsed === 'number') return parsed;
  let config: Config;
  try {
    config = loadSettings();
    assertTimeZone(config.TZ);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_CONFIG;
    }
    if (error instanceof RangeError) {
      process.stderr.write(`configuration: TZ: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  // Nothing configured: the newcomer's demo on a store of its own (quiet logs unless asked).
  const demo = wantsDemo(process.env);
  // readable lines at a terminal, JSON lines for a service's journal
  const logLines = createLogLines({
    output: process.stderr,
    pretty: Boolean(process.stderr.isTTY),
    color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
  });
  const log = createLogger(demo && !process.env.LOG_LEVEL ? 'warn' : config.LOG_LEVEL, logLines);
  let demoStore: ReportStore | undefined;
  if (demo) {
    const prepared = await prepareDemoStore({ now: new Date() });
    for (const error of prepared.errors) log.warn({ error }, 'demo report not stored');
    config = { ...config, DMARC_STORE: prepared.storeUrl };
    demoStore = prepared.store;
    process.stdout.write(`${DEMO_NOTICE}\n\n`);
  }
  let quit: () => void = () => undefined;
  const quitAsked = new Promise<void>((resolve) => (quit = resolve));
  let bot: RunningBot;
  try {
    bot = await startBot({ config, log, logLines, onQuit: () => quit(), ...(demoStore ? { store: demoStore } : {}) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_CONFIG;
    }
    process.stderr.write(`dmarc-bot start: ${errorMessage(error)}\n`);
    return 1;
  }
  if (bot.platforms.includes('terminal') && process.stdin.isTTY && !demo) {
    logLines.note(
      'No chat platform configured: answering /dmarc here (Ctrl-D or Ctrl-C ends). Set SLACK_* or DISCORD_* in .env to use a chat.',
    );
  }
  await new Promise<void>((resolve) => {
    let ending = false;
    const done = (fields: Record<string, string>) => {
      if (ending) return;
      ending = true;
      log.info(fields, 'shutting down');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    const onSignal = (signal: NodeJS.Signals) => done({ signal });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void quitAsked.then(() => done({ by: 'terminal' }));
  });
  await bot.stop();
  await demoStore?.close();
  log.info('stopped: store closed');
  // readline leaves stdin open; let the process end
  process.stdin.destroy();
  return 0;
}
