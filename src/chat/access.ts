// Who may ask: optional allow-lists of channel and user IDs. With neither list set everybody in
// the workspace/guild may ask; with one or both set, a request passes when it matches any list.

import type { Reply } from '../reply/model.ts';
import type { CommandRequest, Requester } from '../command-kit/types.ts';
import type { AnswerFn } from './answer.ts';

export interface AccessRules {
  allowedChannels: readonly string[];
  allowedUsers: readonly string[];
}

export function isAllowed(requester: Pick<Requester, 'userId' | 'channelId'>, rules: AccessRules): boolean {
  if (rules.allowedChannels.length === 0 && rules.allowedUsers.length === 0) return true;
  if (rules.allowedUsers.includes(requester.userId)) return true;
  return requester.channelId !== undefined && rules.allowedChannels.includes(requester.channelId);
}

export function refusalReply(): Reply {
  return {
    title: 'Sorry, this bot only answers in certain channels or to certain people.',
    tone: 'warning',
    blocks: [
      {
        type: 'text',
        text: 'Sorry, this bot only answers in certain channels or to certain people. Ask the person who runs it to add you (ALLOWED_CHANNELS / ALLOWED_USERS).',
      },
    ],
    error: true,
  };
}

/** Commands that change what the bot knows (reading stays open to everyone allowed to ask). */
export function changesState(request: CommandRequest): boolean {
  if (typeof request !== 'string') return request.command.toLowerCase() === 'mark';
  return /^\s*mark(\s|$)/i.test(request);
}

/**
 * ADMIN_USERS: when set, only these user IDs may run `mark` (typed or by a button). The person at
 * the terminal runs the bot and is always an admin.
 */
export function isAdmin(requester: Pick<Requester, 'platform' | 'userId'>, adminUsers: readonly string[]): boolean {
  return requester.platform === 'terminal' || adminUsers.length === 0 || adminUsers.includes(requester.userId);
}

export function adminRefusalReply(): Reply {
  const text = 'Only the people in ADMIN_USERS may mark sources; you can still read everything.';
  return { title: text, tone: 'warning', blocks: [{ type: 'text', text }], error: true };
}

/** Wraps an answer function so that state-changing commands need an admin when ADMIN_USERS is set. */
export function withAdminGate(answer: AnswerFn, adminUsers: readonly string[]): AnswerFn {
  return (line, requester) =>
    changesState(line) && !isAdmin(requester, adminUsers)
      ? Promise.resolve(adminRefusalReply())
      : answer(line, requester);
}
