import { describe, expect, it } from 'vitest';
import { displayWidth, renderTerminal } from '../../src/render/terminal.ts';

describe('renderTerminal', () => {
  it('aligns table columns, counting Japanese characters as two cells', () => {
    const text = renderTerminal({
      title: 'T',
      tone: 'info',
      blocks: [
        {
          type: 'table',
          columns: ['送信者', 'Messages'],
          rows: [
            ['Google', '1,200'],
            ['メール', '3'],
          ],
        },
      ],
    });
    const rows = text.split('\n').filter((line) => line.startsWith('  '));
    // the second column starts at the same cell in every row
    const starts = rows.map((line) => {
      const match = /\S+\s{2,}(?=\S)/.exec(line.trimStart())!;
      return displayWidth(match[0]);
    });
    expect(new Set(starts).size).toBe(1);
    expect(rows).toHaveLength(4);
  });

  it('writes no escape codes unless colour is asked for', () => {
    const reply = {
      title: 'Bad',
      tone: 'bad' as const,
      blocks: [{ type: 'text' as const, text: 'x', tone: 'warning' as const }],
    };
    expect(renderTerminal(reply)).not.toContain('\u001b[');
    expect(renderTerminal(reply, { color: true })).toContain('\u001b[31m');
  });

  it('aligns field values after the longest label and keeps values on one line', () => {
    const text = renderTerminal({
      title: 'T',
      tone: 'info',
      blocks: [
        {
          type: 'fields',
          fields: [
            { label: 'A', value: 'one' },
            { label: 'Longer', value: 'two\nlines' },
          ],
        },
      ],
    });
    expect(text).toContain('A:       one');
    expect(text).toContain('Longer:  two lines');
  });
});
