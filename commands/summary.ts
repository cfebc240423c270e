// `/dmarc summary [days]`: totals per policy domain over the last days (default 30).

import { daysOption } from '../src/command-kit/common-options.ts';
import type { CommandDef } from '../src/command-kit/types.ts';
import { en } from '../src/i18n/en.ts';
import { translatorFor, windowNote } from '../src/i18n/present.ts';
import { querySummary } from '../src/insight/index.ts';

export const summaryCommand: CommandDef = {
  name: 'summary',
  description: en['command.summary'],
  options: [daysOption],
  examples: ['summary', 'summary 7'],
  async handler(args, context) {
    const t = translatorFor(context);
    const days = typeof args.days === 'number' ? args.days : 30;
    const result = await querySummary(context.store, days, context.now());
    if (result.messages === 0) {
      return {
        title: t.t('summary.none', { days }),
        tone: 'info',
        blocks: [windowNote(t, result.window)],
        data: result,
      };
    }
    return {
      title: t.t('summary.title', {
        days,
        messages: result.messages,
        passRate: t.percent(result.passRate),
        domains: result.domains.length,
      }),
      tone: result.passRate >= 0.99 ? 'good' : result.passRate >= 0.9 ? 'info' : 'warning',
      blocks: [
        {
          type: 'table',
          columns: [
            t.t('label.domain'),
            t.t('label.messages'),
            t.t('label.passRate'),
            t.t('label.spfAligned'),
            t.t('label.dkimAligned'),
            t.t('label.reports'),
            t.t('label.sources'),
          ],
          rows: result.domains.map((d) => [
            d.domain,
            t.number(d.messages),
            t.percent(d.passRate),
            t.percent(d.spfAlignedRate),
            t.percent(d.dkimAlignedRate),
            t.number(d.reports),
            t.number(d.sources),
          ]),
        },
        { type: 'context', text: t.t('summary.sourcesNote') },
        windowNote(t, result.window),
      ],
      data: result,
    };
  },
};
