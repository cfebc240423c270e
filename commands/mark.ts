// `/dmarc mark <ip or sender> mine|spoof|clear`: the owner's decision about a source, stored with
// who made it and when; `ready`, the digest and alerts read it.

import type { CommandDef } from '../src/command-kit/types.ts';
import { identifyFor } from '../src/context.ts';
import { MARK_LOOKBACK_DAYS, MARK_SUBJECT_MAX, clearMark, setMark, type MarkSubject } from '../src/insight/index.ts';
import { normaliseIp } from '../src/command-kit/parse.ts';
import { en } from '../src/i18n/en.ts';
import { translatorFor } from '../src/i18n/present.ts';
import type { MarkVerdict } from '../src/store/types.ts';

export const markCommand: CommandDef = {
  name: 'mark',
  description: en['command.mark'],
  options: [
    { name: 'subject', description: en['option.subject'], type: 'string', required: true, positional: true },
    {
      name: 'verdict',
      description: en['option.verdict'],
      type: 'choice',
      choices: ['mine', 'spoof', 'clear'],
      required: true,
      positional: true,
    },
    { name: 'force', description: en['option.force'], type: 'choice', choices: ['yes'] },
  ],
  examples: [
    'mark 203.0.113.5 mine',
    'mark "mail.isp.example" spoof',
    'mark Mailchimp spoof force:yes',
    'mark 203.0.113.5 clear',
  ],
  async handler(args, context) {
    const t = translatorFor(context);
    const given = String(args.subject).trim();
    const ip = normaliseIp(given);
    const target: MarkSubject = { text: ip ?? given, isIp: ip !== null };
    const subject = target.text;
    const verdict = String(args.verdict);
    if ([...subject].length > MARK_SUBJECT_MAX) {
      return {
        title: t.t('reply.usage.title'),
        tone: 'warning',
        error: true,
        blocks: [
          {
            type: 'text',
            text: t.t('mark.tooLong', { max: MARK_SUBJECT_MAX, length: [...subject].length }),
            tone: 'warning',
          },
        ],
        data: { error: { code: 'invalid', option: 'subject', max: MARK_SUBJECT_MAX } },
      };
    }
    if (verdict === 'clear') {
      const { cleared } = await clearMark(context.store, target);
      return {
        title: t.t('mark.cleared.title', { subject }),
        tone: 'info',
        blocks: cleared ? [] : [{ type: 'text', text: t.t('mark.cleared.none', { subject }) }],
        data: { subject, verdict: null, cleared },
      };
    }
    const verdictText = t.t(verdict === 'mine' ? 'mark.mine' : 'mark.spoof');
    const requester = context.requester;
    const by = `${requester.platform}:${requester.userName ?? requester.userId}`;
    const outcome = await setMark(context.store, identifyFor(context), {
      subject: target,
      verdict: verdict as MarkVerdict,
      by,
      now: context.now(),
      force: args.force === 'yes',
      thresholds: context.thresholds,
    });
    if (outcome.kind === 'needs-force') {
      const { seen } = outcome;
      return {
        title: t.t('reply.usage.title'),
        tone: 'warning',
        blocks: [
          {
            type: 'text',
            tone: 'warning',
            text: seen.service
              ? t.t('mark.needsForce.service', {
                  subject,
                  service: seen.service,
                  verdict,
                  messages: seen.messages,
                  share: t.percent(seen.share),
                })
              : t.t('mark.needsForce.aligned', {
                  subject,
                  verdict,
                  messages: seen.messages,
                  passRate: t.percent(seen.messages > 0 ? seen.dmarcPass / seen.messages : 0),
                }),
          },
        ],
        data: { subject, verdict, stored: false, needsForce: true, reason: outcome.reason },
      };
    }
    const { mark, seen } = outcome;
    return {
      title: t.t('mark.set.title', { subject, verdict: verdictText }),
      tone: seen ? 'good' : 'warning',
      blocks: [
        { type: 'text', text: t.t('mark.set.text', { by, at: t.dateTime(mark.at), verdict: verdictText }) },
        ...(seen
          ? []
          : [
              {
                type: 'text' as const,
                text: t.t('mark.unseen', { subject, days: MARK_LOOKBACK_DAYS }),
                tone: 'warning' as const,
              },
            ]),
      ],
      data: mark,
    };
  },
};
