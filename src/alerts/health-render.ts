// The health alerts as neutral Replies: what happened, then what to do about it.

import type { Reply } from '../reply/model.ts';
import type { HealthFinding } from './health.ts';

const percent = (value: number) => `${(value * 100).toFixed(1).replace(/\.0$/, '')} %`;

export function healthReply(finding: HealthFinding): Reply {
  switch (finding.kind) {
    case 'pass-rate-drop': {
      const what = `DMARC pass rate for ${finding.domain} fell to ${percent(finding.rate)} on ${finding.day} (${percent(finding.baselineRate)} in the week before)`;
      return {
        title: `DMARC alert: ${what}`,
        tone: 'bad',
        blocks: [
          { type: 'header', text: 'Pass rate dropped' },
          { type: 'text', text: `${what}: ${finding.failing} of ${finding.messages} messages failed.`, tone: 'bad' },
          {
            type: 'text',
            text:
              `What to do: look at \`/dmarc date ${finding.day}\` for the sources that fail. A sender of yours now failing ` +
              'means its SPF or DKIM broke (a rotated key, a changed include, a new mail service): fix its setup. ' +
              'Many unknown sources mean a spoofing wave: mark them spoof; your policy is what stops them.',
          },
          { type: 'context', text: `More: /dmarc date ${finding.day} · /dmarc sources` },
        ],
        data: { health: finding },
      };
    }
    case 'sender-quiet': {
      const what = `${finding.sender} sent mail for ${finding.domain} on ${finding.daysSeen} of ${finding.windowDays} days and nothing since ${finding.lastSeen}`;
      return {
        title: `DMARC alert: a regular sender went quiet: ${what}`,
        tone: 'warning',
        blocks: [
          { type: 'header', text: 'A regular sender went quiet' },
          { type: 'text', text: what + '.', tone: 'warning' },
          ...(finding.ips.length > 0
            ? [{ type: 'fields' as const, fields: [{ label: 'Seen from', value: finding.ips.join(', ') }] }]
            : []),
          {
            type: 'text',
            text:
              'What to do: if you moved this mail to another service on purpose, nothing. Otherwise check that the service ' +
              'still sends (its queue, its account, its billing) and still signs with this key: a rotated DKIM selector ' +
              'shows up as a new source, one that is not aligned as a failing one.',
          },
          { type: 'context', text: `More: /dmarc sources · /dmarc ip ${finding.ips[0] ?? ''}`.trim() },
        ],
        data: { health: finding },
      };
    }
    case 'no-reports': {
      const since =
        finding.lastDay === null ? 'in the days looked at' : `since ${finding.lastDay} (${finding.daysSince} days)`;
      const what = `No DMARC reports for ${finding.domain} ${since}`;
      return {
        title: `DMARC alert: ${what}`,
        tone: 'warning',
        blocks: [
          { type: 'header', text: 'Reports stopped arriving' },
          { type: 'text', text: what + '.', tone: 'warning' },
          {
            type: 'text',
            text:
              `What to do: check the rua= tag of _dmarc.${finding.domain} (\`/dmarc dns ${finding.domain}\`), that the report ` +
              'mailbox still receives mail (quota, forwarding, spam filter), and the mailbox connection (`dmarc-bot doctor`). ' +
              'A domain that no longer sends mail gets no reports: then there is nothing to do.',
          },
        ],
        data: { health: finding },
      };
    }
  }
}
