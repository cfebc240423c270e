// The digest's picture: the trend of every domain the digest speaks of, over the readiness window
// ending now. One domain gets its chart, several share one picture of small charts; a terminal
// digest gets the sparklines alone. A chart that cannot be drawn never holds the digest back.

import { chartImage, seriesFromTrend } from '../chart/from-trend.ts';
import { sparklineLines } from '../chart/sparkline.ts';
import type { CommandContext } from '../command-kit/types.ts';
import { identifyFor } from '../context.ts';
import { translatorFor } from '../i18n/present.ts';
import { queryTrends } from '../insight/trend-query.ts';
import type { Logger } from '../log.ts';
import type { ReplyImage } from '../reply/model.ts';
import type { ReportStore } from '../store/types.ts';
import { errorMessage } from '../text/error-message.ts';

/** 'png': a picture with its sparklines as text form; 'text': the sparklines only; 'none': nothing. */
export type DigestChartMode = 'png' | 'text' | 'none';

export interface DigestChart {
  image: ReplyImage | null;
  /** one sparkline line per domain */
  lines: string[];
}

export async function digestChart(
  store: ReportStore,
  context: CommandContext,
  domains: readonly string[],
  options: { mode: DigestChartMode; log?: Logger },
): Promise<DigestChart> {
  if (options.mode === 'none' || domains.length === 0) return { image: null, lines: [] };
  try {
    const t = translatorFor(context);
    const wanted = new Set(domains);
    const results = await queryTrends(store, identifyFor(context), domains.length === 1 ? domains[0]! : null, {
      days: context.thresholds.windowDays,
      now: context.now(),
      thresholds: context.thresholds,
    });
    const series = results
      .filter((result) => wanted.has(result.trend.domain))
      .map((result) => seriesFromTrend(result, t, context.thresholds));
    if (options.mode === 'text') return { image: null, lines: sparklineLines(series, t) };
    const image = await chartImage(series, t);
    return { image, lines: image?.text ?? [] };
  } catch (error) {
    options.log?.warn({ err: errorMessage(error) }, 'digest chart could not be drawn; the digest goes out without it');
    return { image: null, lines: [] };
  }
}
