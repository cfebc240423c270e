// `/dmarc sources [days]`: the top sender groups over every domain (default 30 days).

import { daysOption } from '../src/command-kit/common-options.ts';
import type { CommandDef } from '../src/command-kit/types.ts';
import { identifyFor } from '../src/context.ts';
import { en, type MessageKey } from '../src/i18n/en.ts';
import { moreText, translatorFor, windowNote } from '../src/i18n/present.ts';
import { querySources } from '../src/insight/index.ts';

export const sourcesCommand: CommandDef = {
  name: 'sources',
  description: en['command.sources'],
  options: [daysOption],
  examples: ['sources', 'sources 90'],
  async handler(args, context) {
    const t = translatorFor(context);
    const days = typeof args.days === 'number' ? args.days : 30;
    const result = await querySources(context.store, identifyFor(context), days, context.now(), {
      thresholds: context.thresholds,
    });
    if (result.messages === 0) {
      return {
        title: t.t('summary.none', { days }),
        tone: 'info',
        blocks: [windowNote(t, result.window)],
        data: result,
      };
    }
    const shown = result.sources;
    const restMessages = result.messages - shown.reduce((sum, s) => sum + s.messages, 0);
    const more = result.total > shown.length ? moreText(t, result.total - shown.length, restMessages) : null;
    return {
      title: t.t('sources.title', { days, total: result.total, ips: result.ips, messages: result.messages }),
      tone: 'info',
      blocks: [
        {
          type: 'table',
          columns: [
            t.t('label.sender'),
            t.t('label.class'),
            t.t('label.messages'),
            t.t('label.share'),
            t.t('label.passRate'),
            t.t('label.ips'),
            t.t('label.domains'),
          ],
          rows: [
            ...shown.map((s) => [
              s.mark ? `${s.sender} (${t.t(s.mark === 'mine' ? 'mark.mine' : 'mark.spoof')})` : s.sender,
              t.t(`class.${s.class}` as MessageKey),
              t.number(s.messages),
              t.percent(s.share),
              t.percent(s.passRate),
              t.number(s.ipCount),
              s.domains.join(', '),
            ]),
            ...(more ? [[more, '', '', '', '', '', '']] : []),
          ],
        },
        { type: 'context', text: t.t('sources.note') },
        windowNote(t, result.window),
      ],
      data: result,
    };
  },
};
