// Alerts reach each destination through its own queue: posts keep a minimum interval (so a burst
// never meets the platform's rate limit), a 429 waits as long as Retry-After says (withRetry), and
// each destination takes at most `dailyCap` alerts per local day. Alerts over the cap are counted,
// not posted; once that day is over, one summary says how many were held back. The counts live in
// the store, so a restart does not reopen the cap.

import type { Reply } from '../reply/model.ts';
import type { ReportStore } from '../store/types.ts';
import type { Logger } from '../log.ts';
import { defaultSleep, withRetry, type Destination, type RetryOptions } from '../chat/post.ts';
import { formatLocalDate, localParts } from '../schedule/zoned-time.ts';
import type { OpsObserver } from '../metrics/observer.ts';

export type SendOutcome = 'sent' | 'held' | 'failed';

export interface AlertPacerOptions {
  destinations: readonly Destination[];
  store: Pick<ReportStore, 'getState' | 'setState'>;
  timeZone: string;
  /** least time between two posts to one destination */
  minIntervalMs?: number;
  /** alerts a destination takes per local day; 0: no cap */
  dailyCap?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  retry?: RetryOptions;
  log?: Logger;
  /** counts alerts posted and failed per destination (metrics) */
  observer?: Pick<OpsObserver, 'delivery'>;
}

export interface AlertPacer {
  readonly destinations: readonly Destination[];
  /** queues the alert on every destination; resolves each destination's outcome */
  send(reply: Reply): Promise<Map<string, SendOutcome>>;
  /** posts the "held back" summaries of days that are over (also done before each send) */
  summarizeHeld(): Promise<void>;
  /** resolves when every queue is empty */
  idle(): Promise<void>;
}

/** Per destination and local day: alerts posted and held back. */
interface CapDoc {
  sent: number;
  held: number;
}

/** Per destination: the days whose held-back alerts still need their summary. */
type HeldDoc = Record<string, number>;

const capKey = (destination: string, day: string) => `alertcap:${destination}:${day}`;
const heldKey = (destination: string) => `alertheld:${destination}`;
const KEEP_MS = 3 * 86_400_000;

export function heldBackReply(count: number, day: string, cap: number): Reply {
  const what = `${count} more alert${count === 1 ? ' was' : 's were'} held back on ${day}`;
  return {
    title: `DMARC alerts: ${what} (daily cap ${cap})`,
    tone: 'warning',
    blocks: [
      { type: 'text', text: `${what}: this channel takes at most ${cap} alerts a day.`, tone: 'warning' },
      {
        type: 'text',
        text: 'See them with `/dmarc sources` and `/dmarc digest`; raise ALERT_DAILY_CAP if the cap is too tight.',
      },
    ],
    data: { heldBack: { day, count, cap } },
  };
}

export function createAlertPacer(options: AlertPacerOptions): AlertPacer {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? options.retry?.sleep ?? defaultSleep;
  const minInterval = options.minIntervalMs ?? 0;
  const cap = options.dailyCap ?? 0;
  const queues = new Map<string, Promise<unknown>>();
  const lastPostAt = new Map<string, number>();

  const today = () => formatLocalDate(localParts(now(), options.timeZone));

  function enqueue<T>(destination: string, job: () => Promise<T>): Promise<T> {
    const previous = queues.get(destination) ?? Promise.resolve();
    const next = previous.then(job, job);
    queues.set(
      destination,
      next.catch(() => undefined),
    );
    return next;
  }

  /** one paced, retried post; resolves false when the platform did not take it */
  async function post(destination: Destination, reply: Reply): Promise<boolean> {
    const last = lastPostAt.get(destination.id);
    if (last !== undefined) {
      const wait = last + minInterval - now().getTime();
      if (wait > 0) await sleep(wait);
    }
    try {
      await withRetry(() => destination.post(reply), {
        ...options.retry,
        sleep,
        onRetry: ({ attempt, delayMs }) =>
          options.log?.warn({ destination: destination.id, attempt, delayMs }, 'alert post failed, retrying'),
      });
      options.observer?.delivery('alert', destination.id, true);
      return true;
    } catch (error) {
      options.observer?.delivery('alert', destination.id, false);
      options.log?.error(
        { destination: destination.id, err: error instanceof Error ? error.message : String(error) },
        'alert not delivered',
      );
      return false;
    } finally {
      lastPostAt.set(destination.id, now().getTime());
    }
  }

  async function summarize(destination: Destination): Promise<void> {
    if (cap === 0) return;
    const held = (await options.store.getState<HeldDoc>(heldKey(destination.id))) ?? {};
    const day = today();
    const remaining: HeldDoc = {};
    let changed = false;
    for (const [heldDay, count] of Object.entries(held).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (heldDay >= day || !(count > 0)) {
        if (count > 0) remaining[heldDay] = count;
        continue;
      }
      changed = true;
      // a summary the platform refused stays owed
      if (!(await post(destination, heldBackReply(count, heldDay, cap)))) remaining[heldDay] = count;
    }
    if (changed) await options.store.setState(heldKey(destination.id), remaining, KEEP_MS * 10);
  }

  async function sendOne(destination: Destination, reply: Reply): Promise<SendOutcome> {
    await summarize(destination);
    const day = today();
    const counts = (await options.store.getState<CapDoc>(capKey(destination.id, day))) ?? { sent: 0, held: 0 };
    if (cap > 0 && counts.sent >= cap) {
      counts.held += 1;
      await options.store.setState(capKey(destination.id, day), counts, KEEP_MS);
      const held = (await options.store.getState<HeldDoc>(heldKey(destination.id))) ?? {};
      held[day] = counts.held;
      await options.store.setState(heldKey(destination.id), held, KEEP_MS * 10);
      options.log?.info({ destination: destination.id, day, held: counts.held }, 'alert held back: daily cap reached');
      return 'held';
    }
    if (!(await post(destination, reply))) return 'failed';
    counts.sent += 1;
    await options.store.setState(capKey(destination.id, day), counts, KEEP_MS);
    return 'sent';
  }

  return {
    destinations: options.destinations,
    async send(reply) {
      const outcomes = await Promise.all(
        options.destinations.map(
          async (destination) =>
            [destination.id, await enqueue(destination.id, () => sendOne(destination, reply))] as const,
        ),
      );
      return new Map(outcomes);
    },
    async summarizeHeld() {
      await Promise.all(options.destinations.map((d) => enqueue(d.id, () => summarize(d))));
    },
    async idle() {
      await Promise.all([...queues.values()]);
    },
  };
}
