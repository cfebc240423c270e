// Embed rendering of a Reply, inside Discord's limits: title 256, description 4096, 25 fields
// (name 256, value 1024), 10 embeds a message and 6000 characters across all embeds. Each reply
// header starts a new embed; anything cut says so.

import type { Reply, ReplyBlock, ReplyTone } from '../reply/model.ts';
import { fitLines, tableLines, truncate } from './fit.ts';
import { CHOICE_ACTIONS, choiceId, choiceLabel, choicesOf } from '../chat/choices.ts';

export const discordLimits = {
  embeds: 10,
  titleChars: 256,
  descriptionChars: 4096,
  fields: 25,
  fieldNameChars: 256,
  fieldValueChars: 1024,
  footerChars: 2048,
  /** Discord's limit is 6000 over all embeds; keep a margin for the cut note */
  totalChars: 5900,
  contentChars: 2000,
  listItems: 25,
  tableRows: 20,
} as const;

export interface DiscordEmbed {
  title?: string;
  description?: string;
  color?: number;
  fields?: Array<{ name: string; value: string; inline?: boolean }>;
  footer?: { text: string };
  /** attachment://NAME shows a file sent with the message */
  image?: { url: string };
}

/** A file sent with the message (multipart: payload_json and files[N]). */
export interface DiscordFile {
  name: string;
  data: Buffer;
  contentType: string;
}

export interface DiscordButton {
  type: 2;
  style: 1 | 2 | 3 | 4;
  label: string;
  custom_id: string;
  disabled?: boolean;
}

export interface DiscordActionRow {
  type: 1;
  components: DiscordButton[];
}

export interface DiscordMessage {
  content?: string;
  embeds: DiscordEmbed[];
  /** present when the reply carries an image; the first embed shows it */
  files?: DiscordFile[];
  /** message components: one row of Mine / Spoof / Details per subject */
  components?: DiscordActionRow[];
}

const buttonStyle = { mine: 3, spoof: 4, details: 2 } as const;

/** One action row of decision buttons for a subject. */
export function choiceRow(subject: string): DiscordActionRow {
  return {
    type: 1,
    components: CHOICE_ACTIONS.map((action) => ({
      type: 2,
      style: buttonStyle[action],
      label: truncate(action === 'mine' ? `${choiceLabel[action]}: ${subject}` : choiceLabel[action], 80),
      custom_id: choiceId(action, subject),
    })),
  };
}

const toneColor: Record<ReplyTone, number> = { info: 0x5865f2, good: 0x2ecc71, warning: 0xf1c40f, bad: 0xe74c3c };

/**
 * Escapes Discord markdown so report values (domains with `_`, `*` in comments) show literally:
 * also masked links `[text](url)` (escaped brackets: a report could dress a phishing URL as a
 * domain), mention syntax
 * `<@id>` `<#id>` `<@&id>` and @everyone / @here (shown as text, never as a mention).
 */
export function escapeDiscord(text: string): string {
  return text
    .replace(/([\\*_~`|[\]])/g, '\\$1')
    .replace(/^([>#-])/gm, '\\$1')
    .replace(/<(?=[@#:]|a:|t:|\/)/g, '\\<')
    .replace(/@(everyone|here)\b/g, '@\u200b$1');
}

/** Sum of the characters Discord counts against the 6000 limit. */
export function embedChars(embed: DiscordEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0)
  );
}

/** Ready message for editReply, channel.send or a webhook post. */
export function renderDiscord(reply: Reply): DiscordMessage {
  return renderWithCut(reply).message;
}

/** Whether the reply fits one Discord message without being shortened. */
export function discordFits(reply: Reply): boolean {
  return !renderWithCut(reply).cut;
}

function renderWithCut(reply: Reply): { message: DiscordMessage; cut: boolean } {
  const color = toneColor[reply.tone];
  const embeds: DiscordEmbed[] = [];
  let used = 0;
  // Discord refuses an empty embed: an untitled reply gets a zero-width title
  let current: DiscordEmbed = {
    title: truncate(escapeDiscord(reply.title), discordLimits.titleChars) || '\u200b',
    color,
  };
  used += current.title!.length;
  embeds.push(current);
  let cut = false;

  const room = () => discordLimits.totalChars - used;

  const appendDescription = (text: string): boolean => {
    const existing = current.description ?? '';
    const separator = existing ? '\n\n' : '';
    const available = Math.min(
      discordLimits.descriptionChars - existing.length - separator.length,
      room() - separator.length,
    );
    if (available < Math.min(text.length, 40)) return false;
    const piece = truncate(text, available);
    current.description = existing + separator + piece;
    used += separator.length + piece.length;
    if (piece.length < text.length) cut = true;
    return true;
  };

  for (const block of reply.blocks) {
    if (room() < 50) {
      cut = true;
      break;
    }
    if (block.type === 'header') {
      if (block.text.trim() === '') continue;
      if (block.text === reply.title && embeds.length === 1 && !current.description && !current.fields) continue;
      if (embeds.length >= discordLimits.embeds) {
        cut = true;
        break;
      }
      const title = truncate(escapeDiscord(block.text), Math.min(discordLimits.titleChars, room()));
      current = { title, color };
      used += title.length;
      embeds.push(current);
      continue;
    }
    if (block.type === 'fields') {
      current.fields ??= [];
      for (const field of block.fields) {
        if (current.fields.length >= discordLimits.fields) {
          cut = true;
          break;
        }
        const name = truncate(escapeDiscord(field.label) || '\u200b', discordLimits.fieldNameChars);
        const value = truncate(
          escapeDiscord(field.value) || '\u200b',
          Math.min(discordLimits.fieldValueChars, room() - name.length),
        );
        if (room() - name.length - value.length < 0 || value.length === 0) {
          cut = true;
          break;
        }
        current.fields.push({ name, value, inline: true });
        used += name.length + value.length;
      }
      continue;
    }
    const text = blockText(
      block,
      Math.min(discordLimits.descriptionChars - (current.description?.length ?? 0) - 2, room() - 2),
    );
    if (text === null) continue;
    if (!appendDescription(text)) {
      cut = true;
      break;
    }
  }
  if (cut) {
    const last = embeds[embeds.length - 1]!;
    last.footer = { text: 'Shortened to fit Discord; ask with fewer days or a narrower filter for the rest.' };
  }
  const subjects = choicesOf(reply);
  const message: DiscordMessage = subjects.length > 0 ? { embeds, components: subjects.map(choiceRow) } : { embeds };
  if (reply.image) {
    const name = attachmentName(reply.image.name);
    embeds[0]!.image = { url: `attachment://${name}` };
    message.files = [{ name, data: reply.image.png, contentType: 'image/png' }];
  }
  return { message, cut };
}

/** attachment:// names allow only [A-Za-z0-9_.-]; anything else would not match the file. */
function attachmentName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
  return /\.png$/i.test(cleaned) ? cleaned : `${cleaned || 'chart'}.png`;
}

function blockText(block: Exclude<ReplyBlock, { type: 'header' } | { type: 'fields' }>, room: number): string | null {
  const available = Math.max(0, room);
  switch (block.type) {
    case 'text':
      return block.text.trim() === '' ? null : escapeDiscord(block.text);
    case 'list': {
      if (block.items.length === 0 && !block.title) return null;
      const title = block.title ? `**${escapeDiscord(truncate(block.title, 200))}**\n` : '';
      return (
        title +
        fitLines(
          block.items.map((item) => `• ${escapeDiscord(truncate(item, 300))}`),
          available - title.length,
          discordLimits.listItems,
        )
      );
    }
    case 'table': {
      const title = block.title ? `**${escapeDiscord(truncate(block.title, 200))}**\n` : '';
      const shown = block.rows.slice(0, discordLimits.tableRows);
      const hidden = block.rows.length - shown.length;
      const note = hidden > 0 ? `\n… and ${hidden} more` : '';
      // inside a code block nothing needs escaping except the fence itself
      const lines = tableLines(block.columns, shown).map((line) => line.replace(/```/g, "'''"));
      return `${title}\`\`\`\n${fitLines(lines, available - title.length - 8 - note.length)}\n\`\`\`${note}`;
    }
    case 'context':
      return `-# ${escapeDiscord(block.text).replace(/\n/g, ' ')}`;
    case 'divider':
      return null;
  }
}
