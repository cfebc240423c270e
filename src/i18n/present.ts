// Small presentation helpers shared by the command handlers and the digest: the context's
// translator, the usual figures in words, and count tables.

import type { CommandContext } from '../command-kit/types.ts';
import type { CountRow, DayWindow, Hint } from '../insight/types.ts';
import type { ReplyBlock } from '../reply/model.ts';
import { createTranslator, type Translator } from './index.ts';

export function translatorFor(context: Pick<CommandContext, 'locale' | 'timeZone'>): Translator {
  return createTranslator(context.locale, context.timeZone);
}

/** "1,234 / 56" */
export function passFail(t: Translator, pass: number, fail: number): string {
  return `${t.number(pass)} / ${t.number(fail)}`;
}

/** "95.5% (1,234)" */
export function countWithRate(t: Translator, part: number, whole: number): string {
  return `${t.percent(whole > 0 ? part / whole : 0)} (${t.number(part)})`;
}

export function countTable(
  t: Translator,
  title: string,
  firstColumn: string,
  rows: readonly CountRow[],
  limit = 10,
): ReplyBlock | null {
  if (rows.length === 0) return null;
  const shown = rows.slice(0, limit).map((row) => [row.key, t.number(row.messages)]);
  const rest = rows.slice(limit);
  if (rest.length > 0)
    shown.push([
      moreText(
        t,
        rest.length,
        rest.reduce((sum, row) => sum + row.messages, 0),
      ),
      '',
    ]);
  return { type: 'table', title, columns: [firstColumn, t.t('label.messages')], rows: shown };
}

/** "… and 12 more (340 messages)": the line that ends a cut list, so nothing is hidden silently. */
export function moreText(t: Translator, count: number, messages: number): string {
  return t.t('reply.moreMessages', { count, messages });
}

/**
 * The first `limit` items of a list (already sorted by what needs action first), and the "and N
 * more (M messages)" line for the rest, or null when nothing was cut.
 */
export function cutList<T>(
  t: Translator,
  items: readonly T[],
  limit: number,
  messagesOf: (item: T) => number,
): { shown: T[]; more: string | null } {
  if (items.length <= limit) return { shown: [...items], more: null };
  const rest = items.slice(limit);
  return {
    shown: items.slice(0, limit),
    more: moreText(
      t,
      rest.length,
      rest.reduce((sum, item) => sum + messagesOf(item), 0),
    ),
  };
}

export function recordRows(counts: Record<string, number>): CountRow[] {
  return Object.entries(counts)
    .map(([key, messages]) => ({ key, messages }))
    .sort((a, b) => b.messages - a.messages || (a.key < b.key ? -1 : 1));
}

export function windowNote(t: Translator, window: DayWindow): ReplyBlock {
  return {
    type: 'context',
    text: t.t('reply.window', { from: t.day(window.from), to: t.day(window.to), timeZone: t.timeZone }),
  };
}

export function hintText(t: Translator, hint: Hint | null): string {
  return hint ? t.hint(hint) : '';
}

/** Drops the nulls of optional blocks. */
export function blocks(...items: Array<ReplyBlock | null | false | undefined>): ReplyBlock[] {
  return items.filter((item): item is ReplyBlock => Boolean(item));
}

/** "203.0.113.5 (Google)", or the bare IP when the sender is only known by its address */
export function sourceLabel(ip: string, sender: string | null | undefined): string {
  return sender && sender !== ip ? `${ip} (${sender})` : ip;
}
