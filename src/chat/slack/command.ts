// The `/dmarc` slash command as a plain function over Bolt's arguments: acknowledge at once (Slack
// allows 3 seconds), check who asks, answer, and send the answer through response_url. Registered
// on an app by register(); tested with the real Bolt app and also callable without Slack.

import type { App, RespondFn, SlashCommand } from '@slack/bolt';
import type { Logger } from '../../log.ts';
import { isAllowed, refusalReply, type AccessRules } from '../access.ts';
import { safeAnswer, splitPublicFlag, type AnswerFn } from '../answer.ts';
import { renderSlack } from '../../render/slack.ts';
import { parseRetryAfter, PostError, withRetry, type RetryOptions } from '../post.ts';
import { errorMessage } from '../../text/error-message.ts';

export interface SlackCommandDeps {
  answer: AnswerFn;
  access: AccessRules;
  log?: Logger;
  retry?: RetryOptions;
  /** the command name as configured in the Slack app */
  command?: string;
}

export interface SlashCommandArgs {
  command: Pick<SlashCommand, 'text' | 'user_id' | 'user_name' | 'channel_id'> & { response_url?: string };
  ack: () => Promise<void>;
  respond: RespondFn;
}

export async function handleDmarcCommand(
  { command, ack, respond }: SlashCommandArgs,
  deps: SlackCommandDeps,
): Promise<void> {
  await ack();
  const requester = {
    platform: 'slack' as const,
    userId: command.user_id,
    userName: command.user_name,
    channelId: command.channel_id,
  };
  const { line, shared } = splitPublicFlag(command.text ?? '');
  if (!isAllowed(requester, deps.access)) {
    deps.log?.info({ user: command.user_id, channel: command.channel_id }, 'slack request refused by allow-list');
    await respond({ response_type: 'ephemeral', ...renderSlack(refusalReply()) });
    return;
  }
  const reply = await safeAnswer(deps.answer, line || 'help', requester);
  const message = {
    response_type: shared ? 'in_channel' : 'ephemeral',
    replace_original: false,
    ...renderSlack(reply),
  } as const;
  // Posted to response_url ourselves where we have it: Bolt's respond() drops Retry-After.
  const send = async (): Promise<void> => {
    if (command.response_url) await postToResponseUrl(command.response_url, message);
    else await respond(message);
  };
  try {
    await withRetry(send, deps.retry);
  } catch (error) {
    deps.log?.error({ err: errorMessage(error) }, 'slack answer could not be delivered');
  }
}

/** Attaches the command listener to a Bolt app. */
export function register(app: App, deps: SlackCommandDeps): void {
  app.command(deps.command ?? '/dmarc', async ({ command, ack, respond }) => {
    await handleDmarcCommand({ command, ack: () => ack(), respond }, deps);
  });
}

/** POSTs a message to a slash command's response_url; a refusal becomes a PostError with Retry-After. */
async function postToResponseUrl(url: string, message: object): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    throw new PostError(
      `response_url answered HTTP ${response.status}`,
      response.status,
      parseRetryAfter(response.headers.get('retry-after')),
    );
  }
}
