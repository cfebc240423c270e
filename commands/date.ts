// `/dmarc date <YYYY-MM-DD|today|yesterday>`: per policy domain, the reports covering one UTC day.

import type { CommandDef } from '../src/command-kit/types.ts';
import { identifyFor } from '../src/context.ts';
import { en, type MessageKey } from '../src/i18n/en.ts';
import { blocks, moreText, sourceLabel, translatorFor } from '../src/i18n/present.ts';
import { addDays, queryDate, utcDay } from '../src/insight/index.ts';
import type { ReportStore } from '../src/store/types.ts';

/** How far back `today` / `yesterday` look for the latest day with reports. */
const LOOKBACK_DAYS = 7;

async function latestDayWithReports(store: ReportStore, from: string, to: string): Promise<string | null> {
  let latest: string | null = null;
  for (const day of await store.summaries(null, from, to))
    if (day.reports.length > 0 && (latest === null || day.date > latest)) latest = day.date;
  return latest;
}
import type { ReplyBlock } from '../src/reply/model.ts';

export const dateCommand: CommandDef = {
  name: 'date',
  description: en['command.date'],
  options: [{ name: 'date', description: en['option.date'], type: 'date', required: true, positional: true }],
  examples: ['date 2026-05-14', 'date yesterday'],
  async handler(args, context) {
    const t = translatorFor(context);
    // The parser resolves today / yesterday as UTC days (what the store keys).
    const asked = String(args.date);
    const today = utcDay(context.now());
    const relative = asked === today || asked === addDays(today, -1);
    if (asked > today) {
      return {
        title: t.t('date.future.title', { date: t.day(asked) }),
        tone: 'warning',
        blocks: [{ type: 'text', text: t.t('date.future.text', { date: t.day(asked), today: t.day(today) }) }],
        data: { date: asked, future: true, today },
      };
    }
    let date = asked;
    let insight = await queryDate(context.store, date, identifyFor(context), {
      thresholds: context.thresholds,
      now: context.now(),
    });
    let fellBack = false;
    if (insight.reports === 0 && relative) {
      // Reports for a day arrive a day or two later: answer the latest UTC day that has some.
      const latest = await latestDayWithReports(context.store, addDays(asked, -LOOKBACK_DAYS), asked);
      if (latest) {
        date = latest;
        fellBack = true;
        insight = await queryDate(context.store, date, identifyFor(context), {
          thresholds: context.thresholds,
          now: context.now(),
        });
      }
    }
    if (insight.reports === 0) {
      return {
        title: t.t('date.none.title', { date: t.day(date) }),
        tone: 'info',
        blocks: [{ type: 'text', text: t.t('date.none.text', { date: t.day(date) }) }],
        data: insight,
      };
    }
    const notes: ReplyBlock[] = relative
      ? [
          ...(fellBack
            ? [{ type: 'text' as const, text: t.t('date.latest', { asked: t.day(asked), date: t.day(date) }) }]
            : []),
          { type: 'context', text: t.t('date.utc', { date: t.day(date) }) },
        ]
      : [];
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
          rows: [
            ...domain.topSources.map((s) => [
              s.ip,
              s.sender ?? t.t('none'),
              t.number(s.messages),
              t.number(s.dmarcPass),
              t.number(s.dmarcFail),
            ]),
            ...(domain.topSourcesTotal.count > domain.topSources.length
              ? [
                  [
                    moreText(
                      t,
                      domain.topSourcesTotal.count - domain.topSources.length,
                      domain.topSourcesTotal.messages - domain.topSources.reduce((sum, s) => sum + s.messages, 0),
                    ),
                    '',
                    '',
                    '',
                    '',
                  ],
                ]
              : []),
          ],
        },
        domain.failingSources.length > 0 && {
          type: 'list',
          title: t.t('label.failingSources'),
          tone: 'warning',
          items: [
            ...domain.failingSources.map(
              (s) =>
                `${t.t('digest.source', { source: sourceLabel(s.ip, s.sender), messages: s.messages, fail: s.dmarcFail })}${s.class ? ` [${t.t(`class.${s.class}` as MessageKey)}]` : ''}${s.hint ? ` — ${t.hint(s.hint)}` : ''}`,
            ),
            ...(domain.failingSourcesTotal.count > domain.failingSources.length
              ? [
                  moreText(
                    t,
                    domain.failingSourcesTotal.count - domain.failingSources.length,
                    domain.failingSourcesTotal.messages -
                      domain.failingSources.reduce((sum, s) => sum + s.dmarcFail, 0),
                  ),
                ]
              : []),
          ],
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
      blocks: [...perDomain, ...notes],
      data: insight,
    };
  },
};
