import { describe, expect, it } from 'vitest';
import { sparkline, sparklineLines, squeeze } from '../../src/chart/index.ts';
import { createTranslator } from '../../src/i18n/index.ts';
import { generatedMonth } from './month.ts';

describe('sparkline', () => {
  it('maps the lowest value to the lowest block and the highest to the full block', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([7, 0])).toBe('█▁');
    expect(sparkline([0.96, 0.99, 0.97])).toBe('▁█▃');
  });

  it('leaves days without data blank and puts a flat series in the middle', () => {
    expect(sparkline([0.5, null, 1])).toBe('▁ █');
    expect(sparkline([0.9, 0.9, 0.9])).toBe('▄▄▄');
    expect(sparkline([null, null])).toBe('  ');
    expect(sparkline([Number.NaN, 1])).toBe(' ▄');
  });

  it('keeps to a fixed range when one is given', () => {
    expect(sparkline([0.5, 1], { min: 0, max: 1 })).toBe('▅█');
    expect(sparkline([-3, 9], { min: 0, max: 1 })).toBe('▁█');
  });
});

describe('squeeze', () => {
  it('averages a long series into at most 60 columns, keeping empty stretches empty', () => {
    const values = Array.from({ length: 120 }, (_, index) => (index < 60 ? null : index % 2 ? 1 : 0));
    const columns = squeeze(values);
    expect(columns).toHaveLength(60);
    expect(columns.slice(0, 30).every((value) => value === null)).toBe(true);
    expect(columns.slice(30).every((value) => value === 0.5)).toBe(true);
    expect(squeeze([1, 2, 3])).toEqual([1, 2, 3]);
  });
});

describe('sparklineLines', () => {
  it('writes one line per domain with the daily pass rate, the latest rate and the messages', () => {
    const rising = generatedMonth('rising', { domain: 'example.com' });
    rising.days = rising.days.map((day, index) => ({ ...day, passRate: 0.8 + index * 0.005 }));
    const falling = generatedMonth('falling', { domain: 'mail.example.org' });
    falling.days = falling.days.map((day, index) => ({ ...day, passRate: index === 3 ? null : 0.99 - index * 0.002 }));
    const lines = sparklineLines([rising, falling], createTranslator('en'));
    expect(lines).toHaveLength(2);
    const [first, second] = lines as [string, string];
    const blocks = (line: string) => /[▁▂▃▄▅▆▇█][ ▁▂▃▄▅▆▇█]{29}/.exec(line)?.[0];
    expect(blocks(first)?.startsWith('▁')).toBe(true);
    expect(blocks(first)?.endsWith('█')).toBe(true);
    expect(blocks(second)?.startsWith('█')).toBe(true);
    expect(blocks(second)?.[3]).toBe(' ');
    expect(first).toContain('94.5%');
    const messages = rising.days.reduce((sum, day) => sum + Object.values(day.byClass).reduce((a, b) => a + b, 0), 0);
    expect(first).toContain(new Intl.NumberFormat('en').format(messages));
    // the sparklines start in the same column
    expect(first.indexOf(blocks(first)!)).toBe(second.indexOf(blocks(second)!));
  });

  it('words the line in the locale', () => {
    const [line] = sparklineLines([generatedMonth('ja')], createTranslator('ja'));
    expect(line).toMatch(/^example\.com [▁▂▃▄▅▆▇█]{30} 合格 \d+(\.\d)?%、[\d,]+ 件$/);
  });
});
