// Leadership lease for several bot instances sharing one store: exactly one instance ingests mail
// and posts digests at a time; every instance answers commands. keyv offers no compare-and-set,
// so the lease uses the one atomic operation of each backend directly (backends.ts); the store
// driver of the URL's scheme picks the backend.

import { storeDriverFor } from '../store/drivers.ts';
import type { Lease, LeaseOptions } from './types.ts';

export type { Lease, LeaseOptions } from './types.ts';

const DEFAULT_TTL_MS = 15_000;
export const DEFAULT_LEASE_NAME = 'dmarc:leader';

export async function openLease(storeUrl: string, options: LeaseOptions): Promise<Lease> {
  const name = options.name ?? DEFAULT_LEASE_NAME;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const scheme = storeUrl.slice(0, storeUrl.indexOf(':')).toLowerCase();
  const driver = storeDriverFor(storeUrl);
  if (driver) return driver.openLease(storeUrl, name, options.holder, ttlMs);
  throw new Error(`lease: unsupported store URL scheme "${scheme}"`);
}

export interface LeadershipEvents {
  /** called when this instance becomes the leader; the returned function stops the leader's work */
  onLead(): Promise<() => Promise<void>> | (() => Promise<void>);
  onLose?(): void;
  /** called when the lease is found held by another instance, once per stretch of waiting */
  onWait?(): void;
}

/**
 * Keeps trying to hold the lease until the signal aborts: starts the leader's work when the lease
 * is won and stops it as soon as a renewal fails (another instance may then take over).
 */
export async function holdLeadership(
  lease: Lease,
  events: LeadershipEvents,
  signal: AbortSignal,
  sleep = defaultSleep,
): Promise<void> {
  let stopLeading: (() => Promise<void>) | null = null;
  let waiting = false;
  const interval = Math.max(50, Math.floor(lease.ttlMs / 3));
  while (!signal.aborted) {
    const leading = await lease.tryAcquire();
    if (!leading && !stopLeading && !waiting) events.onWait?.();
    waiting = !leading && !stopLeading;
    if (leading && !stopLeading) stopLeading = await events.onLead();
    if (!leading && stopLeading) {
      await stopLeading();
      stopLeading = null;
      events.onLose?.();
    }
    await sleep(interval, signal);
  }
  if (stopLeading) await stopLeading();
  await lease.release();
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });
}

export interface WriterLease {
  /** the lease token this writer holds: fence the store's writes on it */
  token: string;
  /** aborts when a renewal fails: stop writing, another instance may take over */
  lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * For one-off writers (`dmarc-bot ingest`): waits up to `waitMs` for the lease, then holds it,
 * renewing in the background, until released. Resolves null when another instance keeps it.
 */
export async function acquireWriterLease(
  lease: Lease,
  options: { waitMs: number; onWait?: () => void; sleep?: (ms: number) => Promise<void> },
): Promise<WriterLease | null> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const deadline = Date.now() + options.waitMs;
  let waited = false;
  while (!(await lease.tryAcquire())) {
    if (Date.now() >= deadline) return null;
    if (!waited) options.onWait?.();
    waited = true;
    await sleep(Math.min(500, lease.ttlMs / 3));
  }
  const lost = new AbortController();
  const token = lease.token;
  let renewing: Promise<unknown> = Promise.resolve();
  // Renewed on a timer; if long work kept the timer from running and the lease was taken
  // meanwhile, the renewal fails (or wins a new token) and `lost` aborts. The store's writes are
  // fenced on `token` as well, so a late writer is refused even before this notices.
  const timer = setInterval(
    () => {
      renewing = renewing.then(async () => {
        if (lost.signal.aborted) return;
        if (!(await lease.tryAcquire()) || lease.token !== token) lost.abort();
      });
    },
    Math.max(50, Math.floor(lease.ttlMs / 3)),
  );
  timer.unref();
  return {
    token,
    lost: lost.signal,
    async release() {
      clearInterval(timer);
      await renewing;
      await lease.release();
    },
  };
}
