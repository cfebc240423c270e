// `/dmarc mark <ip or sender> mine|spoof|clear`: the owner's decision about a source, stored with
// who made it and when; `ready`, the digest and alerts read it.

import type { CommandContext, CommandDef } from '../src/commands/types.ts';
import { identifyFor } from '../src/context.ts';
import { querySources, windowEnding } from '../src/insight/index.ts';
import { normaliseIp } from '../src/commands/parse.ts';
import { en } from '../src/i18n/en.ts';
import { translatorFor } from '../src/i18n/present.ts';
import type { Mark, MarkVerdict } from '../src/store/types.ts';

const LOOKBACK_DAYS = 90;

/** The longest subject accepted: an IPv6 address or a sender name fits easily. */
export const SUBJECT_MAX = 200;

interface SeenSource {
  messages: number;
  dmarcPass: number;
  /** the recognised service it belongs to, when any */
  service: string | null;
  aligned: boolean;
  share: number;
}

/**
 * What recent reports say about an IP or a sender name (as ready/sources show it): null when it
 * does not appear (a typo), else its figures, to ask for `force` before a mark that overrides a
 * recognised service or an aligned source.
 */
async function seenRecently(subject: string, context: CommandContext): Promise<SeenSource | null> {
  const now = context.now();
  const alignedRate = context.thresholds.alignedPassRate;
  const recent = await querySources(context.store, identifyFor(context), LOOKBACK_DAYS, now, {
    limit: Number.MAX_SAFE_INTEGER,
    thresholds: context.thresholds,
  });
  if (normaliseIp(subject)) {
    const window = windowEnding(now, LOOKBACK_DAYS);
    const entries = await context.store.ipEntries(subject, window.from, window.to);
    if (entries.length === 0) return null;
    const messages = entries.reduce((sum, entry) => sum + entry.messages, 0);
    const dmarcPass = entries.reduce((sum, entry) => sum + entry.dmarcPass, 0);
    const group = recent.sources.find((source) => source.ips.includes(subject));
    return {
      messages,
      dmarcPass,
      service: group?.by === 'known' ? group.sender : null,
      aligned: messages > 0 && dmarcPass / messages >= alignedRate,
      share: recent.messages > 0 ? messages / recent.messages : 0,
    };
  }
  const lower = subject.toLowerCase();
  const source = recent.sources.find((s) => s.key.toLowerCase() === lower || s.sender.toLowerCase() === lower);
  if (!source) return null;
  return {
    messages: source.messages,
    dmarcPass: source.dmarcPass,
    service: source.by === 'known' ? source.sender : null,
    aligned: source.class === 'aligned',
    share: source.share,
  };
}

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
    const subject = normaliseIp(given) ?? given;
    const verdict = String(args.verdict);
    if ([...subject].length > SUBJECT_MAX) {
      return {
        title: t.t('reply.usage.title'),
        tone: 'warning',
        error: true,
        blocks: [
          {
            type: 'text',
            text: t.t('mark.tooLong', { max: SUBJECT_MAX, length: [...subject].length }),
            tone: 'warning',
          },
        ],
        data: { error: { code: 'invalid', option: 'subject', max: SUBJECT_MAX } },
      };
    }
    if (verdict === 'clear') {
      const existing = Object.values(await context.store.marks()).find(
        (mark) => mark.subject.toLowerCase() === subject.toLowerCase(),
      );
      await context.store.clearMark(existing?.subject ?? subject);
      return {
        title: t.t('mark.cleared.title', { subject }),
        tone: 'info',
        blocks: existing ? [] : [{ type: 'text', text: t.t('mark.cleared.none', { subject }) }],
        data: { subject, verdict: null, cleared: existing ?? null },
      };
    }
    const verdictText = t.t(verdict === 'mine' ? 'mark.mine' : 'mark.spoof');
    const seen = await seenRecently(subject, context);
    // A mark overrides what the reports show: ask before it reclassifies a recognised service or
    // a source that passes (e.g. `mark Mailchimp spoof` would call half the mail spoofed).
    if (seen && (seen.service || seen.aligned) && args.force !== 'yes') {
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
        data: { subject, verdict, stored: false, needsForce: true, reason: seen.service ? 'service' : 'aligned' },
      };
    }
    const requester = context.requester;
    const by = `${requester.platform}:${requester.userName ?? requester.userId}`;
    const mark: Mark = { subject, verdict: verdict as MarkVerdict, by, at: context.now().toISOString() };
    await context.store.setMark(mark);
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
                text: t.t('mark.unseen', { subject, days: LOOKBACK_DAYS }),
                tone: 'warning' as const,
              },
            ]),
      ],
      data: mark,
    };
  },
};
