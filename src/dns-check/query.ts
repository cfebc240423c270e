// The command layer's side of the DNS checks: reads what the store knows about a domain (legitimate
// senders from `ready`, the DKIM selectors seen signing), asks the injected resolver, and applies
// the outcome to readiness.

import type { CommandContext } from '../command-kit/types.ts';
import { identifyFor } from '../context.ts';
import { queryReady, windowEnding } from '../insight/index.ts';
import type { Readiness } from '../insight/types.ts';
import { offlineRecords } from '../net/dns-records.ts';
import { checkDomainDns } from './index.ts';
import { applyDnsChecks, legitimateSenders, selectorsSeen, type ReadinessWithDns } from './readiness.ts';
import type { DnsReport } from './types.ts';

type DnsContext = Pick<CommandContext, 'store' | 'dns' | 'now' | 'thresholds'>;

/** Domains whose records are checked by one `ready` without a domain. */
const MAX_DOMAINS = 10;

export async function domainDnsReport(
  context: DnsContext,
  domain: string,
  readiness: Readiness | null,
): Promise<DnsReport> {
  const window = readiness?.window ?? windowEnding(context.now(), context.thresholds.windowDays);
  const days = await context.store.summaries(domain, window.from, window.to);
  return checkDomainDns({
    domain,
    resolver: context.dns.records ?? offlineRecords,
    selectors: selectorsSeen(days, domain),
    senders: readiness ? legitimateSenders(readiness) : [],
    fetchText: context.dns.fetchText,
    httpTimeoutMs: Math.max(1000, context.dns.timeoutMs * 2),
  });
}

/** `dns DOMAIN`: the domain's readiness (offline identification) gives the senders to evaluate SPF for. */
export async function queryDns(context: CommandContext, domain: string): Promise<DnsReport> {
  const [readiness] = await queryReady(context.store, identifyFor(context), domain, context.thresholds, context.now());
  return domainDnsReport(context, domain, readiness && readiness.figures.messages > 0 ? readiness : null);
}

/** Each Readiness with its domain's published records checked and applied. */
export async function readyWithDns(
  context: DnsContext,
  results: readonly Readiness[],
): Promise<Array<Readiness | ReadinessWithDns>> {
  return Promise.all(
    results.map(async (result, index) => {
      if (index >= MAX_DOMAINS || (result.figures.messages === 0 && result.policy === null)) return result;
      return applyDnsChecks(result, await domainDnsReport(context, result.domain, result));
    }),
  );
}
