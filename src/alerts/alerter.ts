// The thin part of alerting: subscribes to newly stored reports, reads the history detection
// needs, keeps "at most one alert per source per day" in the store, and posts to every destination.
// Work runs on a queue so the ingest callback (synchronous) never waits on chat platforms.

import type { Report } from '../model.ts';
import type { ReportStore } from '../store/types.ts';
import type { Destination, RetryOptions } from '../chat/post.ts';
import { withRetry } from '../chat/post.ts';
import type { Logger } from '../log.ts';
import { candidateIps, detectAlerts, type AlertFinding, type AlertRules } from './detect.ts';
import { alertReply } from './render.ts';
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

/** The state key that remembers an alert for a source on a local day. */
export function alertStateKey(domain: string, ip: string, day: string): string {
  return `alert:${domain}:${ip}:${day}`;
}

export function createAlerter(options: AlerterOptions): Alerter {
  const now = options.now ?? (() => new Date());
  const historyDays = options.historyDays ?? 400;
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
    const day = formatLocalDate(localParts(at, options.timeZone));
    const posted: AlertFinding[] = [];
    for (const finding of findings) {
      const key = alertStateKey(finding.domain, finding.ip, day);
      if (await options.store.getState(key)) continue;
      const reply = alertReply(finding);
      let delivered = 0;
      for (const destination of options.destinations) {
        try {
          await withRetry(() => destination.post(reply), options.retry);
          delivered++;
          options.observer?.delivery('alert', destination.id, true);
        } catch (error) {
          options.observer?.delivery('alert', destination.id, false);
          options.log?.error(
            {
              destination: destination.id,
              ip: finding.ip,
              err: errorMessage(error),
            },
            'alert not delivered',
          );
        }
      }
      // remembered once delivered somewhere (or when there is nowhere to deliver), so a dead
      // platform does not turn into a storm of repeats on the others
      if (delivered > 0 || options.destinations.length === 0) {
        await options.store.setState(
          key,
          { at: at.toISOString(), kind: finding.kind, failing: finding.failing },
          3 * 86_400_000,
        );
        posted.push(finding);
        options.log?.info({ ip: finding.ip, domain: finding.domain, kind: finding.kind }, 'alert sent');
      }
    }
    return posted;
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
