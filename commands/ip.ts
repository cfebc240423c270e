// `/dmarc ip <address> [days:N]`: what one source IP sent in the window, who it is, and a hint.

import { daysOption } from '../src/command-kit/common-options.ts';
import type { CommandDef } from '../src/command-kit/types.ts';
import { identifyFor } from '../src/context.ts';
import { en, type MessageKey } from '../src/i18n/en.ts';
import {
  blocks,
  countTable,
  countWithRate,
  hintText,
  passFail,
  recordRows,
  translatorFor,
  windowNote,
} from '../src/i18n/present.ts';
import { queryIp } from '../src/insight/index.ts';

export const DEFAULT_DAYS = 30;

export const ipCommand: CommandDef = {
  name: 'ip',
  description: en['command.ip'],
  options: [
    { name: 'address', description: en['option.address'], type: 'ip', required: true, positional: true },
    daysOption,
  ],
  examples: ['ip 203.0.113.5', 'ip 203.0.113.5 7', 'ip 2001:db8::25 days:90'],
  async handler(args, context) {
    const t = translatorFor(context);
    const ip = String(args.address);
    const days = typeof args.days === 'number' ? args.days : DEFAULT_DAYS;
    const insight = await queryIp(context.store, identifyFor(context), ip, {
      days,
      now: context.now(),
      thresholds: context.thresholds,
    });
    const network =
      insight.asn !== null
        ? t.t('ip.network', { asn: String(insight.asn), asName: insight.asName ?? '' }).trim()
        : t.t('none');
    const identity = [
      { label: t.t('label.sender'), value: insight.sender ?? t.t('none') },
      { label: t.t('label.ptr'), value: insight.ptr ?? t.t('none') },
      { label: t.t('label.network'), value: network },
      { label: t.t('label.country'), value: insight.country ?? t.t('none') },
    ];
    if (!insight.known) {
      // no reports, but who the address belongs to may still answer the question
      const anything = insight.sender !== null || insight.ptr !== null || insight.asn !== null;
      return {
        title: t.t('ip.unknown.title', { ip, days }),
        tone: 'info',
        blocks: blocks(
          { type: 'text', text: t.t('ip.unknown.text', { ip }) },
          anything && { type: 'fields', fields: identity },
          windowNote(t, insight.window),
        ),
        data: insight,
      };
    }
    const failing = insight.dmarcFail > 0;
    return {
      title: t.t('ip.title', { ip, messages: insight.messages, passRate: t.percent(insight.dmarcPassRate), days }),
      tone:
        insight.mark === 'spoof' || insight.class === 'spoofing'
          ? 'info'
          : failing
            ? insight.dmarcPass > 0
              ? 'warning'
              : 'bad'
            : 'good',
      blocks: blocks(
        {
          type: 'fields',
          fields: [
            ...identity,
            { label: t.t('label.firstSeen'), value: insight.firstSeen ? t.day(insight.firstSeen) : t.t('none') },
            { label: t.t('label.lastSeen'), value: insight.lastSeen ? t.day(insight.lastSeen) : t.t('none') },
            { label: t.t('label.messages'), value: t.number(insight.messages) },
            { label: t.t('label.dmarc'), value: passFail(t, insight.dmarcPass, insight.dmarcFail) },
            { label: t.t('label.spfAligned'), value: countWithRate(t, insight.spfAligned, insight.messages) },
            { label: t.t('label.dkimAligned'), value: countWithRate(t, insight.dkimAligned, insight.messages) },
            ...(insight.class ? [{ label: t.t('ip.class'), value: t.t(`class.${insight.class}` as MessageKey) }] : []),
            ...(insight.mark
              ? [{ label: t.t('label.mark'), value: t.t(insight.mark === 'mine' ? 'mark.mine' : 'mark.spoof') }]
              : []),
          ],
        },
        insight.hint && {
          type: 'text',
          text: hintText(t, insight.hint),
          tone: insight.class === 'spoofing' ? 'info' : 'warning',
        },
        countTable(t, t.t('label.domains'), t.t('label.domain'), insight.domainStats),
        countTable(t, t.t('label.headerFrom'), t.t('label.domain'), insight.headerFrom),
        countTable(t, t.t('label.reporters'), t.t('label.report'), insight.reporterStats),
        countTable(t, t.t('label.spfResults'), 'SPF', insight.spfResults),
        countTable(t, t.t('label.dkimResults'), 'DKIM', insight.dkimResults),
        countTable(t, t.t('label.dispositions'), t.t('label.dispositions'), recordRows(insight.dispositions)),
        countTable(t, t.t('label.reasons'), t.t('label.reasons'), recordRows(insight.reasons)),
        {
          type: 'table',
          title: t.t('label.perDay'),
          columns: [t.t('label.date'), t.t('label.messages'), t.t('label.pass'), t.t('label.fail')],
          rows: insight.days.map((day) => [
            t.day(day.date),
            t.number(day.messages),
            t.number(day.dmarcPass),
            t.number(day.messages - day.dmarcPass),
          ]),
        },
        windowNote(t, insight.window),
      ),
      data: insight,
    };
  },
};
