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

/** Whether an IP or a sender name (as ready/sources show it) appears in recent reports: catches typos. */
async function seenRecently(subject: string, context: CommandContext): Promise<boolean> {
  const now = context.now();
  if (normaliseIp(subject)) {
    const window = windowEnding(now, LOOKBACK_DAYS);
    return (await context.store.ipEntries(subject, window.from, window.to)).length > 0;
  }
  const lower = subject.toLowerCase();
  const recent = await querySources(context.store, identifyFor(context), LOOKBACK_DAYS, now, {
    limit: Number.MAX_SAFE_INTEGER,
  });
  return recent.sources.some((source) => source.key.toLowerCase() === lower || source.sender.toLowerCase() === lower);
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
  ],
  examples: ['mark 203.0.113.5 mine', 'mark "mail.isp.example" spoof', 'mark 203.0.113.5 clear'],
  async handler(args, context) {
    const t = translatorFor(context);
    const given = String(args.subject).trim();
    const subject = normaliseIp(given) ?? given;
    const verdict = String(args.verdict);
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
    const requester = context.requester;
    const by = `${requester.platform}:${requester.userName ?? requester.userId}`;
    const mark: Mark = { subject, verdict: verdict as MarkVerdict, by, at: context.now().toISOString() };
    await context.store.setMark(mark);
    const verdictText = t.t(verdict === 'mine' ? 'mark.mine' : 'mark.spoof');
    const seen = await seenRecently(subject, context);
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
