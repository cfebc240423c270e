// Who may ask: optional allow-lists of channel and user IDs. With neither list set everybody in
// the workspace/guild may ask; with one or both set, a request passes when it matches any list.

import type { Reply } from '../reply/model.ts';
import type { Requester } from '../command-kit/types.ts';

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
