// A trend in one line of text for the terminal: Unicode block characters, one per day.

import type { Translator } from '../i18n/index.ts';
import { dayTotal, type ChartSeries } from './series.ts';

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
const NO_DATA = ' ';

/**
 * One block character per value, scaled between the lowest and the highest value given (or
 * `min`/`max`); null (no data) is a space. A flat series sits in the middle.
 */
export function sparkline(values: ReadonlyArray<number | null>, range: { min?: number; max?: number } = {}): string {
  const known = values.filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  if (known.length === 0) return NO_DATA.repeat(values.length);
  const low = range.min ?? Math.min(...known);
  const high = range.max ?? Math.max(...known);
  const span = high - low;
  return values
    .map((value) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) return NO_DATA;
      if (!(span > 0)) return BLOCKS[3];
      const level = Math.round(((Math.min(Math.max(value, low), high) - low) / span) * (BLOCKS.length - 1));
      return BLOCKS[level];
    })
    .join('');
}

/**
 * One line per domain: the daily pass rate as a sparkline (scaled to the domain's own range, so a
 * slide from 99 % to 96 % shows), the latest pass rate and the period's messages.
 */
export function sparklineLines(series: ChartSeries[], t: Translator): string[] {
  const width = Math.max(0, ...series.map((item) => item.domain.length));
  return series.map((item) => {
    const rates = item.days.map((day) => day.passRate);
    const latest = [...rates].reverse().find((rate): rate is number => rate !== null);
    const messages = item.days.reduce((sum, day) => sum + dayTotal(day), 0);
    return t.t('chart.sparkline.line', {
      domain: item.domain.padEnd(width),
      sparkline: sparkline(rates),
      passRate: latest === undefined ? t.t('none') : t.percent(latest),
      messages,
    });
  });
}
