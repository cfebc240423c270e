// Pictures on Slack go the external upload flow (files.upload is retired): files.getUploadURLExternal,
// the bytes POSTed to the URL it returns, then files.completeUploadExternal shares the file in a
// channel or a thread. WebClient's filesUploadV2 makes all three calls. It needs the files:write
// scope; without it a reply still goes out, without its picture, and the log says why.

import type { webApi } from '@slack/bolt';
import type { Logger } from '../../log.ts';
import type { ReplyImage } from '../../reply/model.ts';

export interface SlackImageTarget {
  channel: string;
  /** share in this message's thread (the digest's own message) */
  threadTs?: string;
}

/** The part of the Web API that pictures need (conversations.open: a private answer's DM). */
export type SlackFilesClient = Pick<webApi.WebClient, 'filesUploadV2' | 'conversations'>;
type Uploader = Pick<webApi.WebClient, 'filesUploadV2'>;

/** The Slack error code of a failed Web API call (missing_scope, not_in_channel, ...), if it is one. */
export function slackErrorCode(error: unknown): string | null {
  const data = (error as { data?: { error?: unknown } } | null)?.data;
  return typeof data?.error === 'string' ? data.error : null;
}

/**
 * Uploads the picture and shares it; resolves whether it was shared. A failure is logged, never
 * thrown: the message it belongs to has been posted already and must not be posted twice.
 */
export async function shareSlackImage(
  client: Uploader,
  target: SlackImageTarget,
  image: ReplyImage,
  log?: Logger,
): Promise<boolean> {
  try {
    await client.filesUploadV2({
      channel_id: target.channel,
      ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
      file: image.png,
      filename: image.name,
      title: image.alt,
      alt_text: image.alt,
    } as webApi.FilesUploadV2Arguments);
    return true;
  } catch (error) {
    const code = slackErrorCode(error);
    const reason =
      code === 'missing_scope'
        ? 'the Slack app lacks the files:write scope: add it (slack-app-manifest.yml has it) and reinstall the app'
        : code === 'not_in_channel' || code === 'channel_not_found'
          ? `the bot is not a member of ${target.channel}: invite it`
          : error instanceof Error
            ? error.message
            : String(error);
    log?.warn({ component: 'slack', channel: target.channel, code, reason }, `chart not posted: ${reason}`);
    return false;
  }
}
