// Entry point of the store: openStore(url) gives the ReportStore for a sqlite://, redis:// or
// postgres:// URL (see types.ts for the key layout and drivers.ts for the backends).

import { silentLogger, type Logger } from '../log.ts';
import {
  CorruptStoreError,
  DEFAULT_STORE_URL,
  isCorruption,
  redactUrl,
  type Backend,
  type BackendOpenOptions,
  type WriteFence,
} from './backend.ts';
import { storeDriverFor, storeUrlForms } from './drivers.ts';
import { DEFAULT_LIMITS, KeyvReportStore, type StoreHooks, type StoreLimits } from './store.ts';
import type { ReportStore } from './types.ts';

/** Opens the backend of a store URL with the driver of its scheme. */
export async function openBackend(
  url: string,
  namespace: string,
  logger: Logger,
  options: BackendOpenOptions = {},
): Promise<Backend> {
  const driver = storeDriverFor(url);
  if (!driver) throw new Error(`unsupported store URL ${redactUrl(url)}: use ${storeUrlForms()}`);
  return driver.openBackend(url, namespace, logger, options);
}

export interface OpenStoreOptions {
  logger?: Logger;
  /** keyv namespace of every key (default "dmarc") */
  namespace?: string;
  /** write buffer bounds (default 200 reports or 2,000 touched documents) */
  limits?: Partial<StoreLimits>;
  /** how long a Redis or PostgreSQL server may take to answer at open (STORE_CONNECT_TIMEOUT_MS) */
  connectTimeoutMs?: number;
  /** test hooks (crash simulation) */
  hooks?: StoreHooks;
  /** the writer lease every write of this store depends on (see WriteFence) */
  fence?: WriteFence;
}

export async function openStore(url: string = DEFAULT_STORE_URL, options: OpenStoreOptions = {}): Promise<ReportStore> {
  const logger = options.logger ?? silentLogger;
  const backend = await openBackend(url, options.namespace ?? 'dmarc', logger, {
    ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.fence ? { fence: options.fence } : {}),
  });
  try {
    return await KeyvReportStore.open(
      backend,
      logger,
      { ...DEFAULT_LIMITS, ...options.limits },
      options.hooks ?? {},
      options.fence !== undefined,
    );
  } catch (error) {
    await backend.close().catch(() => undefined);
    // opening reads (and may migrate) documents: a damaged page met there is named like one met by the driver
    if (backend.kind === 'sqlite' && isCorruption(error))
      throw new CorruptStoreError(url.slice('sqlite://'.length), `is damaged (${(error as Error).message})`);
    throw error;
  }
}

export { DEFAULT_STORE_URL, LeaseLostError, type WriteFence } from './backend.ts';
export { InvalidReportError } from './contributions.ts';
export { aggregateKey, failureKey, ipBucket, normaliseIp, reportKey, tlsKey } from './keys.ts';
export { apportion, attributionDays, splitAggregate, utcDay } from './days.ts';
export type { StoreHooks, StoreLimits } from './store.ts';
export type * from './types.ts';
export {
  asSummary,
  summariseDay,
  type DayData,
  type DayReportHead,
  type DaySummary,
  type SummarySource,
} from './summary.ts';
