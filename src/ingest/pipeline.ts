// Reading one input (a file, an mbox message, an IMAP message) into the store: the part every
// source shares. Plain orchestration over injected parts (reader, store), so it is testable
// without a mailbox and the same for files and IMAP.

import type { Report } from '../model.ts';
import type { IngestOutcome, ReportStore } from '../store/types.ts';
import { readReportsMerged } from '../reader/bounded.ts';
import { InvalidReportError, reportKey } from '../store/index.ts';
import type { OpsObserver } from '../metrics/observer.ts';

export interface IngestInput {
  /** names the input in errors and in the store: a file path, `path#N` or `imap:<mailbox>/<uid>` */
  source: string;
  /** the input's bytes; empty when `path` is given */
  bytes: Uint8Array;
  /** a file the reader reads itself, as a stream, instead of `bytes` */
  path?: string;
}

export interface IngestError {
  /** the input, or the part inside it (`mail.eml > report.zip > report.xml`) */
  source: string;
  /** the cause, without the source */
  message: string;
  /** the cause as a short code (a reader error code, `invalid-report`, `no-report`) */
  code?: string;
}

export interface InputResult {
  source: string;
  /** reports of this input that were new to the store */
  new: number;
  duplicates: number;
  /** reports older than the retention period: not stored */
  expired: number;
  /** reports found in the input (new + duplicates + expired) */
  reports: number;
  /** what could not be read (the rest of the input was still stored) */
  errors: IngestError[];
}

/** The reader's contract as the pipeline uses it (src/reader/bounded.ts). */
export type ReadReports = (
  bytes: Uint8Array,
  options: { source: string; maxBytes?: number; maxZipEntries?: number; path?: string },
) => Promise<{ reports: Report[]; errors: Array<{ message: string; code?: string; source?: string }> }>;

export interface StoredReportEvent {
  source: string;
  outcome: IngestOutcome;
  /** the store's key of the report (its `rep:` document is `report(reportKey)`) */
  reportKey: string;
}

export interface IngestDeps {
  /** storedReports, where the store has it, answers the dedupe of many reports in one lookup */
  store: Pick<ReportStore, 'ingest'> & Partial<Pick<ReportStore, 'storedReports'>>;
  /** defaults to the project's reader */
  read?: ReadReports;
  /** largest input or decompressed part the reader accepts (MAX_ATTACHMENT_MB) */
  maxBytes?: number;
  now?: () => Date;
  /** called once for every report that was new to the store (alerting subscribes here) */
  onReport?: (report: Report, event: StoredReportEvent) => void;
  /** counts reports by kind and outcome and reader errors by cause (metrics); nothing by default */
  observer?: Pick<OpsObserver, 'reportIngested' | 'readerError'>;
  /**
   * Longest time one input may take to read (default 60 s): past it the input is given up as
   * bad input, so that one input can never stall a batch.
   */
  readDeadlineMs?: number;
  /** stop (SIGTERM): a read in progress is abandoned and ingestInput rejects with ReadAbortedError */
  signal?: AbortSignal;
}

export const DEFAULT_READ_DEADLINE_MS = 60_000;

/**
 * The project's reader as the pipeline uses it: in the reader's worker, a file by its path, and
 * each aggregate report merged into the store's rows as it is read (src/store/merge.ts), so that
 * memory follows the report's sources, not its records or its size.
 */
export const readMerged: ReadReports = (bytes, { path, ...options }) =>
  readReportsMerged(path !== undefined ? { path } : bytes, options);

/** The batch was stopped while an input was being read: the input is neither stored nor acknowledged. */
export class ReadAbortedError extends Error {
  constructor(readonly source: string) {
    super(`${source}: stopped while reading`);
    this.name = 'ReadAbortedError';
  }
}

/**
 * The read, bounded by a deadline and the stop signal. A read that never settles (a library
 * hanging on a crafted mail) is left behind; one that blocks the thread must be isolated by the
 * reader itself.
 */
function boundedRead(
  work: Promise<Awaited<ReturnType<ReadReports>>>,
  source: string,
  deadlineMs: number,
  signal: AbortSignal | undefined,
): Promise<Awaited<ReturnType<ReadReports>>> {
  return new Promise((resolve, reject) => {
    const onAbort = () => finish(() => reject(new ReadAbortedError(source)));
    const timer = setTimeout(
      () => finish(() => reject(new Error(`reading took longer than ${Math.round(deadlineMs / 1000)} s`))),
      deadlineMs,
    );
    let settled = false;
    function finish(settle: () => void) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/** A store failure is not bad input: it stops the batch (nothing may be acknowledged after it). */
export class StoreWriteError extends Error {
  constructor(
    readonly source: string,
    cause: unknown,
  ) {
    super(`${source}: the store refused a report: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'StoreWriteError';
  }
}

/** An input after its read, before its reports are stored. */
export interface ReadInput {
  source: string;
  reports: Report[];
  /** what could not be read (the rest of the input is still stored) */
  errors: IngestError[];
}

/**
 * The read of one input, bounded by the deadline and the stop signal. Never throws for bad input
 * (what could not be read is in `errors`); throws ReadAbortedError when stopped.
 */
export async function readInput(input: IngestInput, deps: Omit<IngestDeps, 'store'>): Promise<ReadInput> {
  const read = deps.read ?? readMerged;
  const observer = deps.observer;
  let parsed: Awaited<ReturnType<ReadReports>>;
  try {
    parsed = await boundedRead(
      Promise.resolve().then(() =>
        read(input.bytes, {
          source: input.source,
          ...(deps.maxBytes ? { maxBytes: deps.maxBytes } : {}),
          ...(input.path !== undefined ? { path: input.path } : {}),
        }),
      ),
      input.source,
      deps.readDeadlineMs ?? DEFAULT_READ_DEADLINE_MS,
      deps.signal,
    );
  } catch (error) {
    if (error instanceof ReadAbortedError) throw error;
    // the reader promises not to throw on bad input; if it does anyway, the batch still goes on
    observer?.readerError('reader-failure');
    return {
      source: input.source,
      reports: [],
      errors: [
        {
          source: input.source,
          message: `could not be read: ${error instanceof Error ? error.message : String(error)}`,
          code: 'reader-failure',
        },
      ],
    };
  }
  const errors: IngestError[] = parsed.errors.map((error) => {
    observer?.readerError(error.code ?? 'unreadable');
    const source = error.source ?? input.source;
    // the reader's messages start with the source; keep only the cause (the source is beside it)
    const message = error.message.startsWith(`${source}: `) ? error.message.slice(source.length + 2) : error.message;
    return { source, message, code: error.code ?? 'unreadable' };
  });
  if (parsed.reports.length === 0 && errors.length === 0) {
    observer?.readerError('no-report');
    errors.push({ source: input.source, message: 'no DMARC, failure or SMTP TLS report found', code: 'no-report' });
  }
  return { source: input.source, reports: parsed.reports, errors };
}

/** The store's dedupe key of a report, or null when the report is too broken to have one. */
export function dedupeKey(report: Report): string | null {
  try {
    return reportKey(report);
  } catch {
    return null;
  }
}

/**
 * Stores the reports of a read input. Reports the store refuses as invalid are returned as errors;
 * any other store failure throws StoreWriteError (the caller must not acknowledge the input).
 * `stored`: keys a batched lookup (storedReports) found stored already; they count as duplicates.
 */
export async function storeInput(
  read: ReadInput,
  deps: Pick<IngestDeps, 'store' | 'now' | 'onReport' | 'observer'>,
  stored?: ReadonlySet<string>,
): Promise<InputResult> {
  const observer = deps.observer;
  const source = read.source;
  const result: InputResult = { source, new: 0, duplicates: 0, expired: 0, reports: 0, errors: [...read.errors] };
  for (const report of read.reports) {
    let outcome: IngestOutcome;
    const key = stored?.size ? dedupeKey(report) : null;
    if (key !== null && stored?.has(key)) {
      outcome = 'duplicate';
    } else {
      try {
        outcome = await deps.store.ingest(report, source, deps.now?.());
      } catch (error) {
        // a report the store cannot place is bad input: named, skipped, the rest goes on
        if (error instanceof InvalidReportError) {
          observer?.readerError('invalid-report');
          result.errors.push({ source, message: error.message, code: 'invalid-report' });
          continue;
        }
        throw new StoreWriteError(source, error);
      }
    }
    result.reports += 1;
    observer?.reportIngested(report.kind, outcome);
    if (outcome === 'new') {
      result.new += 1;
      deps.onReport?.(report, { source, outcome, reportKey: reportKey(report) });
    } else if (outcome === 'expired') {
      result.expired += 1;
    } else {
      result.duplicates += 1;
    }
  }
  return result;
}

/**
 * Reads one input and stores its reports. Read errors and reports the store refuses as invalid are
 * returned; any other store failure throws StoreWriteError (the caller must not acknowledge the input).
 */
export async function ingestInput(input: IngestInput, deps: IngestDeps): Promise<InputResult> {
  const read = await readInput(input, deps);
  let stored: Set<string> | undefined;
  if (deps.store.storedReports && read.reports.length > 1) {
    const keys = read.reports.map(dedupeKey).filter((key): key is string => key !== null);
    try {
      stored = await deps.store.storedReports(keys, read.reports);
    } catch (error) {
      throw new StoreWriteError(input.source, error);
    }
  }
  return storeInput(read, deps, stored);
}

/** Running totals for the summary line. */
export class IngestTotals {
  inputs = 0;
  new = 0;
  duplicates = 0;
  expired = 0;
  /** inputs that held no report at all */
  emptyInputs = 0;
  readonly errors: IngestError[] = [];

  add(result: InputResult): void {
    this.inputs += 1;
    this.new += result.new;
    this.duplicates += result.duplicates;
    this.expired += result.expired;
    if (result.reports === 0) this.emptyInputs += 1;
    this.errors.push(...result.errors);
  }

  summaryLine(): string {
    return summaryLine(this);
  }
}

export function summaryLine(totals: { new: number; duplicates: number; errors: readonly unknown[] }): string {
  // a fixed wording (scripts may match it), so no singular forms
  return `ingested ${totals.new} reports (${totals.duplicates} duplicates, ${totals.errors.length} errors)`;
}
