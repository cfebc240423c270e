// Posting to a chat platform with bounded retries: HTTP 429 waits for Retry-After, 5xx and network
// errors back off exponentially. Other failures (bad token, unknown channel) are not retried: they
// will not heal by waiting. The caller decides what a final failure means (a digest stays due).

import type { Reply } from '../reply/model.ts';

/** Where digests and alerts go: one Slack channel, one Discord channel or webhook, or the terminal. */
export interface Destination {
  /** stable id, also the key of the digest state: "slack:C123", "discord:456", "discord-webhook", "terminal" */
  id: string;
  post(reply: Reply): Promise<void>;
}

/** A failure the poster understands: status when the platform answered, retryAfterMs for 429. */
export class PostError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryAfterMs: number | null = null,
    readonly retryable: boolean = status === null || status === 429 || status >= 500,
  ) {
    super(message);
    this.name = 'PostError';
  }
}

export interface RetryOptions {
  /** attempts in all, including the first */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** called before each wait, for logs */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Classifies errors thrown by fetch, @slack/web-api and discord.js into retry decisions. */
export function retryDecision(error: unknown): { retry: boolean; retryAfterMs: number | null } {
  if (error instanceof PostError) return { retry: error.retryable, retryAfterMs: error.retryAfterMs };
  const e = error as {
    code?: string;
    statusCode?: number;
    status?: number;
    retryAfter?: number;
    name?: string;
    cause?: unknown;
  } | null;
  if (!e || typeof e !== 'object') return { retry: false, retryAfterMs: null };
  // @slack/web-api with rejectRateLimitedCalls: retryAfter in seconds
  if (e.code === 'slack_webapi_rate_limited_error') return { retry: true, retryAfterMs: (e.retryAfter ?? 1) * 1000 };
  if (e.code === 'slack_webapi_http_error')
    return { retry: (e.statusCode ?? 0) >= 500 || e.statusCode === 429, retryAfterMs: null };
  if (e.code === 'slack_webapi_request_error') return { retry: true, retryAfterMs: null };
  // Bolt's respond() (response_url): the status only; Retry-After is not passed on, so back off
  if (e.code === 'slack_bolt_respond_error')
    return { retry: (e.statusCode ?? 0) >= 500 || e.statusCode === 429, retryAfterMs: null };
  // @discordjs/rest: HTTPError carries status for 5xx; DiscordAPIError for 4xx (not retried)
  if (typeof e.status === 'number') return { retry: e.status >= 500 || e.status === 429, retryAfterMs: null };
  // fetch / undici network failures, timeouts
  if (
    e.name === 'TypeError' ||
    e.name === 'AbortError' ||
    e.name === 'TimeoutError' ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code ?? '')
  ) {
    return { retry: true, retryAfterMs: null };
  }
  return { retry: false, retryAfterMs: null };
}

/** Runs `send` until it succeeds, a failure is not retryable, or the attempts are used up. */
export async function withRetry<T>(send: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 1000;
  const maxDelay = options.maxDelayMs ?? 60_000;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const decision = retryDecision(error);
      if (!decision.retry || attempt >= attempts) throw error;
      const backoff = Math.min(maxDelay, base * 2 ** (attempt - 1));
      // Retry-After is the platform's word; never wait less than it says
      const delayMs = decision.retryAfterMs !== null ? Math.max(decision.retryAfterMs, 0) : backoff;
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now.getTime());
}

export { redactSecrets } from '../text/redact.ts';
