// Posting to a Discord webhook with fetch: discord.js's WebhookClient accepts only discord.com
// URLs, and tests (and proxies) need DISCORD_API_URL honoured. The webhook token is part of the
// URL, so errors name the webhook by id only.

import { PostError, parseRetryAfter, redactSecrets } from '../post.ts';
import type { DiscordMessage } from '../../render/discord.ts';
import { errorMessage } from '../../text/error-message.ts';

/** Where to POST: the configured URL, or the same webhook path under DISCORD_API_URL. */
export function webhookEndpoint(webhookUrl: string, apiUrl?: string): string {
  const match = /\/webhooks\/(\d+)\/([\w-]+)/.exec(new URL(webhookUrl).pathname);
  if (!match) throw new Error('DISCORD_WEBHOOK_URL: expected a URL like https://discord.com/api/webhooks/<id>/<token>');
  const base = apiUrl
    ? `${apiUrl.replace(/\/+$/, '')}/v10/webhooks/${match[1]}/${match[2]}`
    : webhookUrl.split('?')[0]!;
  return `${base}?wait=true`;
}

export async function postWebhook(
  webhookUrl: string,
  message: DiscordMessage,
  options: { apiUrl?: string; fetch?: typeof fetch } = {},
): Promise<void> {
  const endpoint = webhookEndpoint(webhookUrl, options.apiUrl);
  // the token is the last path segment; it must not leak through error texts
  const secrets = [webhookUrl, /\/webhooks\/\d+\/([\w-]+)/.exec(webhookUrl)?.[1]];
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...message, allowed_mentions: { parse: [] } }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new PostError(`discord webhook: ${redactSecrets(errorMessage(error), secrets)}`, null);
  }
  if (response.ok) {
    await response.arrayBuffer();
    return;
  }
  const text = await response.text().catch(() => '');
  let retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  if (response.status === 429 && retryAfterMs === null) {
    try {
      const body = JSON.parse(text) as { retry_after?: number };
      if (typeof body.retry_after === 'number') retryAfterMs = body.retry_after * 1000;
    } catch {
      // no JSON body: back off without a hint
    }
  }
  throw new PostError(
    `discord webhook answered ${response.status}: ${redactSecrets(text.slice(0, 200), secrets)}`,
    response.status,
    retryAfterMs,
  );
}
