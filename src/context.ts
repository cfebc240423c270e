// Builds the CommandContext every command and the digest run with: the store, the clock, the DNS
// adapter (from DNS_SERVERS / DNS_TIMEOUT_MS), locale and time zone, and the readiness thresholds.

import type { Config } from './config.ts';
import type { CommandContext, Requester } from './commands/types.ts';
import type { Identify } from './insight/types.ts';
import { thresholdsFromConfig } from './insight/index.ts';
import { createDnsResolver, noDns, type DnsAdapter } from './net/dns.ts';
import { createIdentify } from './senders/identify.ts';
import type { ReportStore } from './store/types.ts';

export { createIdentify };

export interface CommandContextInput {
  config: Config;
  store: ReportStore;
  requester: Requester;
  now?: () => Date;
  /** a DNS adapter, or false for offline identification only; default from the config */
  dns?: DnsAdapter | false;
}

export function createCommandContext({ config, store, requester, now = () => new Date(), dns }: CommandContextInput): CommandContext {
  const adapter = dns === false ? noDns : (dns ?? createDnsResolver({ servers: config.DNS_SERVERS, timeoutMs: config.DNS_TIMEOUT_MS }));
  return {
    store,
    now,
    dns: { reverse: adapter.reverse, resolve: adapter.resolve, timeoutMs: adapter.timeoutMs },
    locale: config.LOCALE,
    timeZone: config.TZ,
    requester,
    thresholds: thresholdsFromConfig(config),
  };
}

const identifiers = new WeakMap<CommandContext, Identify>();

/** The context's Identify (one per context, so its lookups share the PTR cache and ASN data). */
export function identifyFor(context: CommandContext): Identify {
  let identify = identifiers.get(context);
  if (!identify) {
    identify = createIdentify({ store: context.store, reverse: context.dns.reverse, resolve: context.dns.resolve, timeoutMs: context.dns.timeoutMs, now: context.now });
    identifiers.set(context, identify);
  }
  return identify;
}
