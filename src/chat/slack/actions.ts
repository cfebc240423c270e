// Clicks on the Mine / Spoof / Details buttons (Block Kit block_actions). Bolt verifies the
// request signature before a listener runs, like for commands; the click then passes the same
// allow-list, and runs the command the button stands for through the same answer function (so an
// admin list on `mark` applies to clicks too). A decision replaces the buttons with who took it.

import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../log.ts';
import { isAllowed, refusalReply, type AccessRules } from '../access.ts';
import { safeAnswer, type AnswerFn } from '../answer.ts';
import { choiceLine, type ChoiceAction } from '../choices.ts';
import { choiceBlockId, escapeSlack, renderSlack, type SlackBlock } from '../../render/slack.ts';
import { withRetry, type RetryOptions } from '../post.ts';

export interface SlackActionDeps {
  answer: AnswerFn;
  access: AccessRules;
  log?: Logger;
  retry?: RetryOptions;
}

export interface ChoiceClickArgs {
  action: Pick<ButtonAction, 'action_id' | 'value'>;
  body: Pick<BlockAction, 'user' | 'channel' | 'message' | 'container'>;
  ack: () => Promise<void>;
  respond: RespondFn;
  client: Pick<WebClient, 'chat'>;
}

export const CHOICE_ACTION_IDS = /^dmarc_(mine|spoof|details)$/;

/** The message's blocks with the subject's buttons replaced by the decision. */
export function decidedBlocks(
  blocks: readonly SlackBlock[],
  subject: string,
  verdict: 'mine' | 'spoof',
  userId: string,
): SlackBlock[] {
  const id = choiceBlockId(subject);
  const mark = verdict === 'mine' ? ':white_check_mark:' : ':no_entry:';
  return blocks.map((block) =>
    block.type === 'actions' && block.block_id === id
      ? {
          type: 'context',
          block_id: id,
          elements: [
            {
              type: 'mrkdwn',
              text: `${mark} ${escapeSlack(subject)} marked *${verdict}* by <@${userId}>`,
              verbatim: true,
            },
          ],
        }
      : block,
  );
}

export async function handleChoiceClick(args: ChoiceClickArgs, deps: SlackActionDeps): Promise<void> {
  await args.ack();
  const action = CHOICE_ACTION_IDS.exec(args.action.action_id)?.[1] as ChoiceAction | undefined;
  const subject = args.action.value ?? '';
  if (!action || subject === '' || subject.length > 200) return;
  const { body } = args;
  const requester = {
    platform: 'slack' as const,
    userId: body.user.id,
    ...(body.user.username || body.user.name ? { userName: body.user.username ?? body.user.name } : {}),
    ...(body.channel?.id ? { channelId: body.channel.id } : {}),
  };
  const ephemeral = (reply: Parameters<typeof renderSlack>[0]) =>
    withRetry(
      () => args.respond({ response_type: 'ephemeral', replace_original: false, ...renderSlack(reply) }),
      deps.retry,
    );
  if (!isAllowed(requester, deps.access)) {
    deps.log?.info({ user: requester.userId, channel: requester.channelId }, 'slack click refused by allow-list');
    await ephemeral(refusalReply());
    return;
  }
  const reply = await safeAnswer(deps.answer, choiceLine(action, subject), requester);
  if (action === 'details' || reply.error) {
    await ephemeral(reply);
    return;
  }
  const message = body.message as { ts?: string; text?: string; blocks?: SlackBlock[] } | undefined;
  // Slack's own block shapes: we only swap one block for a context block
  const blocks = decidedBlocks(message?.blocks ?? [], subject, action, requester.userId) as unknown as KnownBlock[];
  const text = message?.text ?? reply.title;
  const container = body.container as { type?: string; is_ephemeral?: boolean } | undefined;
  if (message?.ts && body.channel?.id && container?.type === 'message' && !container.is_ephemeral) {
    const channel = body.channel.id;
    const ts = message.ts;
    await withRetry(() => args.client.chat.update({ channel, ts, blocks, text }), deps.retry);
  } else {
    await withRetry(() => args.respond({ replace_original: true, blocks, text }), deps.retry);
  }
  deps.log?.info({ subject, verdict: action, user: requester.userId }, 'source marked from a button');
}

export function registerActions(app: App, deps: SlackActionDeps): void {
  app.action<BlockAction<ButtonAction>>(CHOICE_ACTION_IDS, async ({ action, body, ack, respond, client }) => {
    try {
      await handleChoiceClick({ action, body, ack: () => ack(), respond, client }, deps);
    } catch (error) {
      deps.log?.error({ err: error instanceof Error ? error.message : String(error) }, 'slack click failed');
    }
  });
}
