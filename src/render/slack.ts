// Block Kit rendering of a Reply, inside Slack's limits: 50 blocks a message, header 150 chars,
// section text 3000, 10 fields of 2000 per section, and a total well under the ~13k chars of block
// text at which messages fail. Anything cut says so; a plain `text` fallback is always present.

import type { Reply, ReplyBlock, ReplyTone } from '../reply/model.ts';
import { fitLines, tableLines, truncate } from './fit.ts';
import { CHOICE_ACTIONS, choiceLabel, choicesOf } from '../chat/choices.ts';

export const slackLimits = {
  blocks: 50,
  headerChars: 150,
  sectionChars: 3000,
  fieldsPerSection: 10,
  fieldChars: 2000,
  contextChars: 3000,
  /** our own budget for all block text together, well below where Slack refuses a message */
  totalChars: 11_000,
  fallbackChars: 3000,
  listItems: 25,
  tableRows: 20,
} as const;

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export type SlackBlock = Record<string, unknown>;

/** Escapes the three characters Slack's mrkdwn and plain_text treat as control characters. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const toneMark: Record<ReplyTone, string> = {
  info: '',
  good: ':white_check_mark: ',
  warning: ':warning: ',
  bad: ':x: ',
};

/** A ready Block Kit message for chat.postMessage or respond(). */
export function renderSlack(reply: Reply): SlackMessage {
  return renderWithCut(reply).message;
}

/** Whether the reply fits one Slack message without a part left out. */
export function slackFits(reply: Reply): boolean {
  return !renderWithCut(reply).cut;
}

function renderWithCut(reply: Reply): { message: SlackMessage; cut: boolean } {
  const blocks: SlackBlock[] = [];
  let used = 0;
  let skipped = 0;
  // one block slot and some text kept back for the note that says what was cut
  const maxBlocks = slackLimits.blocks - 1;
  const maxChars = slackLimits.totalChars - 200;

  const add = (block: SlackBlock, chars: number): boolean => {
    if (blocks.length >= maxBlocks || used + chars > maxChars) return false;
    blocks.push(block);
    used += chars;
    return true;
  };

  const headerText = truncate(escapeSlack(reply.title), slackLimits.headerChars);
  // the title opens the message unless the reply starts its own header with the same words
  const addTitleHeader =
    headerText.trim() !== '' && !reply.blocks.some((block) => block.type === 'header' && block.text === reply.title);
  if (addTitleHeader)
    add({ type: 'header', text: { type: 'plain_text', text: headerText, emoji: true } }, headerText.length);

  for (let index = 0; index < reply.blocks.length; index++) {
    const room = maxChars - used;
    // a block that cannot get a useful amount of room ends the message (with a note)
    if (blocks.length >= maxBlocks || room < 100) {
      skipped = reply.blocks.length - index;
      break;
    }
    const rendered = renderBlock(reply.blocks[index]!, room);
    let placed = 0;
    for (const [slackBlock, chars] of rendered) {
      if (!add(slackBlock, chars)) break;
      placed++;
    }
    if (placed < rendered.length) {
      skipped = reply.blocks.length - index;
      break;
    }
  }
  // the decision buttons come last, and only when the whole answer fit above them
  if (skipped === 0) {
    for (const subject of choicesOf(reply)) {
      const label = escapeSlack(subject);
      if (!add(section(`*${label}*`)[0], label.length + 2)) break;
      if (!add(choiceBlock(subject), 0)) {
        blocks.pop();
        break;
      }
    }
  }
  if (skipped > 0) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `… ${skipped} more part${skipped === 1 ? '' : 's'} of this answer did not fit into one Slack message`,
        },
      ],
    });
  }
  return { message: { text: fallbackText(reply), blocks }, cut: skipped > 0 };
}

/** The notification and accessibility text: title plus the first paragraph. */
function fallbackText(reply: Reply): string {
  const firstText = reply.blocks.find((block) => block.type === 'text');
  const text = firstText && firstText.type === 'text' ? `${reply.title}\n${firstText.text}` : reply.title;
  return truncate(escapeSlack(text), slackLimits.fallbackChars) || ' ';
}

/** block_id names the subject, so a click knows which buttons to replace with the decision. */
export function choiceBlockId(subject: string): string {
  return `dmarc_choice:${subject}`;
}

function choiceBlock(subject: string): SlackBlock {
  return {
    type: 'actions',
    block_id: choiceBlockId(subject),
    elements: CHOICE_ACTIONS.map((action) => ({
      type: 'button',
      action_id: `dmarc_${action}`,
      text: { type: 'plain_text', text: choiceLabel[action] },
      value: subject,
      ...(action === 'mine' ? { style: 'primary' } : action === 'spoof' ? { style: 'danger' } : {}),
    })),
  };
}

function section(text: string): [SlackBlock, number] {
  // verbatim: Slack must not turn report data into links or channel/user mentions
  return [{ type: 'section', text: { type: 'mrkdwn', text, verbatim: true } }, text.length];
}

/** Renders one reply block into zero or more Slack blocks with their text size. */
function renderBlock(block: ReplyBlock, room: number): Array<[SlackBlock, number]> {
  const sectionRoom = Math.max(0, Math.min(slackLimits.sectionChars, room));
  switch (block.type) {
    case 'header': {
      const text = truncate(escapeSlack(block.text), slackLimits.headerChars);
      // Slack refuses empty text objects
      if (text.trim() === '') return [];
      return [[{ type: 'header', text: { type: 'plain_text', text, emoji: true } }, text.length]];
    }
    case 'text': {
      const text = truncate(toneMark[block.tone ?? 'info'] + escapeSlack(block.text), sectionRoom);
      return text ? [section(text)] : [];
    }
    case 'fields': {
      // a fields block gets at most one section's worth of text, shared evenly by its fields
      const out: Array<[SlackBlock, number]> = [];
      if (block.fields.length === 0) return out;
      const perField = Math.max(
        20,
        Math.min(slackLimits.fieldChars, Math.floor(sectionRoom / Math.max(1, block.fields.length))),
      );
      for (let start = 0; start < block.fields.length; start += slackLimits.fieldsPerSection) {
        const chunk = block.fields.slice(start, start + slackLimits.fieldsPerSection);
        const texts = chunk.map((field) =>
          truncate(`*${truncate(escapeSlack(field.label), 200)}*\n${escapeSlack(field.value)}`, perField),
        );
        out.push([
          { type: 'section', fields: texts.map((text) => ({ type: 'mrkdwn', text, verbatim: true })) },
          texts.reduce((sum, text) => sum + text.length, 0),
        ]);
      }
      return out;
    }
    case 'list': {
      if (block.items.length === 0 && !block.title) return [];
      const title = block.title ? `*${truncate(escapeSlack(block.title), 200)}*\n` : '';
      const mark = toneMark[block.tone ?? 'info'];
      const body = fitLines(
        block.items.map((item) => `• ${truncate(escapeSlack(item), 300)}`),
        sectionRoom - title.length - mark.length,
        slackLimits.listItems,
      );
      return [section(mark + title + (body || '–'))];
    }
    case 'table': {
      const title = block.title ? `*${truncate(escapeSlack(block.title), 200)}*\n` : '';
      const shown = block.rows.slice(0, slackLimits.tableRows);
      const lines = tableLines(block.columns, shown).map(escapeSlack);
      // the code fence costs 8 characters; the cut note goes below it
      const hiddenRows = block.rows.length - shown.length;
      const note = hiddenRows > 0 ? `\n… and ${hiddenRows} more` : '';
      const body = fitLines(lines, sectionRoom - title.length - 8 - note.length);
      return [section(`${title}\`\`\`${body}\`\`\`${note}`)];
    }
    case 'context': {
      const text = truncate(escapeSlack(block.text), Math.min(slackLimits.contextChars, Math.max(0, room)));
      return text ? [[{ type: 'context', elements: [{ type: 'mrkdwn', text, verbatim: true }] }, text.length]] : [];
    }
    case 'divider':
      return [[{ type: 'divider' }, 0]];
  }
}
