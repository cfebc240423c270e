// Retention: RETENTION_DAYS of data are kept; older days are pruned when the leader starts and
// then every few hours (pruning is idempotent, so a missed or repeated run does no harm).

import type { Logger } from '../log.ts';
import type { ReportStore } from '../store/types.ts';
import { errorMessage } from '../text/error-message.ts';

export interface RetentionOptions {
  store: Pick<ReportStore, 'prune'>;
  retentionDays: number;
  now?: () => Date;
  log?: Logger;
  everyMs?: number;
}

/** Prunes once; a failure is logged and retried on the next run, never thrown. */
export async function pruneOnce({
  store,
  retentionDays,
  now = () => new Date(),
  log,
}: RetentionOptions): Promise<number> {
  // 0 still reaches the store: it lifts the cut-off of an earlier prune.
  if (!(retentionDays >= 0)) return 0;
  try {
    const { deletedKeys } = await store.prune(retentionDays, now());
    return deletedKeys;
  } catch (error) {
    log?.warn({ err: errorMessage(error) }, 'pruning old data failed; will retry');
    return 0;
  }
}

/** Prunes now and then every `everyMs` (default 6 hours) until stopped. */
export function startRetention(options: RetentionOptions): { stop(): Promise<void> } {
  let running: Promise<unknown> = pruneOnce(options);
  const timer = setInterval(
    () => {
      running = running.then(() => pruneOnce(options));
    },
    options.everyMs ?? 6 * 3600_000,
  );
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
