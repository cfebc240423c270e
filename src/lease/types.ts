// What a lease offers, whichever store backend holds it.

export interface Lease {
  /** Takes the lease when it is free or expired, or renews it when we hold it. True = we lead. */
  tryAcquire(): Promise<boolean>;
  /** Gives the lease up at once (clean shutdown), so another instance takes over without waiting. */
  release(): Promise<void>;
  close(): Promise<void>;
  /** the lease row / key: a store's writes can be fenced on it (WriteFence) */
  readonly name: string;
  readonly holder: string;
  /**
   * The value stored in the lease while we hold it: the holder plus a part that changes whenever
   * the lease has to be taken anew. A writer fenced on the token of its first acquisition can
   * therefore never write again after it lost the lease once, even if it later wins it back.
   */
  readonly token: string;
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
