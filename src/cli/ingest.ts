// `dmarc-bot ingest PATH...` and `dmarc-bot ingest --imap`: store reports from files and folders
// or one pass over the IMAP mailbox. The summary goes to stdout, errors and logs to stderr.

import { readdir, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError, imapConfigured, mailboxesOf, type Config } from '../config.ts';
import { loadSettings } from './settings.ts';
import { pruneOnce } from '../schedule/retention.ts';
import type { Lease } from '../lease/index.ts';
import { createLogger, type Logger } from '../log.ts';
import type { ReportStore } from '../store/types.ts';
// the error class only: the store itself is loaded when a run needs it
import { LeaseLostError } from '../store/backend.ts';
import { listInputs } from '../sources/files.ts';
import {
  IngestTotals,
  ReadAbortedError,
  StoreWriteError,
  ingestInput,
  summaryLine,
  type IngestError,
} from '../ingest/pipeline.ts';
import { createProgress } from '../ingest/progress.ts';
import { EXIT_FAILURE, helpOption, parseCommandArgs, usageError } from './args.ts';

const help = `Usage:
  dmarc-bot ingest PATH...     store the reports in files and folders (.eml .xml .gz .zip .json, mbox)
  dmarc-bot ingest --imap      one pass over the IMAP mailbox (IMAP_* settings), then exit

Settings come from the environment and .env: DMARC_STORE, MAX_ATTACHMENT_MB, IMAP_*.
Exit status: 0 stored; 1 when any input held no report, the mailbox could not be processed or
a setting is wrong; 2 for a usage error; 130 when interrupted (what was read so far is stored).`;

/** Files below the paths, counted up front so that the progress bar can show an ETA. */
async function countFiles(paths: string[]): Promise<number> {
  let count = 0;
  const walk = async (path: string): Promise<void> => {
    const info = await stat(path).catch(() => null);
    if (!info) return;
    if (!info.isDirectory()) {
      count += 1;
      return;
    }
    for (const entry of await readdir(path)) await walk(join(path, entry));
  };
  for (const path of paths) await walk(path);
  return count;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorLines(errors: IngestError[]): string[] {
  return errors.map((error) => `error: ${error.source}: ${error.message}`);
}

async function ingestPaths(
  paths: string[],
  store: ReportStore,
  config: Config,
  logger: Logger,
  signal: AbortSignal,
  onLeaseLost: () => void,
): Promise<{ totals: IngestTotals; ok: boolean }> {
  const totals = new IngestTotals();
  const totalFiles = await countFiles(paths);
  const progress = createProgress({ label: 'ingest', logger });
  let filesDone = 0;
  let currentFile: string | null = null;
  let ok = true;
  try {
    // a path that cannot be listed or read (missing, unreadable) is bad input: name it and go on
    const onError = (source: string, error: Error) => {
      const failure = { source, message: error.message };
      totals.add({ source, new: 0, duplicates: 0, expired: 0, reports: 0, errors: [failure] });
      for (const line of errorLines([failure])) progress.note(line);
    };
    for await (const input of listInputs(paths, { onError, byPath: true })) {
      // mbox messages are `file#N`: the bar counts files, the totals count inputs
      const file = input.source.replace(/#\d+$/, '');
      if (file !== currentFile) {
        if (currentFile !== null) filesDone += 1;
        currentFile = file;
      }
      const result = await ingestInput(input, { store, maxBytes: config.MAX_ATTACHMENT_MB * 1024 * 1024, signal });
      totals.add(result);
      for (const line of errorLines(result.errors)) progress.note(line);
      progress.update(filesDone, Math.max(totalFiles, filesDone));
      if (signal.aborted) break;
    }
    if (currentFile !== null) filesDone += 1;
    progress.update(filesDone, Math.max(totalFiles, filesDone));
    if (totals.inputs === 0) process.stderr.write(`error: no input files found in ${paths.join(', ')}\n`);
  } catch (error) {
    ok = false;
    if (error instanceof StoreWriteError && error.cause instanceof LeaseLostError) onLeaseLost();
    // stopped (Ctrl-C / SIGTERM) while a file was being read: that file is read again next time
    else if (error instanceof ReadAbortedError) ok = true;
    else process.stderr.write(`error: ${messageOf(error)}\n`);
  } finally {
    progress.stop();
  }
  return { totals, ok: ok && totals.emptyInputs === 0 && totals.inputs > 0 };
}

async function ingestImap(store: ReportStore, config: Config, logger: Logger, signal: AbortSignal): Promise<boolean> {
  // imapflow and mailparser are loaded only for a mailbox pass
  const { runImapPasses } = await import('../sources/imap.ts');
  const accounts = mailboxesOf(config);
  const named = accounts.length > 1 || accounts[0]?.IMAP_ACCOUNT !== 'default';
  let progress = createProgress({ label: 'mailbox', logger });
  let passes;
  try {
    passes = await runImapPasses(accounts, store, {
      logger,
      signal,
      onAccount: (account) => {
        progress.stop();
        progress = createProgress({ label: named ? `mailbox ${account.IMAP_ACCOUNT}` : 'mailbox', logger });
      },
      onProgress: ({ done, total, result }) => {
        for (const line of errorLines(result.errors)) progress.note(line);
        progress.update(done, total);
      },
    });
  } catch (error) {
    progress.stop();
    process.stderr.write(`error: the mailboxes could not be processed: ${messageOf(error)}\n`);
    return false;
  }
  progress.stop();
  let ok = true;
  for (const pass of passes) {
    const label = named
      ? `mailbox ${pass.account} (${pass.config.IMAP_MAILBOX})`
      : `mailbox ${pass.config.IMAP_MAILBOX}`;
    if (pass.ok) {
      const { summary } = pass;
      process.stdout.write(`${summaryLine(summary)}\n`);
      process.stdout.write(
        `${label}: ${summary.messages} messages, ${summary.processed} processed, ${summary.invalid} without a report\n`,
      );
    } else {
      ok = false;
      process.stderr.write(
        `error: the ${named ? `mailbox of account ${pass.account}` : `mailbox ${pass.config.IMAP_MAILBOX}`} on ${pass.config.IMAP_HOST} could not be processed: ${pass.error}\n`,
      );
    }
  }
  return ok;
}

/** how long `ingest` waits for the store's writer lease (a killed bot's lease expires in 15 s) */
const LEASE_WAIT_MS = 30_000;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('ingest', help, () =>
    parseArgs({ args: argv, options: { ...helpOption, imap: { type: 'boolean' } }, allowPositionals: true }),
  );
  if (typeof parsed === 'number') return parsed;
  const imap = parsed.values.imap ?? false;
  const paths = parsed.positionals;
  if (!imap && paths.length === 0) return usageError('ingest', 'give at least one PATH, or --imap');

  let config: Config;
  try {
    config = loadSettings();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
  // refused before the store is opened: a refusal creates no store and prunes nothing
  if (imap && !imapConfigured(config)) {
    process.stderr.write('error: --imap needs IMAP_HOST, IMAP_USER and IMAP_PASSWORD\n');
    return EXIT_FAILURE;
  }
  const logger = createLogger(config.LOG_LEVEL);
  // the store drivers are loaded once the command line and the settings are known to be good
  const [{ acquireWriterLease, openLease }, { openStore }] = await Promise.all([
    import('../lease/index.ts'),
    import('../store/index.ts'),
  ]);

  // One writer per store: a running bot (or another ingest) holds the lease; wait for it a while.
  // A short lease, so that an ingest killed outright blocks the next writer for seconds only.
  let lease: Lease;
  try {
    lease = await openLease(config.DMARC_STORE, { holder: `ingest:${hostname()}:${process.pid}`, ttlMs: 6_000 });
  } catch (error) {
    process.stderr.write(
      `error: the store could not be opened: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  const writer = await acquireWriterLease(lease, {
    waitMs: LEASE_WAIT_MS,
    onWait: () =>
      process.stderr.write(
        `waiting up to ${LEASE_WAIT_MS / 1000} s for another dmarc-bot instance to release the store...\n`,
      ),
  });
  if (!writer) {
    await lease.close();
    process.stderr.write(
      'error: another dmarc-bot instance is writing to this store (a running bot ingests the mailbox itself); stop it first, or use /dmarc commands\n',
    );
    return 1;
  }
  let store: ReportStore;
  try {
    // Every write checks, in its own transaction, that this process still holds the lease.
    store = await openStore(config.DMARC_STORE, {
      logger,
      connectTimeoutMs: config.STORE_CONNECT_TIMEOUT_MS,
      fence: { name: lease.name, holder: writer.token, ttlMs: lease.ttlMs },
    });
  } catch (error) {
    process.stderr.write(`error: the store could not be opened: ${messageOf(error)}\n`);
    await writer.release();
    await lease.close();
    return 1;
  }

  // Ctrl-C / SIGTERM: finish the input in hand, flush, close. Losing the lease stops the same way.
  // A second signal ends the process at once (what was flushed is durable; the rest is read again).
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let leaseLost = false;
  const sayLeaseLost = () => {
    if (leaseLost) return;
    leaseLost = true;
    process.stderr.write(
      "error: lost the store's writer lease to another writer; stopped, and wrote nothing after losing it\n",
    );
  };
  writer.lost.addEventListener('abort', () => {
    sayLeaseLost();
    stop.abort();
  });

  let status = 0;
  let totals: IngestTotals | null = null;
  try {
    // Prune first: the cut-off it records makes reports older than RETENTION_DAYS come back as
    // 'expired' (counted, not stored), instead of being stored and deleted again.
    await pruneOnce({ store, retentionDays: config.RETENTION_DAYS, log: logger });
    if (paths.length > 0) {
      const result = await ingestPaths(paths, store, config, logger, stop.signal, sayLeaseLost);
      totals = result.totals;
      if (!result.ok) status = 1;
    }
    if (imap && !stop.signal.aborted && !(await ingestImap(store, config, logger, stop.signal))) status = 1;
  } catch (error) {
    status = 1;
    if (error instanceof LeaseLostError) sayLeaseLost();
    else process.stderr.write(`error: ${messageOf(error)}\n`);
  }
  // Written before the summary, so that the summary counts only what is stored.
  try {
    await store.flush();
  } catch (error) {
    status = 1;
    if (error instanceof LeaseLostError) sayLeaseLost();
    else process.stderr.write(`error: the store could not be written: ${messageOf(error)}\n`);
  }
  await store.close().catch((error: unknown) => {
    status = 1;
    process.stderr.write(`error: the store could not be written: ${messageOf(error)}\n`);
  });
  if (totals) {
    const unwritten = store.unwrittenReports?.() ?? 0;
    if (totals.expired > 0)
      process.stdout.write(
        `${totals.expired} reports older than RETENTION_DAYS (${config.RETENTION_DAYS} days) were skipped; to keep them, set RETENTION_DAYS=0 (or a longer period) and run ingest again\n`,
      );
    process.stdout.write(
      `${summaryLine({ new: Math.max(0, totals.new - unwritten), duplicates: totals.duplicates, errors: totals.errors })}\n`,
    );
    if (unwritten > 0)
      process.stdout.write(`${unwritten} reports could not be stored; run ingest again to store them\n`);
  }
  await writer.release().catch(() => undefined);
  await lease.close().catch(() => undefined);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return leaseLost ? 1 : stop.signal.aborted ? 130 : status;
}
