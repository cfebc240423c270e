// The DNS checks in the neutral reply model: plain words, rendered alike on Slack, Discord and the
// terminal. The check texts come from the checks themselves (English).

import type { Reply, ReplyBlock, ReplyTone } from '../reply/model.ts';
import type { ReadinessWithDns } from './readiness.ts';
import type { DnsCheck, DnsReport } from './types.ts';

const LABEL: Record<DnsCheck['id'], string> = {
  'dmarc-record': 'DMARC record',
  'dmarc-testing': 'DMARC testing mode',
  rua: 'Report destinations (rua)',
  'spf-record': 'SPF record',
  'spf-lookups': 'SPF lookups',
  'spf-senders': 'SPF and the legitimate senders',
  'dkim-selectors': 'DKIM keys',
  mx: 'MX',
  'mta-sts': 'MTA-STS',
  'tls-rpt': 'TLS-RPT',
};

function mark(check: DnsCheck): string {
  if (check.ok) return '✓';
  if (!check.checked) return '?';
  return check.severity === 'error' ? '✗' : check.severity === 'warning' ? '!' : '·';
}

export function checkLine(check: DnsCheck): string {
  return `${mark(check)} ${LABEL[check.id]}: ${check.detail}`;
}

export function dnsTone(checks: readonly DnsCheck[]): ReplyTone {
  if (checks.some((check) => !check.ok && check.checked && check.severity === 'error')) return 'bad';
  if (checks.some((check) => !check.ok && check.checked && check.severity === 'warning')) return 'warning';
  if (checks.some((check) => !check.checked)) return 'info';
  return 'good';
}

export function dnsReply(report: DnsReport): Reply {
  const errors = report.checks.filter((check) => !check.ok && check.checked && check.severity === 'error').length;
  const warnings = report.checks.filter((check) => !check.ok && check.checked && check.severity === 'warning').length;
  const unchecked = report.checks.filter((check) => !check.checked).length;
  const summary = [
    errors > 0 && (errors === 1 ? '1 problem that blocks enforcement' : `${errors} problems that block enforcement`),
    warnings > 0 && `${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`,
    unchecked > 0 && `${unchecked} not checked (DNS did not answer)`,
  ].filter(Boolean);
  const fixes = report.checks
    .filter((check) => !check.ok && check.fix)
    .map((check) => `${LABEL[check.id]}: ${check.fix}`);
  const blocks: ReplyBlock[] = [
    { type: 'list', title: 'Checks', items: report.checks.map(checkLine) },
    ...(fixes.length > 0 ? [{ type: 'list' as const, title: 'To do', items: fixes, tone: 'warning' as const }] : []),
    { type: 'context', text: 'Checked live in DNS now; answers are cached for their TTL.' },
  ];
  return {
    title: `DNS of ${report.domain}: ${summary.length > 0 ? summary.join(', ') : 'no problem found'}`,
    tone: dnsTone(report.checks),
    blocks,
    data: report,
  };
}

/** What `ready` adds: the published policy next to the reported one, and the record to publish next. */
export function readinessDnsBlocks(result: ReadinessWithDns | object): ReplyBlock[] {
  if (!('dns' in result)) return [];
  const { published, nextRecord, checks } = result.dns;
  const blocks: ReplyBlock[] = [];
  if (published) {
    blocks.push({ type: 'context', text: `Published in DNS now (${published.name}): ${published.record}` });
    if (published.differences.length > 0)
      blocks.push({
        type: 'text',
        tone: 'warning',
        text: `DNS and the reports differ (${published.differences.join('; ')}): the record was changed after the last reports, or receivers still use an older one.`,
      });
  }
  const fixes = checks.filter((check) => !check.ok && check.checked && check.severity === 'error' && check.fix);
  if (fixes.length > 0)
    blocks.push({
      type: 'list',
      title: 'DNS fixes',
      tone: 'warning',
      items: fixes.map((check) => `${LABEL[check.id]}: ${check.fix}`),
    });
  if (nextRecord)
    blocks.push({ type: 'text', text: `Record to publish: TXT ${nextRecord.name} "${nextRecord.record}"` });
  return blocks;
}
