// `/dmarc failures [domain] [days]`: the failure reports (RFC 6591) received, newest first.

import { domainOption, daysOption } from '../src/command-kit/common-options.ts';
import type { CommandDef } from '../src/command-kit/types.ts';
import { en } from '../src/i18n/en.ts';
import { blocks, countTable, cutList, translatorFor, windowNote } from '../src/i18n/present.ts';
import { windowEnding } from '../src/insight/index.ts';
import { failuresInsight } from '../src/insight/reports.ts';

const ROWS = 20;

export const failuresCommand: CommandDef = {
  name: 'failures',
  description: en['command.failures'],
  options: [domainOption, daysOption],
  examples: ['failures', 'failures example.com 7', 'failures days:90'],
  async handler(args, context) {
    const t = translatorFor(context);
    const domain = typeof args.domain === 'string' ? args.domain : null;
    const days = typeof args.days === 'number' ? args.days : 30;
    const window = windowEnding(context.now(), days);
    const insight = failuresInsight(await context.store.failures(domain, window.from, window.to), window);
    const forDomain = domain ? t.t('list.forDomain', { domain }) : '';
    if (insight.count === 0)
      return {
        title: t.t('failures.none', { days, forDomain }),
        tone: 'info',
        blocks: [windowNote(t, window)],
        data: insight,
      };
    const list = cutList(t, insight.reports, ROWS, () => 1);
    return {
      title: t.t('failures.title', { days, count: insight.count }),
      tone: 'warning',
      blocks: blocks(
        countTable(t, t.t('label.sources'), t.t('label.ip'), insight.bySource),
        {
          type: 'table',
          title: t.t('label.failureReports'),
          columns: [
            t.t('label.arrival'),
            t.t('label.ip'),
            t.t('label.headerFrom'),
            t.t('label.result'),
            t.t('label.reporter'),
          ],
          rows: [
            ...list.shown.map((report) => [
              t.dateTime(report.arrival ?? report.received),
              report.sourceIp ?? t.t('none'),
              report.headerFrom ?? report.domain ?? t.t('none'),
              report.authFailure.join(', ') || t.t('none'),
              report.reporter ?? t.t('none'),
            ]),
            ...(list.more ? [[t.t('reply.more', { count: insight.count - ROWS }), '', '', '', '']] : []),
          ],
        },
        windowNote(t, window),
      ),
      data: insight,
    };
  },
};
