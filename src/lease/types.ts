// What a lease offers, whichever store backend holds it.

export interface Lease {
  /** Takes the lease when it is free or expired, or renews it when we hold it. True = we lead. */
  tryAcquire(): Promise<boolean>;
  /** Gives the lease up at once (clean shutdown), so another instance takes over without waiting. */
  release(): Promise<void>;
  close(): Promise<void>;
  readonly holder: string;
  readonly ttlMs: number;
}

export interface LeaseOptions {
  /** lease name; one per store namespace */
  name?: string;
  /** this instance's id (hostname:pid:random by default) */
  holder: string;
  /** how long a lease lives without renewal; the holder renews at a third of it */
  ttlMs?: number;
}
