// A Discord message with files goes as multipart/form-data: the JSON message in payload_json, each
// file in files[N], and an `attachments` list naming them, so an embed can show one with
// attachment://NAME. discord.js builds that for its REST calls; the webhook post (plain fetch)
// builds it here.

import type { DiscordFile, DiscordMessage } from '../../render/discord.ts';

/** The JSON part of a message: the message without its bytes, with the files it carries named. */
export function messagePayload(message: DiscordMessage, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { files, ...rest } = message;
  return {
    ...rest,
    ...extra,
    ...(files?.length ? { attachments: files.map((file, index) => ({ id: index, filename: file.name })) } : {}),
  };
}

/** The request body for fetch: JSON without files, multipart with them. */
export function messageBody(
  message: DiscordMessage,
  extra: Record<string, unknown> = {},
): { body: string | FormData; headers: Record<string, string> } {
  const payload = messagePayload(message, extra);
  if (!message.files?.length) return { body: JSON.stringify(payload), headers: { 'content-type': 'application/json' } };
  const form = new FormData();
  form.append('payload_json', JSON.stringify(payload));
  message.files.forEach((file, index) => {
    form.append(`files[${index}]`, new Blob([new Uint8Array(file.data)], { type: file.contentType }), file.name);
  });
  // fetch writes the multipart content type with its boundary itself
  return { body: form, headers: {} };
}

/** The files in @discordjs/rest's shape (RawFile), for REST posts. */
export function restFiles(
  files: DiscordFile[] | undefined,
): Array<{ name: string; data: Buffer; contentType: string }> {
  return (files ?? []).map((file) => ({ name: file.name, data: file.data, contentType: file.contentType }));
}
