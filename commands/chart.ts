// `/dmarc chart [domain] [days:N]`: a picture of the last N days (30 by default): daily messages
// stacked by source class, the pass rate against the readiness thresholds, markers where the
// policy changed and where a new sender began. Several domains share one picture of small charts.
// data: the series drawn (without the picture).

import { chartImage, seriesFromTrend } from '../src/chart/from-trend.ts';
import { MAX_CHART_DAYS, type ChartSeries } from '../src/chart/series.ts';
import type { CommandDef } from '../src/command-kit/types.ts';
import { identifyFor } from '../src/context.ts';
import { en } from '../src/i18n/en.ts';
import type { Translator } from '../src/i18n/index.ts';
import { blocks, translatorFor, windowNote } from '../src/i18n/present.ts';
import { queryTrends } from '../src/insight/trend-query.ts';
import { windowEnding } from '../src/insight/stats.ts';
import type { ReplyTone } from '../src/reply/model.ts';

const DEFAULT_DAYS = 30;

function markerLines(t: Translator, series: ChartSeries[]): string[] {
  const many = series.length > 1;
  return series.flatMap((item) =>
    item.markers.map((marker) => {
      const line = t.t(marker.kind === 'policy-change' ? 'chart.marker.line.policy' : 'chart.marker.line.newSender', {
        day: t.day(marker.day),
        label: marker.label,
      });
      return many ? `${item.domain}: ${line}` : line;
    }),
  );
}

export const chartCommand: CommandDef = {
  name: 'chart',
  description: en['command.chart'],
  options: [
    { name: 'domain', description: en['option.domain'], type: 'domain', positional: true },
    { name: 'days', description: en['option.days'], type: 'integer', min: 2, max: MAX_CHART_DAYS },
  ],
  examples: ['chart example.com', 'chart example.com days:90', 'chart'],
  async handler(args, context) {
    const t = translatorFor(context);
    const domain = typeof args.domain === 'string' ? args.domain : null;
    const days = typeof args.days === 'number' ? args.days : DEFAULT_DAYS;
    const results = await queryTrends(context.store, identifyFor(context), domain, {
      days,
      now: context.now(),
      thresholds: context.thresholds,
    });
    const window = windowEnding(context.now(), days);
    if (results.length === 0) {
      return {
        title: t.t('chart.none.title'),
        tone: 'info',
        blocks: [
          {
            type: 'text',
            text: t.t('ready.none.text', { days, forDomain: domain ? t.t('ready.none.forDomain', { domain }) : '' }),
          },
          windowNote(t, window),
        ],
        data: [],
      };
    }
    const series = results.map((result) => seriesFromTrend(result, t, context.thresholds));
    const image = (await chartImage(series, t))!;
    const markers = markerLines(t, series);
    const verdicts = results.map((result) => result.readiness.verdict);
    const tone: ReplyTone = verdicts.includes('not-ready') ? 'warning' : 'info';
    return {
      title: image.alt,
      tone,
      blocks: blocks(
        markers.length > 0 && { type: 'list', title: t.t('chart.markers'), items: markers },
        windowNote(t, window),
      ),
      data: series,
      image,
    };
  },
};
