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

/** A terminal line stays readable: longer series are averaged into this many columns. */
export const MAX_SPARKLINE_WIDTH = 60;

/** Averages consecutive values into at most `width` columns; a column without any value stays null. */
export function squeeze(values: ReadonlyArray<number | null>, width = MAX_SPARKLINE_WIDTH): Array<number | null> {
  if (values.length <= width) return [...values];
  const columns: Array<number | null> = [];
  for (let column = 0; column < width; column++) {
    const start = Math.floor((column * values.length) / width);
    const end = Math.floor(((column + 1) * values.length) / width);
    const known = values.slice(start, end).filter((value): value is number => typeof value === 'number');
    columns.push(known.length ? known.reduce((sum, value) => sum + value, 0) / known.length : null);
  }
  return columns;
}

/**
 * One line per domain: the daily pass rate as a sparkline (scaled to the domain's own range, so a
 * slide from 99 % to 96 % shows; more than 60 days are averaged into 60 columns), the latest pass
 * rate and the period's messages.
 */
export function sparklineLines(series: ChartSeries[], t: Translator): string[] {
  const width = Math.max(0, ...series.map((item) => item.domain.length));
  return series.map((item) => {
    const rates = item.days.map((day) => day.passRate);
    const latest = [...rates].reverse().find((rate): rate is number => rate !== null);
    const messages = item.days.reduce((sum, day) => sum + dayTotal(day), 0);
    return t.t('chart.sparkline.line', {
      domain: item.domain.padEnd(width),
      sparkline: sparkline(squeeze(rates)),
      passRate: latest === undefined ? t.t('none') : t.percent(latest),
      messages,
    });
  });
}
