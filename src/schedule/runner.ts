// The thin part of the schedule: ask dueDigests() what is owed, build each digest, post it with
// retries and record it as sent only after the platform accepted it. The clock and the timer are
// injected, so tests drive days of schedule in milliseconds.

import type { Reply } from '../reply/model.ts';
import type { Destination, RetryOptions } from '../chat/post.ts';
import { withRetry } from '../chat/post.ts';
import { dueDigests, type DueDigest } from './due.ts';
import type { Logger } from '../log.ts';
import type { ReportStore } from '../store/types.ts';
import { lastDigestAt, markDigestSent } from '../digest/state.ts';
import type { OpsObserver } from '../metrics/observer.ts';
import { errorMessage } from '../text/error-message.ts';

/** Per-destination record of the last digest sent (backed by the store). */
export interface DigestLedger {
  /** ISO end of the window of the last digest sent to the destination, or undefined */
  lastSent(destination: string): Promise<string | undefined>;
  markSent(destination: string, until: string): Promise<void>;
}

export type BuildDigestFn = (window: {
  since: string;
  until: string;
}) => Promise<{ reply: Reply; reportCount: number }>;

/** Cancels a scheduled call. */
export type SetTimer = (callback: () => void, ms: number) => () => void;

export interface DigestSchedulerOptions {
  destinations: readonly Destination[];
  ledger: DigestLedger;
  buildDigest: BuildDigestFn;
  digestTime: string;
  timeZone: string;
  now?: () => Date;
  setTimer?: SetTimer;
  /** how often the runner looks whether something is due */
  checkEveryMs?: number;
  retry?: RetryOptions;
  /** when it resolves false this instance does not post (another instance holds the lease) */
  mayPost?: () => boolean | Promise<boolean>;
  /** runs after every pass with its outcomes (the health alerts check after a digest went out) */
  afterPass?: (outcomes: readonly DigestOutcome[]) => Promise<void>;
  log?: Logger;
  /** counts digests posted and failed per destination (metrics); nothing by default */
  observer?: Pick<OpsObserver, 'delivery'>;
}

export interface DigestOutcome {
  destination: string;
  status: 'sent' | 'failed' | 'waiting';
  since: string;
  until: string;
  reportCount?: number;
  error?: string;
}

export interface DigestScheduler {
  /** one pass: posts every digest that is due; resolves what happened per destination */
  tick(): Promise<DigestOutcome[]>;
  start(): void;
  /** stops the timer and waits for a pass in progress to finish */
  stop(): Promise<void>;
}

const realTimer: SetTimer = (callback, ms) => {
  const timer = setTimeout(callback, ms);
  timer.unref?.();
  return () => clearTimeout(timer);
};

export function createDigestScheduler(options: DigestSchedulerOptions): DigestScheduler {
  const now = options.now ?? (() => new Date());
  const setTimer = options.setTimer ?? realTimer;
  const checkEvery = options.checkEveryMs ?? 60_000;
  // after a final failure a destination rests a while, doubling up to an hour, so a dead platform
  // is not hammered every minute; it stays due and is tried again after the rest
  const failures = new Map<string, { count: number; notBefore: number }>();
  let cancel: (() => void) | null = null;
  let running: Promise<DigestOutcome[]> | null = null;
  let stopped = false;

  async function pass(): Promise<DigestOutcome[]> {
    if (options.mayPost && !(await options.mayPost())) return [];
    const lastSent: Record<string, string | undefined> = {};
    for (const destination of options.destinations)
      lastSent[destination.id] = await options.ledger.lastSent(destination.id);
    const at = now();
    const due = dueDigests(at, lastSent, options.digestTime, options.timeZone);
    options.log?.debug({ due: due.map((d) => d.destination) }, 'digest schedule checked');
    const until = at.toISOString();
    const outcomes: DigestOutcome[] = [];
    // destinations with the same window share one build
    const builds = new Map<string, Promise<{ reply: Reply; reportCount: number }>>();
    for (const item of due) {
      const rest = failures.get(item.destination);
      if (rest && at.getTime() < rest.notBefore) {
        outcomes.push({ destination: item.destination, status: 'waiting', since: item.since, until });
        continue;
      }
      outcomes.push(await send(item, until, builds));
    }
    await options.afterPass?.(outcomes);
    return outcomes;
  }

  async function send(
    item: DueDigest,
    until: string,
    builds: Map<string, Promise<{ reply: Reply; reportCount: number }>>,
  ): Promise<DigestOutcome> {
    const destination = options.destinations.find((d) => d.id === item.destination)!;
    let posted = false;
    try {
      let build = builds.get(item.since);
      if (!build) {
        build = options.buildDigest({ since: item.since, until });
        builds.set(item.since, build);
      }
      const digest = await build;
      await withRetry(() => destination.post(digest.reply), {
        ...options.retry,
        onRetry: ({ attempt, delayMs }) =>
          options.log?.warn({ destination: destination.id, attempt, delayMs }, 'digest post failed, retrying'),
      });
      posted = true;
      options.observer?.delivery('digest', destination.id, true);
      await options.ledger.markSent(destination.id, until);
      failures.delete(destination.id);
      options.log?.info(
        { destination: destination.id, since: item.since, until, reports: digest.reportCount },
        'digest sent',
      );
      return { destination: destination.id, status: 'sent', since: item.since, until, reportCount: digest.reportCount };
    } catch (error) {
      if (!posted) options.observer?.delivery('digest', destination.id, false);
      const previous = failures.get(destination.id)?.count ?? 0;
      const restMs = Math.min(3600_000, checkEvery * 2 ** previous);
      failures.set(destination.id, { count: previous + 1, notBefore: now().getTime() + restMs });
      const message = errorMessage(error);
      options.log?.error({ destination: destination.id, err: message }, 'digest not sent; it stays due');
      return { destination: destination.id, status: 'failed', since: item.since, until, error: message };
    }
  }

  function tick(): Promise<DigestOutcome[]> {
    // never two passes at once: a slow post must not make a second copy of the same digest
    if (running) return running;
    running = pass().finally(() => {
      running = null;
    });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    cancel = setTimer(() => {
      tick()
        .catch((error: unknown) => options.log?.error({ err: errorMessage(error) }, 'digest schedule pass failed'))
        .finally(schedule);
    }, checkEvery);
  }

  return {
    tick,
    start() {
      stopped = false;
      void tick()
        .catch((error: unknown) => options.log?.error({ err: errorMessage(error) }, 'digest schedule pass failed'))
        .finally(schedule);
    },
    async stop() {
      stopped = true;
      cancel?.();
      cancel = null;
      if (running) await running.catch(() => undefined);
    },
  };
}

/**
 * The ledger in the store, shared with `dmarc-bot digest` (src/digest/state.ts): one state entry
 * per destination holding the end of its last digest.
 */
export function storeLedger(store: Pick<ReportStore, 'getState' | 'setState'>): DigestLedger {
  return {
    async lastSent(destination) {
      return (await lastDigestAt(store, destination))?.toISOString();
    },
    async markSent(destination, until) {
      await markDigestSent(store, destination, new Date(until));
    },
  };
}
