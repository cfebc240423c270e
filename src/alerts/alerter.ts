// The thin part of alerting: subscribes to newly stored reports, reads the history detection
// needs, keeps "at most one alert per source per day" in the store, and posts one alert per report
// (its sources, most urgent first) to every destination through the pacer.
// Work runs on a queue so the ingest callback (synchronous) never waits on chat platforms.

import type { Report } from '../model.ts';
import type { ReportStore } from '../store/types.ts';
import type { Destination, RetryOptions } from '../chat/post.ts';
import type { Logger } from '../log.ts';
import { candidateIps, detectAlerts, type AlertFinding, type AlertRules } from './detect.ts';
import { reportAlertReply } from './render.ts';
import { createAlertPacer, type AlertPacer } from './pacer.ts';
import { DAY_MS, utcDay } from '../time/utc-day.ts';
import { formatLocalDate, localParts } from '../schedule/zoned-time.ts';
import type { OpsObserver } from '../metrics/observer.ts';
import { errorMessage } from '../text/error-message.ts';
import { dict } from '../store/dict.ts';

export interface AlerterOptions {
  store: Pick<ReportStore, 'ipEntries' | 'marks' | 'getState' | 'setState'>;
  destinations: readonly Destination[];
  rules: AlertRules;
  timeZone: string;
  now?: () => Date;
  /** how far back "never passed" looks (days) */
  historyDays?: number;
  /** sources listed in one alert before "and M more" */
  topSources?: number;
  /** shared with the other alert kinds, so pacing and the daily cap count every alert; built when absent */
  pacer?: AlertPacer;
  retry?: RetryOptions;
  /** when false this instance does not alert (another instance holds the lease) */
  mayPost?: () => boolean | Promise<boolean>;
  log?: Logger;
  /** counts alerts posted and failed per destination (metrics); nothing by default */
  observer?: Pick<OpsObserver, 'delivery'>;
}

export interface Alerter {
  /** hand to the ingest pipeline's `onReport` */
  onReport(report: Report): void;
  /** handles one report now; resolves the findings that were posted */
  process(report: Report): Promise<AlertFinding[]>;
  /** resolves when every queued report is handled */
  idle(): Promise<void>;
  /** drops the reports still queued (shutdown must not wait on a store or platform that is away) */
  stop(): Promise<void>;
}

/** The state key that lists the sources of a domain already alerted on a local day. */
export function alertedStateKey(domain: string, day: string): string {
  return `alerted:${domain}:${day}`;
}

export function createAlerter(options: AlerterOptions): Alerter {
  const now = options.now ?? (() => new Date());
  const historyDays = options.historyDays ?? 400;
  const pacer =
    options.pacer ??
    createAlertPacer({
      destinations: options.destinations,
      store: options.store,
      timeZone: options.timeZone,
      now,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.observer ? { observer: options.observer } : {}),
    });
  let queue: Promise<unknown> = Promise.resolve();
  let stopped = false;

  async function process(report: Report): Promise<AlertFinding[]> {
    if (report.kind !== 'aggregate') return [];
    if (options.mayPost && !(await options.mayPost())) return [];
    const ips = candidateIps(report, options.rules.minMessages);
    if (ips.length === 0) return [];
    const at = now();
    const to = utcDay(at) > utcDay(report.end) ? utcDay(at) : utcDay(report.end);
    const from = utcDay(at.getTime() - historyDays * DAY_MS);
    const history = dict<Awaited<ReturnType<AlerterOptions['store']['ipEntries']>>>();
    for (const ip of ips) history[ip] = await options.store.ipEntries(ip, from, to);
    const findings = detectAlerts({ report, history, marks: await options.store.marks(), rules: options.rules });
    if (findings.length === 0) return [];
    const day = formatLocalDate(localParts(at, options.timeZone));
    const domain = findings[0]!.domain;
    const key = alertedStateKey(domain, day);
    const already = new Set((await options.store.getState<string[]>(key)) ?? []);
    const fresh = findings.filter((finding) => !already.has(finding.ip));
    if (fresh.length === 0) return [];
    // one message for the whole report, however many sources it names
    const outcomes = await pacer.send(reportAlertReply(fresh, options.topSources ?? 10));
    const taken = [...outcomes.values()].some((outcome) => outcome !== 'failed');
    // remembered once taken somewhere (or when there is nowhere to deliver), so a dead platform
    // does not turn into a storm of repeats on the others
    if (!taken && pacer.destinations.length > 0) return [];
    for (const finding of fresh) already.add(finding.ip);
    await options.store.setState(key, [...already], 3 * 86_400_000);
    options.log?.info(
      { domain, sources: fresh.length, top: fresh[0]!.ip, outcomes: Object.fromEntries(outcomes) },
      'alert sent',
    );
    return fresh;
  }
  return {
    process,
    onReport(report) {
      queue = queue
        .then(() => (stopped ? [] : process(report)))
        .catch((error: unknown) => options.log?.error({ err: errorMessage(error) }, 'alert check failed'));
    },
    idle: () => queue.then(() => undefined),
    stop() {
      stopped = true;
      return queue.then(() => undefined);
    },
  };
}
