// Builds the CommandContext every command and the digest run with: the store, the clock, the DNS
// adapter (from DNS_SERVERS / DNS_TIMEOUT_MS), locale and time zone, and the readiness thresholds.
// This is where settings become the options of the layers below: insight and sources never read
// the Config type themselves.

import type { Config } from './config.ts';
import type { PresentationSettings } from './config-presentation.ts';
import type { CommandContext, Requester } from './command-kit/types.ts';
import type { Identify, ReadinessThresholds } from './insight/types.ts';
import { DEFAULT_THRESHOLDS } from './insight/index.ts';
import type { TextFetcher } from './dns-check/types.ts';
import { createDnsResolver, noDns, type DnsAdapter } from './net/dns.ts';
import { fetchHttpsText } from './net/https-text.ts';
import { createIdentify } from './senders/identify.ts';
import { packageVersion } from './cli/version.ts';
import type { ReportStore } from './store/types.ts';

export { createIdentify };

/** Thresholds from the validated settings (READY_*); alignedPassRate has no setting. */
export function thresholdsFromConfig(
  config: Pick<
    Config,
    | 'READY_WINDOW_DAYS'
    | 'READY_MIN_DAYS'
    | 'READY_MIN_MESSAGES'
    | 'READY_QUARANTINE_PASS_RATE'
    | 'READY_REJECT_PASS_RATE'
    | 'READY_MAX_LEGIT_FAILING_SHARE'
    | 'READY_REGULAR_SENDER_MIN_DAYS'
    | 'READY_REGULAR_SENDER_MIN_SHARE'
  >,
): ReadinessThresholds {
  return {
    windowDays: config.READY_WINDOW_DAYS,
    minDaysWithReports: config.READY_MIN_DAYS,
    minMessages: config.READY_MIN_MESSAGES,
    quarantinePassRate: config.READY_QUARANTINE_PASS_RATE,
    rejectPassRate: config.READY_REJECT_PASS_RATE,
    maxLegitFailingShare: config.READY_MAX_LEGIT_FAILING_SHARE,
    regularSenderMinDays: config.READY_REGULAR_SENDER_MIN_DAYS,
    regularSenderMinShare: config.READY_REGULAR_SENDER_MIN_SHARE,
    alignedPassRate: DEFAULT_THRESHOLDS.alignedPassRate,
  };
}

export interface CommandContextInput {
  config: Config;
  store: ReportStore;
  requester: Requester;
  now?: () => Date;
  /** a DNS adapter, or false for offline identification only; default from the config */
  dns?: DnsAdapter | false;
  /** the HTTPS fetch of MTA-STS policy files, or false for none; default node:https */
  fetchText?: TextFetcher | false;
}

// One resolver per configuration, so every command context of a running bot shares it (and with
// it the identification memo below).
const resolvers = new WeakMap<Config, DnsAdapter>();
function resolverFor(config: Config): DnsAdapter {
  let adapter = resolvers.get(config);
  if (!adapter) {
    adapter = createDnsResolver({ servers: config.DNS_SERVERS, timeoutMs: config.DNS_TIMEOUT_MS });
    resolvers.set(config, adapter);
  }
  return adapter;
}

export function createCommandContext({
  config,
  store,
  requester,
  now = () => new Date(),
  dns,
  fetchText,
}: CommandContextInput): CommandContext {
  const adapter = dns === false ? noDns : (dns ?? resolverFor(config));
  if (!storeScopes.has(store)) storeScopes.set(store, `${config.DMARC_STORE}\n${process.cwd()}\n${packageVersion()}`);
  return {
    store,
    now,
    dns: {
      reverse: adapter.reverse,
      resolve: adapter.resolve,
      timeoutMs: adapter.timeoutMs,
      records: adapter.records,
      fetchText: fetchText === false || adapter === noDns ? undefined : (fetchText ?? fetchHttpsText),
    },
    locale: config.LOCALE,
    timeZone: config.TZ,
    requester,
    thresholds: thresholdsFromConfig(config),
  };
}

/**
 * The context of a command that reads only the locale and time zone (help): no DNS, the default
 * thresholds, and the store given (which such a command never reads).
 */
export function createPresentationContext({
  settings,
  store,
  requester,
  now = () => new Date(),
}: Pick<CommandContextInput, 'store' | 'requester' | 'now'> & { settings: PresentationSettings }): CommandContext {
  return {
    store,
    now,
    dns: { reverse: noDns.reverse, resolve: noDns.resolve, timeoutMs: noDns.timeoutMs, records: noDns.records },
    locale: settings.LOCALE,
    timeZone: settings.TZ,
    requester,
    thresholds: DEFAULT_THRESHOLDS,
  };
}

/**
 * What names a store opened from the settings, for the offline identities kept between processes
 * (with the program's version: identification may change with it).
 */
const storeScopes = new WeakMap<ReportStore, string>();

// Keyed by store, resolver and clock rather than by context: a chat bot makes a context per
// request, and identification (ASN data, PTR answers, the insight memo) should outlive each one.
const identifiers = new WeakMap<ReportStore, WeakMap<object, WeakMap<object, Identify>>>();

/** The Identify shared by every context on the same store, DNS resolver and clock. */
export function identifyFor(context: CommandContext): Identify {
  let byResolver = identifiers.get(context.store);
  if (!byResolver) identifiers.set(context.store, (byResolver = new WeakMap()));
  let byClock = byResolver.get(context.dns.reverse);
  if (!byClock) byResolver.set(context.dns.reverse, (byClock = new WeakMap()));
  let identify = byClock.get(context.now);
  if (!identify) {
    identify = createIdentify({
      store: context.store,
      reverse: context.dns.reverse,
      resolve: context.dns.resolve,
      timeoutMs: context.dns.timeoutMs,
      now: context.now,
      cache: storeScopes.has(context.store) ? { scope: storeScopes.get(context.store)! } : undefined,
    });
    byClock.set(context.now, identify);
  }
  return identify;
}
