// The terminal form of a Reply: plain text with aligned fields and tables. Colours only when asked
// for (the CLI asks when stdout is a TTY and NO_COLOR is unset). Column widths count East Asian
// wide characters as two cells, so Japanese tables line up too.

import type { Reply, ReplyBlock, ReplyTone } from '../reply/model.ts';

export interface TerminalOptions {
  color?: boolean;
}

function isWide(codePoint: number): boolean {
  return (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  );
}

/** Terminal cells a string takes. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += isWide(char.codePointAt(0)!) ? 2 : 1;
  return width;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

const TONE_COLOUR: Record<ReplyTone, string> = { info: '36', good: '32', warning: '33', bad: '31' };

function paint(text: string, tone: ReplyTone | undefined, color: boolean): string {
  return color && tone ? `\u001b[${TONE_COLOUR[tone]}m${text}\u001b[0m` : text;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function table(columns: readonly string[], rows: readonly string[][]): string[] {
  const cells = [columns, ...rows].map((row) => row.map(oneLine));
  const count = Math.max(...cells.map((row) => row.length));
  const widths = Array.from({ length: count }, (_, index) =>
    Math.max(...cells.map((row) => displayWidth(row[index] ?? ''))),
  );
  const line = (row: readonly string[]) =>
    widths
      .map((width, index) => (index === count - 1 ? (row[index] ?? '') : pad(row[index] ?? '', width)))
      .join('  ')
      .trimEnd();
  const hasHeader = columns.some((column) => column !== '');
  return [
    ...(hasHeader ? [line(cells[0]!), line(widths.map((width) => '-'.repeat(width)))] : []),
    ...cells.slice(1).map(line),
  ].map((text) => `  ${text}`);
}

function renderBlock(block: ReplyBlock, color: boolean): string[] {
  switch (block.type) {
    case 'header':
      return ['', block.text, '-'.repeat(Math.min(displayWidth(block.text), 72))];
    case 'text':
      return [paint(block.text, block.tone, color)];
    case 'fields': {
      const width = Math.max(...block.fields.map((field) => displayWidth(field.label)));
      return block.fields.map((field) => `${pad(`${field.label}:`, width + 1)}  ${oneLine(field.value)}`);
    }
    case 'list':
      return [
        ...(block.title ? [`${block.title}:`] : []),
        ...block.items.map((item) => paint(`  • ${oneLine(item)}`, block.tone, color)),
      ];
    case 'table':
      return [...(block.title ? [`${block.title}:`] : []), ...table(block.columns, block.rows)];
    case 'context':
      return [paint(block.text, color ? 'info' : undefined, color)];
    case 'divider':
      return ['', '─'.repeat(40)];
  }
}

export function renderTerminal(reply: Reply, options: TerminalOptions = {}): string {
  const color = options.color ?? false;
  const lines = [paint(reply.title, reply.tone, color), '='.repeat(Math.min(displayWidth(reply.title), 72))];
  let previous: ReplyBlock['type'] | null = null;
  for (const block of reply.blocks) {
    const rendered = renderBlock(block, color);
    // a blank line between blocks, but not after a header's underline
    if (previous !== null && previous !== 'header' && block.type !== 'header') lines.push('');
    if (previous === null && block.type !== 'header') lines.push('');
    lines.push(...rendered);
    previous = block.type;
  }
  // A terminal shows no picture: its text form (sparklines), or what it shows in words.
  if (reply.image) lines.push('', ...(reply.image.text?.length ? reply.image.text : [`[${reply.image.alt}]`]));
  return `${lines.join('\n')}\n`;
}
