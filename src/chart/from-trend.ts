// From the insight layer's trend of a domain to the series the chart draws, worded in the locale.

import type { Translator, MessageKey } from '../i18n/index.ts';
import type { ReadinessThresholds } from '../insight/types.ts';
import type { TrendResult } from '../insight/trend-query.ts';
import type { ReplyImage } from '../reply/model.ts';
import type { ChartSeries } from './series.ts';
import { sparklineLines } from './sparkline.ts';

export function seriesFromTrend(
  result: TrendResult,
  t: Translator,
  thresholds: Pick<ReadinessThresholds, 'quarantinePassRate' | 'rejectPassRate'>,
): ChartSeries {
  const { trend, readiness } = result;
  return {
    domain: trend.domain,
    period: { from: trend.window.from, to: trend.window.to },
    verdict: t.t(`verdict.${readiness.verdict}` as MessageKey),
    locale: t.locale,
    thresholds: { quarantine: thresholds.quarantinePassRate, reject: thresholds.rejectPassRate },
    days: trend.days,
    markers: trend.markers.map(({ day, kind, label }) => ({ day, kind, label })),
  };
}

/** One chart for one domain, small multiples for several; the sparklines are its text form. */
export async function chartImage(series: ChartSeries[], t: Translator): Promise<ReplyImage | null> {
  const first = series[0];
  if (!first) return null;
  // chart.js, the Skia canvas and the font load here, on the first picture, so that commands which
  // only list /dmarc chart (help, Discord registration, parse) start without them.
  const { chartTitle, renderSmallMultiples, renderTrendChart } = await import('./render.ts');
  const png = series.length === 1 ? await renderTrendChart(first) : await renderSmallMultiples(series);
  const alt =
    series.length === 1
      ? chartTitle(first, t)
      : t.t('chart.multiples.title', {
          count: series.length,
          from: t.day(first.period.from),
          to: t.day(first.period.to),
        });
  return { name: 'chart.png', png, alt, text: sparklineLines(series, t) };
}
