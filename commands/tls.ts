// `/dmarc tls [domain] [days]`: SMTP TLS reports (RFC 8460): sessions and failures per policy.

import { domainOption, daysOption } from '../src/command-kit/common-options.ts';
import type { CommandDef } from '../src/command-kit/types.ts';
import { en } from '../src/i18n/en.ts';
import { blocks, cutList, translatorFor, windowNote } from '../src/i18n/present.ts';
import { windowEnding } from '../src/insight/index.ts';
import { tlsInsight } from '../src/insight/reports.ts';

const ROWS = 20;

export const tlsCommand: CommandDef = {
  name: 'tls',
  description: en['command.tls'],
  options: [domainOption, daysOption],
  examples: ['tls', 'tls example.com 7', 'tls days:90'],
  async handler(args, context) {
    const t = translatorFor(context);
    const domain = typeof args.domain === 'string' ? args.domain : null;
    const days = typeof args.days === 'number' ? args.days : 30;
    const window = windowEnding(context.now(), days);
    const insight = tlsInsight(await context.store.tlsResults(domain, window.from, window.to), window);
    const forDomain = domain ? t.t('list.forDomain', { domain }) : '';
    if (insight.count === 0)
      return {
        title: t.t('tls.none', { days, forDomain }),
        tone: 'info',
        blocks: [windowNote(t, window)],
        data: insight,
      };
    const list = cutList(t, insight.policies, ROWS, (policy) => policy.successful + policy.failed);
    return {
      title: t.t('tls.title', { days, count: insight.count, successful: insight.successful, failed: insight.failed }),
      tone: insight.failed > 0 ? 'warning' : 'good',
      blocks: blocks(
        {
          type: 'table',
          columns: [
            t.t('label.domain'),
            t.t('label.policyDomain'),
            t.t('label.reports'),
            t.t('label.sessions'),
            t.t('label.failed'),
            t.t('label.failureTypes'),
          ],
          rows: [
            ...list.shown.map((policy) => [
              policy.domain,
              policy.type,
              t.number(policy.reports),
              t.number(policy.successful + policy.failed),
              t.number(policy.failed),
              policy.failureTypes.map((row) => `${row.key} ${t.number(row.messages)}`).join(', ') || t.t('none'),
            ]),
            ...(list.more ? [[list.more, '', '', '', '', '']] : []),
          ],
        },
        windowNote(t, window),
      ),
      data: insight,
    };
  },
};
