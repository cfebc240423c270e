// `/dmarc dns [domain]`: what the domain publishes in DNS, checked live (DMARC, rua authorisation,
// SPF and its lookups, SPF for the legitimate senders, DKIM keys of the selectors seen, MX,
// MTA-STS, TLS-RPT). data: a DnsReport when a domain is named, else an array of them.

import type { CommandDef } from '../src/command-kit/types.ts';
import { dnsReply } from '../src/dns-check/present.ts';
import { queryDns } from '../src/dns-check/query.ts';
import { en } from '../src/i18n/en.ts';

const MAX_DOMAINS = 5;

export const dnsCommand: CommandDef = {
  name: 'dns',
  description: en['command.dns'],
  options: [
    { name: 'domain', description: en['option.domain'], type: 'domain', positional: true },
    { name: 'days', description: en['option.days'], type: 'integer', min: 1, max: 3650 },
  ],
  examples: ['dns example.com', 'dns example.com days:60', 'dns'],
  async handler(args, rawContext) {
    // the window decides which senders and DKIM selectors of the reports are checked
    const context =
      typeof args.days === 'number'
        ? { ...rawContext, thresholds: { ...rawContext.thresholds, windowDays: args.days } }
        : rawContext;
    if (typeof args.domain === 'string') return dnsReply(await queryDns(context, args.domain.toLowerCase()));
    const domains = (await context.store.domains()).slice(0, MAX_DOMAINS);
    if (domains.length === 0)
      return {
        title: 'No domain to check',
        tone: 'info',
        blocks: [{ type: 'text', text: 'Name one: /dmarc dns example.com' }],
        data: [],
      };
    const reports = await Promise.all(domains.map((domain) => queryDns(context, domain)));
    const replies = reports.map(dnsReply);
    return {
      title: replies.map((reply) => reply.title).join(' · '),
      tone: replies.some((r) => r.tone === 'bad')
        ? 'bad'
        : replies.some((r) => r.tone === 'warning')
          ? 'warning'
          : 'info',
      blocks: replies.flatMap((reply, index) => [
        ...(index > 0 ? [{ type: 'divider' } as const] : []),
        { type: 'header' as const, text: reply.title },
        ...reply.blocks,
      ]),
      data: reports,
    };
  },
};
