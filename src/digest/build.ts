// The digest as a Reply: per policy domain, what the reports received in [since, until) say.
// The figures come from the insight layer (queryDigest); this module only words them.

import type { CommandContext } from '../command-kit/types.ts';
import { identifyFor } from '../context.ts';
import { dmarcRecordChanges, recordChangeBlocks } from '../dns-check/digest.ts';
import type { MessageKey } from '../i18n/index.ts';
import type { Translator } from '../i18n/index.ts';
import { blocks, moreText, recordRows, sourceLabel, translatorFor } from '../i18n/present.ts';
import { queryDigest } from '../insight/index.ts';
import type { DigestData, DigestDomain, DigestSource, ListTotal } from '../insight/types.ts';
import type { Reply, ReplyBlock, ReplyTone } from '../reply/model.ts';
import type { ReportStore } from '../store/types.ts';
import type { Logger } from '../log.ts';
import { digestChart, type DigestChartMode } from './chart.ts';

export interface DigestResult {
  reply: Reply;
  data: DigestData;
  /** reports of every kind received in the period */
  reportCount: number;
}

function rateText(t: Translator, rate: number | null): string {
  return rate === null ? t.t('none') : t.percent(rate);
}

function changeText(t: Translator, domain: DigestDomain): string {
  if (domain.passRateChange === null || domain.previousPassRate === null) return t.t('digest.change.none');
  const points = Math.round(domain.passRateChange * 1000) / 10;
  const sign = points > 0 ? '+' : points < 0 ? '−' : '±';
  return t.t('digest.change', {
    change: `${sign}${t.number(Math.abs(points))}`,
    previous: t.percent(domain.previousPassRate),
  });
}

function sourceLine(t: Translator, source: DigestSource): string {
  const line = t.t('digest.source', {
    source: sourceLabel(source.ip, source.sender),
    messages: source.messages,
    fail: source.dmarcFail,
  });
  const tagged = source.class ? `${line} [${t.t(`class.${source.class}` as MessageKey)}]` : line;
  return source.hint ? `${tagged} — ${t.hint(source.hint)}` : tagged;
}

/** The listed lines, then "and N more (M messages)" for what the list leaves out. */
function withRest(t: Translator, lines: string[], total: ListTotal, shownMessages: number): string[] {
  if (total.count <= lines.length) return lines;
  return [...lines, moreText(t, total.count - lines.length, total.messages - shownMessages)];
}

function domainTone(domain: DigestDomain): ReplyTone {
  if (domain.tls.failed > 0 || domain.failureReports > 0) return 'warning';
  if (domain.passRate !== null && domain.passRate < 0.9) return 'warning';
  return 'good';
}

function domainBlocks(t: Translator, domain: DigestDomain): ReplyBlock[] {
  const dispositions = recordRows(domain.dispositions)
    .map((row) => `${row.key} ${t.number(row.messages)}`)
    .join(', ');
  return blocks(
    { type: 'header', text: domain.domain },
    domain.messages > 0 && {
      type: 'fields',
      fields: [
        { label: t.t('label.messages'), value: t.number(domain.messages) },
        { label: t.t('label.passRate'), value: rateText(t, domain.passRate) },
        { label: t.t('label.change'), value: changeText(t, domain) },
        { label: t.t('label.spfAligned'), value: rateText(t, domain.spfAlignedRate) },
        { label: t.t('label.dkimAligned'), value: rateText(t, domain.dkimAlignedRate) },
        { label: t.t('label.dispositions'), value: dispositions || t.t('none') },
        {
          label: t.t('label.reporters'),
          value: domain.reporters.map((row) => `${row.key} (${t.number(row.messages)})`).join(', ') || t.t('none'),
        },
      ],
    },
    domain.newSources.length > 0 && {
      type: 'list',
      title: t.t('label.newSources'),
      items: withRest(
        t,
        domain.newSources.map((source) => sourceLine(t, source)),
        domain.newSourcesTotal,
        domain.newSources.reduce((sum, source) => sum + source.messages, 0),
      ),
    },
    domain.failingSources.length > 0 && {
      type: 'list',
      title: t.t('label.failingSources'),
      tone: 'warning',
      items: withRest(
        t,
        domain.failingSources.map((source) => sourceLine(t, source)),
        domain.failingSourcesTotal,
        domain.failingSources.reduce((sum, source) => sum + source.dmarcFail, 0),
      ),
    },
    (domain.failureReports > 0 || domain.tls.reports > 0) && {
      type: 'fields',
      fields: [
        ...(domain.failureReports > 0
          ? [{ label: t.t('label.failureReports'), value: t.number(domain.failureReports) }]
          : []),
        ...(domain.tls.reports > 0
          ? [
              {
                label: t.t('label.tls'),
                value: `${t.t('digest.tls', { reports: domain.tls.reports, successful: domain.tls.successful, failed: domain.tls.failed })}${
                  domain.tls.failureTypes.length
                    ? ` (${domain.tls.failureTypes.map((row) => `${row.key} ${t.number(row.messages)}`).join(', ')})`
                    : ''
                }`,
              },
            ]
          : []),
      ],
    },
    domain.spoofing &&
      domain.readiness && {
        type: 'text',
        text: `${t.t('label.spoofing')}: ${t.t(
          domain.spoofing.sources > 0 ? 'digest.spoofing' : 'digest.spoofing.none',
          {
            sources: domain.spoofing.sources,
            messages: domain.spoofing.messages,
            from: t.day(domain.readiness.window.from),
            to: t.day(domain.readiness.window.to),
          },
        )}`,
      },
    domain.readiness && {
      type: 'text',
      text: `${t.t('label.readiness')}: ${t.t('digest.readiness', {
        verdict: t.t(`verdict.${domain.readiness.verdict}` as MessageKey),
        nextStep: t.hint(domain.readiness.nextStep),
        from: t.day(domain.readiness.window.from),
        to: t.day(domain.readiness.window.to),
      })}`,
      tone: domain.readiness.verdict === 'not-ready' ? 'warning' : 'info',
    },
  );
}

/** Words a DigestData for people. */
export function digestReply(t: Translator, data: DigestData): Reply {
  const reportCount = data.received.aggregate + data.received.failure + data.received.tls;
  const period = t.t('digest.period', { since: t.dateTime(data.since), until: t.dateTime(data.until) });
  if (reportCount === 0) {
    return {
      title: t.t('digest.none.title'),
      tone: 'info',
      blocks: [
        {
          type: 'text',
          text: t.t('digest.none.text', { since: t.dateTime(data.since), until: t.dateTime(data.until) }),
        },
      ],
      data,
    };
  }
  const tones = data.domains.map(domainTone);
  // what needs a look first: domains with warnings, then the lowest pass rate (a long digest is
  // split over several messages; the first one should hold what matters)
  const bySeverity = [...data.domains].sort(
    (a, b) =>
      (domainTone(a) === 'warning' ? 0 : 1) - (domainTone(b) === 'warning' ? 0 : 1) ||
      (a.passRate ?? 2) - (b.passRate ?? 2) ||
      (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0),
  );
  return {
    title: t.t('digest.title', {
      reports: reportCount,
      aggregate: data.received.aggregate,
      failure: data.received.failure,
      tls: data.received.tls,
    }),
    tone: tones.includes('warning') ? 'warning' : 'good',
    blocks: [{ type: 'context', text: period }, ...bySeverity.flatMap((domain) => domainBlocks(t, domain))],
    data,
  };
}

export interface DigestOptions {
  /** the trend picture: 'png' for chat platforms (default), 'text' (sparklines) for the terminal */
  chart?: DigestChartMode;
  log?: Logger;
}

export async function buildDigest(
  store: ReportStore,
  context: CommandContext,
  period: { since: Date; until: Date },
  options: DigestOptions = {},
): Promise<DigestResult> {
  const data = await queryDigest(store, identifyFor(context), {
    since: period.since,
    until: period.until,
    now: context.now(),
    thresholds: context.thresholds,
  });
  const reply = digestReply(translatorFor(context), data);
  if (context.dns.records) {
    const changes = await dmarcRecordChanges(
      store,
      context.dns.records,
      data.domains.map((d) => d.domain),
      period.since,
      context.now(),
    );
    reply.blocks.push(...recordChangeBlocks(changes));
    if (changes.length > 0) reply.data = { ...data, dmarcRecordChanges: changes };
  }
  const withData = data.domains.filter((domain) => domain.messages > 0).map((domain) => domain.domain);
  const chart = await digestChart(store, context, withData, {
    mode: options.chart ?? 'png',
    ...(options.log ? { log: options.log } : {}),
  });
  if (chart.image) reply.image = chart.image;
  else if (chart.lines.length > 0)
    reply.blocks.push(
      { type: 'header', text: translatorFor(context).t('chart.trend', { days: context.thresholds.windowDays }) },
      { type: 'text', text: chart.lines.join('\n') },
    );
  return { reply, data, reportCount: data.received.aggregate + data.received.failure + data.received.tls };
}
