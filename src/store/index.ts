// Entry point of the store: openStore(url) gives the ReportStore for a sqlite://, redis:// or
// postgres:// URL (see types.ts for the key layout and backend.ts for the backends).

import { silentLogger, type Logger } from '../log.ts';
import { DEFAULT_STORE_URL, openBackend, type WriteFence } from './backend.ts';
import { DEFAULT_LIMITS, KeyvReportStore, type StoreHooks, type StoreLimits } from './store.ts';
import type { ReportStore } from './types.ts';

export interface OpenStoreOptions {
  logger?: Logger;
  /** keyv namespace of every key (default "dmarc") */
  namespace?: string;
  /** write buffer bounds (default 200 reports or 2,000 touched documents) */
  limits?: Partial<StoreLimits>;
  /** test hooks (crash simulation) */
  hooks?: StoreHooks;
  /** the writer lease every write of this store depends on (see WriteFence) */
  fence?: WriteFence;
}

export async function openStore(url: string = DEFAULT_STORE_URL, options: OpenStoreOptions = {}): Promise<ReportStore> {
  const logger = options.logger ?? silentLogger;
  const backend = await openBackend(url, options.namespace ?? 'dmarc', logger, options.fence);
  try {
    return await KeyvReportStore.open(backend, logger, { ...DEFAULT_LIMITS, ...options.limits }, options.hooks ?? {});
  } catch (error) {
    await backend.close().catch(() => undefined);
    throw error;
  }
}

export { DEFAULT_STORE_URL, LeaseLostError, type WriteFence } from './backend.ts';
export { InvalidReportError } from './contributions.ts';
export { aggregateKey, failureKey, ipBucket, normaliseIp, reportKey, tlsKey } from './keys.ts';
export { apportion, attributionDays, splitAggregate, utcDay } from './days.ts';
export type { StoreHooks, StoreLimits } from './store.ts';
export type * from './types.ts';
