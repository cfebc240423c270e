// The Slack edge: a Bolt app in Socket Mode (SLACK_APP_TOKEN set: no public URL needed, good
// behind a home router) or HTTP mode (PORT, /slack/events, requests verified with
// SLACK_SIGNING_SECRET; Bolt refuses bad or stale signatures with 401 before any listener runs).
// Web API calls go to SLACK_API_URL when set. Digests and alerts go out with chat.postMessage; a
// digest's chart follows in the digest's thread through the external file upload flow.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import type { Receiver, Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../log.ts';
import type { Destination, RetryOptions } from '../post.ts';
import { PostError, redactSecrets } from '../post.ts';
import type { AccessRules } from '../access.ts';
import type { AnswerFn } from '../answer.ts';
import { renderSlack, slackFits } from '../../render/slack.ts';
import { splitReply } from '../../reply/split.ts';
import { register } from './command.ts';
import { shareSlackImage } from './files.ts';
import { registerActions } from './actions.ts';
import { ConfigError } from '../../config.ts';

export interface SlackBotOptions {
  botToken: string;
  /** Socket Mode when set */
  appToken?: string;
  /** HTTP mode: required when appToken is not set */
  signingSecret?: string;
  /** HTTP mode port (0 picks a free one) */
  port?: number;
  /** Web API base URL, e.g. a local stand-in in tests */
  apiUrl?: string;
  digestChannel?: string;
  answer: AnswerFn;
  access: AccessRules;
  log?: Logger;
  retry?: RetryOptions;
  /** tests: a receiver that hands events to the app directly */
  receiver?: Receiver;
  /** known bot identity (skips Bolt's auth.test at start) */
  botId?: string;
  botUserId?: string;
  /** longest wait for one Web API request, and for one post in all (a hung Slack must not stall the bot) */
  callTimeoutMs?: number;
  /** how long stop() waits for Bolt before it gives up on it */
  stopGraceMs?: number;
}

export const SLACK_BODY_LIMIT = 64 * 1024;

/** Rejects with a retryable PostError when `work` takes longer than `ms`. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PostError(`${what}: no answer within ${ms} ms`, null)), ms);
    timer.unref?.();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export interface SlackBot {
  app: App;
  mode: 'socket' | 'http' | 'custom';
  /** the digest/alert destination, when SLACK_DIGEST_CHANNEL is set */
  destination: Destination | null;
  /** starts receiving; in HTTP mode resolves the port it listens on */
  start(): Promise<{ port?: number }>;
  stop(): Promise<void>;
}

/** Bolt's logger interface over pino; secrets are scrubbed from every message. */
function boltLogger(log: Logger | undefined, secrets: Array<string | undefined>): BoltLogger {
  let level = LogLevel.WARN;
  const write =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (...messages: unknown[]) => {
      const text = redactSecrets(
        messages.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' '),
        secrets,
      );
      log?.[method]({ component: 'slack' }, text);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export function createSlackBot(options: SlackBotOptions): SlackBot {
  const secrets = [options.botToken, options.appToken, options.signingSecret];
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const stopGraceMs = options.stopGraceMs ?? 5_000;
  const logger = boltLogger(options.log, secrets);
  // rate limits and 5xx are retried by our own poster (bounded, with Retry-After), not by WebClient
  const clientOptions = {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : options.apiUrl + '/' } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // WebClient waits forever by default; an upload of a chart takes well under this
    timeout: callTimeoutMs,
  };
  let mode: SlackBot['mode'];
  let receiver: Receiver;
  if (options.receiver) {
    mode = 'custom';
    receiver = options.receiver;
  } else if (options.appToken) {
    mode = 'socket';
    receiver = new SocketModeReceiver({ appToken: options.appToken, logger, installerOptions: { clientOptions } });
  } else {
    if (!options.signingSecret)
      throw new ConfigError(
        'SLACK_SIGNING_SECRET',
        'needed for Slack in HTTP mode; or set SLACK_APP_TOKEN for Socket Mode',
      );
    mode = 'http';
    receiver = new HTTPReceiver({
      signingSecret: options.signingSecret,
      endpoints: '/slack/events',
      logger,
      // commands and clicks are a few KiB; anything far larger is refused (413) before it is parsed
      bodyLimit: SLACK_BODY_LIMIT,
    });
  }
  const app = new App({
    token: options.botToken,
    receiver,
    logger,
    clientOptions,
    ...(options.botId ? { botId: options.botId } : {}),
    ...(options.botUserId ? { botUserId: options.botUserId } : {}),
    // Bolt otherwise checks the token (auth.test) in the constructor, and a refused token becomes
    // an unhandled rejection that ends the process; init() in start() reports it instead.
    deferInitialization: !options.botId,
  });
  register(app, {
    answer: options.answer,
    access: options.access,
    ...(options.log ? { log: options.log } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  registerActions(app, {
    answer: options.answer,
    access: options.access,
    ...(options.log ? { log: options.log } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  app.error(async (error: Error) => {
    options.log?.error({ component: 'slack', err: redactSecrets(error.message, secrets) }, 'slack listener failed');
  });

  const channel = options.digestChannel;
  const destination: Destination | null = channel
    ? {
        id: `slack:${channel}`,
        async post(reply) {
          // a digest too long for one message goes on in a thread under the first
          let threadTs: string | undefined;
          let channelId: string | undefined;
          for (const part of splitReply(reply, slackFits)) {
            const posted = await withDeadline(
              app.client.chat.postMessage({
                channel,
                ...renderSlack(part),
                ...(threadTs ? { thread_ts: threadTs } : {}),
                unfurl_links: false,
                unfurl_media: false,
              }),
              callTimeoutMs + 1000,
              `slack channel ${channel}`,
            );
            threadTs ??= typeof posted.ts === 'string' ? posted.ts : undefined;
            channelId ??= typeof posted.channel === 'string' ? posted.channel : undefined;
          }
          // The upload wants the channel's ID, which the answer carries even when a name was configured.
          if (reply.image && threadTs)
            await shareSlackImage(app.client, { channel: channelId ?? channel, threadTs }, reply.image, options.log);
        },
      }
    : null;

  return {
    app,
    mode,
    destination,
    async start() {
      if (!options.botId) await app.init();
      if (mode === 'http') {
        const server = (await app.start(options.port ?? 3000)) as Server;
        return { port: (server.address() as AddressInfo).port };
      }
      await app.start();
      return {};
    },
    async stop() {
      // a receiver stuck on a hung connection must not hold up the shutdown
      await withDeadline(app.stop(), stopGraceMs, 'slack stop').catch((error: unknown) =>
        options.log?.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'slack did not stop in time',
        ),
      );
    },
  };
}
