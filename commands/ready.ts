// `/dmarc ready [domain] [days:N]`: is the domain ready to enforce, what blocks it, what to do next.
// data: the Readiness object when a domain is named, else the array of every domain's Readiness.

import { domainOption, daysOption } from '../src/command-kit/common-options.ts';
import type { CommandDef } from '../src/command-kit/types.ts';
import { identifyFor } from '../src/context.ts';
import { en, type MessageKey } from '../src/i18n/en.ts';
import type { Translator } from '../src/i18n/index.ts';
import { blocks, moreText, translatorFor, windowNote } from '../src/i18n/present.ts';
import { readinessDnsBlocks } from '../src/dns-check/present.ts';
import { readyWithDns } from '../src/dns-check/query.ts';
import { queryReady } from '../src/insight/index.ts';
import { sourceList } from '../src/insight/readiness.ts';
import type { Readiness, ReadinessBlocker, ReadinessCheck, ReportedPolicy } from '../src/insight/types.ts';
import type { ReplyBlock, ReplyTone } from '../src/reply/model.ts';

const RATE_CHECKS = new Set(['pass-rate-quarantine', 'pass-rate-reject', 'legit-failing']);

function checkText(t: Translator, check: ReadinessCheck): string {
  const key = `check.${check.id}` as MessageKey;
  const format = (value: number | undefined) =>
    value === undefined ? '' : RATE_CHECKS.has(check.id) ? t.percent(value) : t.number(value);
  const text =
    key in en
      ? t.t(key, { value: format(check.value), threshold: format(check.threshold) })
      : t.t('check.other', { id: check.id, detail: check.detail });
  return `${check.ok ? '✓' : '✗'} ${text}`;
}

export function policyText(policy: ReportedPolicy): string {
  const tags = [`p=${policy.p ?? '?'}`];
  if (policy.sp) tags.push(`sp=${policy.sp}`);
  if (policy.np) tags.push(`np=${policy.np}`);
  if (policy.pct !== null && policy.pct !== 100) tags.push(`pct=${policy.pct}`);
  if (policy.testing === 'y') tags.push('t=y');
  if (policy.adkim) tags.push(`adkim=${policy.adkim}`);
  if (policy.aspf) tags.push(`aspf=${policy.aspf}`);
  return tags.join('; ');
}

export function verdictTone(verdict: Readiness['verdict']): ReplyTone {
  return verdict === 'not-ready' ? 'warning' : verdict === 'insufficient-data' ? 'info' : 'good';
}

const SOURCE_ROWS = 15;

function readinessBlocks(t: Translator, result: Readiness, withHeader: boolean): ReplyBlock[] {
  const f = result.figures;
  // the first rows and the count, without building the list of every sender group
  const list = sourceList(result);
  const shown = list.first(SOURCE_ROWS);
  const more =
    list.count > shown.length
      ? moreText(t, list.count - shown.length, list.messages() - shown.reduce((sum, s) => sum + s.messages, 0))
      : null;
  const age = result.policyAge;
  const blockerText = (b: ReadinessBlocker) =>
    t
      .t(
        b.blocks === 'reject'
          ? 'ready.blocker.reject'
          : b.class === 'unconfirmed'
            ? 'ready.blocker.unconfirmed'
            : 'ready.blocker',
        {
          sender: b.sender,
          class: t.t(`class.${b.class}` as MessageKey),
          failing: b.failing,
          messages: b.messages,
          hint: b.hint ? t.hint(b.hint) : '',
        },
      )
      .trim();
  return blocks(
    withHeader && {
      type: 'header',
      text: t.t('ready.title.one', { domain: result.domain, verdict: t.t(`verdict.${result.verdict}` as MessageKey) }),
    },
    { type: 'text', text: `${t.t('label.nextStep')}: ${t.hint(result.nextStep)}`, tone: verdictTone(result.verdict) },
    result.whyNotReject &&
      result.nextStep.code !== result.whyNotReject.code && {
        type: 'text',
        text: `${t.t('label.whyNotReject')}: ${t.hint(result.whyNotReject)}`,
      },
    { type: 'list', title: t.t('label.checks'), items: result.checks.map((check) => checkText(t, check)) },
    result.blockers.length > 0 && {
      type: 'list',
      title: t.t('label.blockers'),
      tone: 'warning',
      items: result.blockers.map(blockerText),
    },
    list.count > 0 && {
      type: 'table',
      title: t.t('label.sources'),
      columns: [
        t.t('label.sender'),
        t.t('label.class'),
        t.t('label.messages'),
        t.t('label.passRate'),
        t.t('label.days'),
      ],
      rows: [
        ...shown.map((s) => [
          s.mark ? `${s.sender} (${t.t(s.mark === 'mine' ? 'mark.mine' : 'mark.spoof')})` : s.sender,
          t.t(`class.${s.class}` as MessageKey),
          t.number(s.messages),
          t.percent(s.passRate),
          t.number(s.activeDays),
        ]),
        ...(more ? [[more, '', '', '', '']] : []),
      ],
    },
    list.count > 0 && {
      type: 'context',
      text: t.t('ready.sourcesTotal', {
        count: list.count,
        messages: f.messages,
        spoofing: f.spoofingMessages,
      }),
    },
    {
      type: 'text',
      text: t.t('ready.figures', {
        considered: f.consideredMessages,
        spoofing: f.spoofingMessages,
        forwarded: f.forwardedMessages,
        lists: f.mailingListMessages,
        passRate: t.percent(f.passRate),
      }),
    },
    {
      type: 'context',
      text: result.policy ? t.t('ready.policy', { policy: policyText(result.policy) }) : t.t('ready.policy.unknown'),
    },
    age &&
      result.policy && {
        type: 'context',
        text: t.t(age.atLeast ? 'ready.policyAge.atLeast' : 'ready.policyAge', {
          p: result.policy.p ?? '?',
          since: t.day(age.since),
          days: age.days,
        }),
      },
    windowNote(t, result.window),
    ...readinessDnsBlocks(result),
  );
}

export const readyCommand: CommandDef = {
  name: 'ready',
  description: en['command.ready'],
  options: [domainOption, daysOption],
  examples: ['ready example.com', 'ready example.com days:60', 'ready 60', 'ready'],
  async handler(args, context) {
    const t = translatorFor(context);
    const domain = typeof args.domain === 'string' ? args.domain : null;
    const thresholds =
      typeof args.days === 'number' ? { ...context.thresholds, windowDays: args.days } : context.thresholds;
    const results = await readyWithDns(
      context,
      await queryReady(context.store, identifyFor(context), domain, thresholds, context.now()),
    );
    const withData = results.filter((result) => result.figures.messages > 0 || result.policy !== null);
    if (withData.length === 0) {
      return {
        title: t.t('ready.none.title'),
        tone: 'info',
        blocks: [
          {
            type: 'text',
            text: t.t('ready.none.text', {
              days: thresholds.windowDays,
              forDomain: domain ? t.t('ready.none.forDomain', { domain }) : '',
            }),
          },
        ],
        data: domain ? (results[0] ?? null) : results,
      };
    }
    // One domain (named, or the only one with data): its readiness in full.
    const single = domain ? results[0] : withData.length === 1 ? withData[0] : undefined;
    if (single) {
      const result = single;
      return {
        title: t.t('ready.title.one', {
          domain: result.domain,
          verdict: t.t(`verdict.${result.verdict}` as MessageKey),
        }),
        tone: verdictTone(result.verdict),
        blocks: readinessBlocks(t, result, false),
        data: domain ? result : results,
        choices: result.blockers.map((blocker) => ({ subject: blocker.sender })),
      };
    }
    const tones = withData.map((result) => verdictTone(result.verdict));
    return {
      title: t.t('ready.title.many', { count: withData.length }),
      tone: tones.includes('warning') ? 'warning' : tones.includes('info') ? 'info' : 'good',
      blocks: withData.flatMap((result, index) => [
        ...(index > 0 ? [{ type: 'divider' } as const] : []),
        ...readinessBlocks(t, result, true),
      ]),
      data: results,
      choices: withData.flatMap((result) => result.blockers.map((blocker) => ({ subject: blocker.sender }))),
    };
  },
};
