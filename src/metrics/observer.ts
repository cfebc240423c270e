// What the running bot tells its monitoring: one small sink interface that the ingest pipeline,
// the IMAP watcher, the alerter and the digest runner call. The default does nothing, so those
// parts stay free of any metrics library and their tests need none.

import type { ReportKind } from '../model.ts';
import type { IngestOutcome } from '../store/types.ts';

export type DeliveryKind = 'digest' | 'alert';

export interface OpsObserver {
  /** one report handed to the store, with what the store made of it */
  reportIngested(kind: ReportKind, outcome: IngestOutcome): void;
  /** one part of an input that could not be read (a reader error code, `invalid-report`, `no-report`) */
  readerError(cause: string): void;
  /** an IMAP watcher connected (true) or lost its connection (false); account `default` when not named */
  imapConnection(connected: boolean, account?: string): void;
  /** a pass over an account's mailbox finished without error */
  imapPass(at: Date, account?: string): void;
  /** a digest or an alert was posted to a destination, or finally failed there (after retries) */
  delivery(kind: DeliveryKind, destination: string, ok: boolean): void;
}

export const noopObserver: OpsObserver = {
  reportIngested: () => undefined,
  readerError: () => undefined,
  imapConnection: () => undefined,
  imapPass: () => undefined,
  delivery: () => undefined,
};
