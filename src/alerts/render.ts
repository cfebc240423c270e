// An alert as a neutral Reply, so every platform renders it like any other answer.

import type { Reply } from '../reply/model.ts';
import type { AlertFinding } from './detect.ts';

export function alertReply(finding: AlertFinding): Reply {
  const what =
    finding.kind === 'new-failing-source'
      ? `${finding.ip} has never passed DMARC for ${finding.domain} and sent ${finding.failing} failing messages`
      : `Failing mail from ${finding.ip} for ${finding.domain} rose to ${finding.failing} messages (about ${formatNumber(finding.baselinePerDay)} a day in the week before)`;
  const advice =
    finding.mark === 'mine'
      ? 'You marked this source as yours: check its SPF and DKIM setup, its mail is failing.'
      : finding.class === 'spoofing'
        ? `It looks like spoofing (not a regular sender, nothing authenticates): p=quarantine or p=reject will stop it. If it is yours after all: /dmarc mark ${finding.ip} mine`
        : 'If this is a service you use, align its SPF or DKIM with your domain; if not, it is spoofing, and mark it with `/dmarc mark ' +
          finding.ip +
          ' spoof`.';
  return {
    title: `DMARC alert: ${what}`,
    tone: 'bad',
    blocks: [
      { type: 'header', text: finding.kind === 'new-failing-source' ? 'New failing source' : 'Failing mail is rising' },
      { type: 'text', text: what + '.', tone: 'bad' },
      {
        type: 'fields',
        fields: [
          { label: 'Source', value: finding.ip },
          { label: 'Class', value: finding.class },
          { label: 'Domain', value: finding.domain },
          { label: 'Failing', value: `${finding.failing} of ${finding.messages}` },
          { label: 'Reporter', value: finding.reporter },
          { label: 'Period', value: `${finding.begin} – ${finding.end}` },
          ...(finding.headerFrom.length > 0 ? [{ label: 'Header From', value: finding.headerFrom.join(', ') }] : []),
        ],
      },
      { type: 'text', text: advice },
      { type: 'context', text: `More: /dmarc ip ${finding.ip}` },
    ],
    data: { alert: finding },
    choices: [{ subject: finding.ip }],
  };
}

function formatNumber(value: number): string {
  return value >= 10 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
}

/**
 * What needs action first: one's own server failing, a legitimate sender failing, sources never
 * seen passing, rises; what looks like spoofing last (the policy is what handles it).
 */
function urgency(finding: AlertFinding): number {
  if (finding.mark === 'mine') return 0;
  if (finding.class === 'legitimate-failing') return 1;
  if (finding.class === 'spoofing') return 4;
  return finding.kind === 'new-failing-source' ? 2 : 3;
}

export function byUrgency(a: AlertFinding, b: AlertFinding): number {
  return urgency(a) - urgency(b) || b.failing - a.failing || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
}

function findingLine(finding: AlertFinding): string {
  const why =
    finding.mark === 'mine'
      ? 'yours, failing'
      : finding.kind === 'new-failing-source'
        ? 'never passed'
        : `rising (about ${formatNumber(finding.baselinePerDay)} a day before)`;
  const from = finding.headerFrom.length > 0 ? ` · From ${finding.headerFrom.join(', ')}` : '';
  return `${finding.ip}: ${finding.failing} of ${finding.messages} failing · ${finding.class} · ${why}${from}`;
}

/**
 * One alert for all findings of one report: the most urgent `top` sources, then how many more and
 * how much mail they carry, so a botnet report with hundreds of sources is one post, not hundreds.
 * A single finding keeps the detailed single-source layout.
 */
export function reportAlertReply(findings: readonly AlertFinding[], top = 10): Reply {
  const sorted = [...findings].sort(byUrgency);
  if (sorted.length === 1) return alertReply(sorted[0]!);
  const first = sorted[0]!;
  const shown = sorted.slice(0, Math.max(1, top));
  const rest = sorted.slice(shown.length);
  const failing = sorted.reduce((sum, f) => sum + f.failing, 0);
  const restMessages = rest.reduce((sum, f) => sum + f.failing, 0);
  const mine = sorted.filter((f) => f.mark === 'mine').length;
  const what = `${sorted.length} sources sent ${failing} failing messages for ${first.domain}`;
  const advice = [
    mine > 0 ? `${mine} of them you marked as yours: fix their SPF or DKIM first, their mail is failing.` : null,
    'For each source: if it is a service you use, align its SPF or DKIM with your domain; if not, it is spoofing: mark it with `/dmarc mark IP spoof`.',
    'Many unknown sources in one report usually mean a spoofing wave: your DMARC policy is what stops it.',
  ].filter((line): line is string => line !== null);
  return {
    title: `DMARC alert: ${what}`,
    tone: 'bad',
    blocks: [
      { type: 'header', text: 'Failing sources in a new report' },
      { type: 'text', text: what + '.', tone: 'bad' },
      {
        type: 'fields',
        fields: [
          { label: 'Domain', value: first.domain },
          { label: 'Reporter', value: first.reporter },
          { label: 'Period', value: `${first.begin} – ${first.end}` },
        ],
      },
      { type: 'list', title: 'Sources, most urgent first', items: shown.map(findingLine), tone: 'bad' },
      ...(rest.length > 0
        ? [{ type: 'text' as const, text: `and ${rest.length} more (${restMessages} messages)` }]
        : []),
      { type: 'text', text: advice.join('\n') },
      { type: 'context', text: `More: /dmarc ip ${first.ip} · /dmarc sources` },
    ],
    data: {
      alerts: shown,
      more: { sources: rest.length, messages: restMessages },
    },
    choices: shown.map((finding) => ({ subject: finding.ip })),
  };
}
