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
import { randomBytes } from 'node:crypto';
import { ConfigError, imapConfigured, type Config } from '../config.ts';
import { loadSettings } from './settings.ts';
import { createLogger, type Logger } from '../log.ts';
import type { ReportStore } from '../store/types.ts';
import type { Requester } from '../commands/types.ts';
import { openStore } from '../store/index.ts';
import { createCommandContext } from '../context.ts';
import { answer as dispatch } from '../commands/dispatch.ts';
import { commandRegistry } from '../commands/registry.ts';
import type { Destination } from '../chat/post.ts';
import type { AnswerFn } from '../chat/answer.ts';
import { withAdminGate } from '../chat/access.ts';
import { createSlackBot, type SlackBot } from '../chat/slack/app.ts';
import { createDiscordBot, type DiscordBot } from '../chat/discord/bot.ts';
import { createTerminalChat, type TerminalChat } from '../chat/terminal.ts';
import { renderTerminal } from '../render/terminal.ts';
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
}

export interface RunningBot {
  destinations: Destination[];
  platforms: Array<'slack' | 'discord' | 'terminal'>;
  stop(): Promise<void>;
}

export async function startBot(options: StartOptions): Promise<RunningBot> {
  const { config, log } = options;
  const now = options.now ?? (() => new Date());
  assertTimeZone(config.TZ);
  if (config.SLACK_BOT_TOKEN && !config.SLACK_APP_TOKEN && !config.SLACK_SIGNING_SECRET) {
    throw new ConfigError(
      'SLACK_SIGNING_SECRET',
      'needed for Slack in HTTP mode; or set SLACK_APP_TOKEN for Socket Mode',
    );
  }
  if (config.DISCORD_DIGEST_CHANNEL_ID && !config.DISCORD_TOKEN) {
    throw new ConfigError(
      'DISCORD_TOKEN',
      'needed to post to DISCORD_DIGEST_CHANNEL_ID (or use DISCORD_WEBHOOK_URL instead)',
    );
  }
  const store = options.store ?? (await openStore(config.DMARC_STORE, { logger: log }));
  const access = { allowedChannels: config.ALLOWED_CHANNELS, allowedUsers: config.ALLOWED_USERS };
  const contextFor = (requester: Requester) => createCommandContext({ config, store, requester, now });
  // answers in progress, so shutdown can let them finish before the store closes
  const inFlight = new Set<Promise<unknown>>();
  const gated = withAdminGate((line, requester) => dispatch(line, contextFor(requester)), config.ADMIN_USERS);
  const answer: AnswerFn = (line, requester) => {
    const pending = gated(line, requester);
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
  let slack: SlackBot | null = null;
  let discord: DiscordBot | null = null;
  let terminal: TerminalChat | null = null;

  if (config.SLACK_BOT_TOKEN) {
    slack = createSlackBot({
      botToken: config.SLACK_BOT_TOKEN,
      ...(config.SLACK_APP_TOKEN ? { appToken: config.SLACK_APP_TOKEN } : {}),
      ...(config.SLACK_SIGNING_SECRET ? { signingSecret: config.SLACK_SIGNING_SECRET } : {}),
      ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}),
      ...(config.SLACK_DIGEST_CHANNEL ? { digestChannel: config.SLACK_DIGEST_CHANNEL } : {}),
      port: config.PORT,
      answer,
      access,
      log,
    });
    platforms.push('slack');
    if (slack.destination) destinations.push(slack.destination);
    else log.warn('SLACK_DIGEST_CHANNEL is not set: Slack answers /dmarc but gets no digest or alerts');
  }
  if (config.DISCORD_TOKEN || config.DISCORD_WEBHOOK_URL) {
    discord = createDiscordBot({
      ...(config.DISCORD_TOKEN ? { token: config.DISCORD_TOKEN } : {}),
      ...(config.DISCORD_API_URL ? { apiUrl: config.DISCORD_API_URL } : {}),
      ...(config.DISCORD_DIGEST_CHANNEL_ID ? { digestChannelId: config.DISCORD_DIGEST_CHANNEL_ID } : {}),
      ...(config.DISCORD_WEBHOOK_URL ? { webhookUrl: config.DISCORD_WEBHOOK_URL } : {}),
      ...(config.DISCORD_GUILD_ID ? { guildId: config.DISCORD_GUILD_ID } : {}),
      registry: commandRegistry,
      answer,
      access,
      log,
      onFatal: (cause) => fatal(cause),
    });
    platforms.push('discord');
    destinations.push(...discord.destinations);
  }
  if (platforms.length === 0) {
    terminal = createTerminalChat({
      input: options.input ?? process.stdin,
      output: options.output ?? process.stdout,
      answer,
      render: (reply) => renderTerminal(reply),
    });
    platforms.push('terminal');
    destinations.push(terminal.destination);
  }

  const buildDigest: BuildDigestFn = (window) =>
    buildDigestReply(store, contextFor({ platform: 'terminal', userId: 'digest' }), {
      since: new Date(window.since),
      until: new Date(window.until),
    });

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
    });
    scheduler.start();
    const retention = startRetention({ store, retentionDays: config.RETENTION_DAYS, now, log });
    const imapAbort = new AbortController();
    let watching: Promise<void> = Promise.resolve();
    if (imapConfigured(config)) {
      const { watchMailbox } = await import('../sources/imap.ts');
      watching = watchMailbox(
        config,
        store,
        { logger: log, onReport: (report) => alerter.onReport(report) },
        imapAbort.signal,
      ).catch((error: unknown) =>
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'mailbox watcher stopped'),
      );
    }
    return async () => {
      imapAbort.abort();
      await watching;
      await scheduler.stop();
      await retention.stop();
      await alerter.stop();
      await flushOnStop(store, log);
    };
  };

  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const lease = await openLease(config.DMARC_STORE, { holder });
  const leadershipAbort = new AbortController();
  const leadership = holdLeadership(
    lease,
    { onLead: startLeading, onLose: () => log.warn('lost the lease; another instance leads now') },
    leadershipAbort.signal,
  ).catch((error: unknown) =>
    log.error({ err: error instanceof Error ? error.message : String(error) }, 'leadership loop failed'),
  );

  try {
    if (slack) {
      const { port } = await slack.start();
      log.info({ mode: slack.mode, ...(port ? { port } : {}) }, 'slack ready');
    }
    if (discord) {
      await discord.start();
      log.info('discord ready');
    }
  } catch (error) {
    leadershipAbort.abort();
    await leadership;
    await lease.close().catch(() => undefined);
    if (!options.store) await store.close();
    throw error;
  }

  // Load the offline network-owner tables now rather than on the first /dmarc ip (about a second).
  setTimeout(() => defaultAsnLookup()('198.51.100.1'), 0).unref();

  let stopping: Promise<void> | null = null;
  const running: RunningBot = {
    destinations,
    platforms,
    stop() {
      stopping ??= (async () => {
        await terminal?.stop();
        await slack?.stop().catch(() => undefined);
        await discord?.stop().catch(() => undefined);
        await Promise.allSettled([...inFlight]);
        leadershipAbort.abort();
        await leadership;
        await lease.close().catch(() => undefined);
        await flushOnStop(store, log);
        if (!options.store)
          await store
            .close()
            .catch((error: unknown) =>
              log.warn({ err: error instanceof Error ? error.message : String(error) }, 'store close failed'),
            );
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
      { err: error instanceof Error ? error.message : String(error) },
      'store unreachable at shutdown: unacknowledged mail will be read again on the next start',
    );
  }
}

const help = `Usage: dmarc-bot start

Runs the bot: watches the IMAP mailbox (when IMAP_HOST is set), posts the daily digest at
DIGEST_TIME in TZ and alerts, and answers /dmarc on Slack and Discord. Without a chat platform
configured it uses this terminal: type /dmarc commands at the prompt. Settings come from the
environment and .env. Stop with Ctrl-C.
`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help);
    return 0;
  }
  let config: Config;
  try {
    config = loadSettings();
    assertTimeZone(config.TZ);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    if (error instanceof RangeError) {
      process.stderr.write(`configuration: TZ: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  // Nothing configured: the newcomer's demo on a store of its own (quiet logs unless asked).
  const demo = wantsDemo(process.env);
  const log = createLogger(demo && !process.env.LOG_LEVEL ? 'warn' : config.LOG_LEVEL);
  let demoStore: ReportStore | undefined;
  if (demo) {
    const prepared = await prepareDemoStore({ now: new Date() });
    for (const error of prepared.errors) log.warn({ error }, 'demo report not stored');
    config = { ...config, DMARC_STORE: prepared.storeUrl };
    demoStore = prepared.store;
    process.stdout.write(`${DEMO_NOTICE}\n\n`);
  }
  let bot: RunningBot;
  try {
    bot = await startBot({ config, log, ...(demoStore ? { store: demoStore } : {}) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    process.stderr.write(`dmarc-bot start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (bot.platforms.includes('terminal') && process.stdin.isTTY && !demo) {
    process.stderr.write(
      'No chat platform configured: answering /dmarc here. Set SLACK_* or DISCORD_* in .env to use a chat.\n',
    );
  }
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'shutting down');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await bot.stop();
  await demoStore?.close();
  // readline leaves stdin open; let the process end
  process.stdin.destroy();
  return 0;
}
