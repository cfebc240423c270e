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
  };
}

function formatNumber(value: number): string {
  return value >= 10 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
}
