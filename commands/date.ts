// `/dmarc date <YYYY-MM-DD|today|yesterday>`: per policy domain, the reports covering one UTC day.

import type { CommandDef } from '../src/command-kit/types.ts';
import { identifyFor } from '../src/context.ts';
import { en } from '../src/i18n/en.ts';
import { blocks, sourceLabel, translatorFor } from '../src/i18n/present.ts';
import { queryDate } from '../src/insight/index.ts';
import type { ReplyBlock } from '../src/reply/model.ts';

export const dateCommand: CommandDef = {
  name: 'date',
  description: en['command.date'],
  options: [{ name: 'date', description: en['option.date'], type: 'date', required: true, positional: true }],
  examples: ['date 2026-05-14', 'date yesterday'],
  async handler(args, context) {
    const t = translatorFor(context);
    const date = String(args.date);
    const insight = await queryDate(context.store, date, identifyFor(context));
    if (insight.reports === 0) {
      return {
        title: t.t('date.none.title', { date: t.day(date) }),
        tone: 'info',
        blocks: [{ type: 'text', text: t.t('date.none.text', { date: t.day(date) }) }],
        data: insight,
      };
    }
    const perDomain: ReplyBlock[] = insight.domains.flatMap((domain) =>
      blocks(
        {
          type: 'header',
          text: t.t('date.domain', {
            domain: domain.domain,
            messages: domain.messages,
            passRate: t.percent(domain.passRate),
          }),
        },
        {
          type: 'table',
          title: t.t('label.reportList'),
          columns: [t.t('label.sender'), t.t('label.reportId'), t.t('label.range'), t.t('label.messages')],
          rows: domain.reports.map((report) => [
            report.orgName,
            report.reportId,
            `${t.dateTime(report.begin)} – ${t.dateTime(report.end)}`,
            t.number(report.messages),
          ]),
        },
        domain.topSources.length > 0 && {
          type: 'table',
          title: t.t('label.topSources'),
          columns: [t.t('label.ip'), t.t('label.sender'), t.t('label.messages'), t.t('label.pass'), t.t('label.fail')],
          rows: domain.topSources.map((s) => [
            s.ip,
            s.sender ?? t.t('none'),
            t.number(s.messages),
            t.number(s.dmarcPass),
            t.number(s.dmarcFail),
          ]),
        },
        domain.failingSources.length > 0 && {
          type: 'list',
          title: t.t('label.failingSources'),
          tone: 'warning',
          items: domain.failingSources.map(
            (s) =>
              `${t.t('digest.source', { source: sourceLabel(s.ip, s.sender), messages: s.messages, fail: s.dmarcFail })}${s.hint ? ` — ${t.hint(s.hint)}` : ''}`,
          ),
        },
      ),
    );
    const passRate = insight.messages > 0 ? insight.dmarcPass / insight.messages : 0;
    return {
      title: t.t('date.title', {
        date: t.day(date),
        reports: insight.reports,
        messages: insight.messages,
        passRate: t.percent(passRate),
      }),
      tone: insight.dmarcFail === 0 ? 'good' : passRate >= 0.95 ? 'info' : 'warning',
      blocks: perDomain,
      data: insight,
    };
  },
};
