// The reader's entry point for the bot: every input is read in a worker thread, under a deadline
// and a heap limit. mailparser can wait forever on some mails and a big XML parse holds the thread
// for seconds; in the worker neither blocks the main thread's timers (the writer lease) or its
// SIGTERM handling, and a worker past its deadline or heap is terminated and replaced.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { stat } from 'node:fs/promises';
import type { FailureReport, Report, TlsReport } from '../model.ts';
import type { MergedAggregateReport } from '../store/merge.ts';
import { ReportReadError, type ReadErrorCode } from './errors.ts';
import type { ReadOptions, ReadOutcome } from './index.ts';

export interface BoundedReadOptions extends Omit<ReadOptions, 'now'> {
  /** longest one input may take to read, ms; default 10 s and 1 s more per MB of input */
  deadlineMs?: number;
  /**
   * heap of the reader's worker, MB; default 512, at least 128 (a backstop: the size caps bound
   * memory first; a worker that hits its heap limit while Node tears it down can abort the process)
   */
  maxMemoryMb?: number;
  /** the clock dates are checked against; default the current time */
  now?: Date;
}

// mailparser decodes a 30 MB mail in about 20 s on a busy two-core machine: the deadline grows with
// the input, so big honest reports pass and a small mail that never settles is stopped soon
export function defaultDeadlineMs(bytes: number): number {
  return 10_000 + Math.ceil(bytes / (1024 * 1024)) * 1_000;
}
export const defaultMaxMemoryMb = 512;
// loading tsx, mailparser and fast-xml-parser in a fresh thread; not counted in an input's deadline
const startupTimeoutMs = 60_000;

/** One input for the worker. */
export interface WorkerRequest {
  id: number;
  /** the input's bytes; empty when `path` is given */
  bytes: Uint8Array;
  /** a file the worker reads itself (as a stream where it can) */
  path?: string;
  /** merge each aggregate report's records into the store's rows as they are read (MergedAggregateReport) */
  merge: boolean;
  options: Omit<ReadOptions, 'now'>;
  nowMs: number;
  /** send the reports back as JSON text instead of objects */
  json: boolean;
}

export interface WorkerReply {
  id: number;
  reports: Report[];
  /** with `json`: each report as JSON.stringify writes it */
  reportsJson: string[];
  errors: Array<{ code: ReadErrorCode; source: string; message: string }>;
}

/** What a read gives with the reports as JSON text (what `parse --json` prints). */
export interface JsonReadOutcome {
  reportsJson: string[];
  errors: ReportReadError[];
}

interface Job {
  request: WorkerRequest;
  deadlineMs: number;
  maxMemoryMb: number;
  resolve: (outcome: ReadOutcome & JsonReadOutcome) => void;
}

/**
 * Reads the reports of one input (file, mbox message, IMAP message) in the reader's worker. Never
 * throws for bad input: a bound that is exceeded comes back as a ReportReadError with code
 * `deadline` or `memory-limit`, like every other refusal.
 */
export function readReportsBounded(bytes: Uint8Array, options: BoundedReadOptions): Promise<ReadOutcome> {
  // as JSON text: JSON.parse here costs about half of what a structured clone of the report's
  // record objects costs (the reports are plain JSON data: the store keeps them as JSON)
  return read(bytes, options, true).then(({ reportsJson, errors }) => ({
    reports: reportsJson.map((text) => JSON.parse(text) as Report),
    errors,
  }));
}

/** A file to read, named instead of read into memory: the worker reads it itself. */
export interface FileInput {
  path: string;
  /** its size, for the default deadline (read from the file when absent) */
  size?: number;
}

/**
 * As readReportsBounded, with each aggregate report merged as it is read: its `records` are empty
 * and `merged` holds the store's rows (src/store/merge.ts), made in the worker batch by batch. A
 * file is read by the worker, as a stream where it can: then neither the file, nor its text, nor
 * its records are ever held whole, and what crosses back is one row per source IP and day.
 */
export async function readReportsMerged(
  input: Uint8Array | FileInput,
  options: BoundedReadOptions,
): Promise<ReadOutcome & { reports: Array<MergedAggregateReport | FailureReport | TlsReport> }> {
  let bytes: Uint8Array;
  let path: string | undefined;
  let size: number;
  if (input instanceof Uint8Array) {
    bytes = input;
    size = input.byteLength;
  } else {
    bytes = new Uint8Array(0);
    path = input.path;
    try {
      size = input.size ?? (await stat(input.path)).size;
    } catch (error) {
      const { errors } = refused('not-a-report', options.source, `cannot be read (${describe(error)})`);
      return { reports: [], errors };
    }
  }
  // as JSON text, as readReportsBounded: the merged rows are many small objects, and JSON.parse
  // here costs about half of what the structured clone's copy of them costs this thread
  const { reportsJson, errors } = await read(bytes, options, true, { merge: true, path, size });
  return {
    reports: reportsJson.map((text) => JSON.parse(text) as MergedAggregateReport | FailureReport | TlsReport),
    errors,
  };
}

/**
 * As readReportsBounded, with each report as its JSON text: made in the worker, it crosses to this
 * thread as one string instead of a copy of every record object (the bulk of a big report's read).
 */
export function readReportsBoundedJson(bytes: Uint8Array, options: BoundedReadOptions): Promise<JsonReadOutcome> {
  return read(bytes, options, true).then(({ reportsJson, errors }) => ({ reportsJson, errors }));
}

/**
 * Starts the reader's worker ahead of the first read, so its start overlaps the caller's own; a
 * caller about to read many inputs side by side starts up to `threads` of them (readerThreads at most).
 */
export function warmBoundedReader(threads = 1): void {
  for (const reader of readers.slice(0, Math.max(1, threads))) reader.warm(defaultMaxMemoryMb);
}

function read(
  bytes: Uint8Array,
  options: BoundedReadOptions,
  json: boolean,
  file: { merge: boolean; path?: string | undefined; size?: number } = { merge: false },
): Promise<ReadOutcome & JsonReadOutcome> {
  const { deadlineMs, maxMemoryMb, now, ...readOptions } = options;
  return new Promise((resolve) => {
    leastBusy().enqueue({
      request: {
        id: 0,
        // a copy of just this view, so the transfer does not take a shared pool buffer along
        bytes: new Uint8Array(bytes),
        ...(file.path !== undefined ? { path: file.path } : {}),
        merge: file.merge,
        options: readOptions,
        nowMs: (now ?? new Date()).getTime(),
        json,
      },
      deadlineMs: deadlineMs ?? defaultDeadlineMs(file.size ?? bytes.byteLength),
      maxMemoryMb: Math.max(128, maxMemoryMb ?? defaultMaxMemoryMb),
      resolve,
    });
  });
}

/** Stops the reader's worker (it is started again by the next read). */
export function closeBoundedReader(): Promise<void> {
  return Promise.all(readers.map((reader) => reader.close())).then(() => undefined);
}

class IsolatedReader {
  private readonly queue: Job[] = [];
  private worker: Worker | null = null;
  private workerMemoryMb = 0;
  private ready: Promise<void> | null = null;
  private running = false;
  private nextId = 1;

  /** inputs queued or being read */
  get load(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  enqueue(job: Job): void {
    job.request.id = this.nextId++;
    this.queue.push(job);
    if (!this.running) void this.drain();
  }

  warm(maxMemoryMb: number): void {
    if (this.running || this.worker) return;
    this.start(maxMemoryMb).then(
      // idle until the first read: a warm worker must not keep a finished process alive
      (worker) => {
        if (!this.running) worker.unref();
      },
      () => this.close(),
    );
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.ready = null;
    if (worker) await worker.terminate();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) job.resolve(await this.run(job));
    } finally {
      this.running = false;
      // idle: the worker must not keep a finished CLI alive
      this.worker?.unref();
    }
  }

  private async run(job: Job): Promise<ReadOutcome & JsonReadOutcome> {
    const { source } = job.request.options;
    let worker: Worker;
    try {
      worker = await this.start(job.maxMemoryMb);
    } catch (error) {
      await this.close();
      return refused('deadline', source, `the reader could not start (${describe(error)})`);
    }
    worker.ref();
    return new Promise<ReadOutcome & JsonReadOutcome>((resolve) => {
      const finish = (outcome: ReadOutcome & JsonReadOutcome, stop: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (stop) void this.close().then(() => resolve(outcome));
        else resolve(outcome);
      };
      const onMessage = (reply: WorkerReply | 'ready') => {
        if (reply === 'ready' || reply.id !== job.request.id) return;
        finish({ reports: reply.reports, reportsJson: reply.reportsJson, errors: reply.errors.map(revive) }, false);
      };
      const onError = (error: Error & { code?: string }) =>
        finish(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? refused('memory-limit', source, `reading it needs more than the reader's ${job.maxMemoryMb} MB heap`)
            : refused('bad-mail', source, `the reader failed (${describe(error)})`),
          true,
        );
      const onExit = (code: number) =>
        finish(refused('memory-limit', source, `the reader stopped while reading it (exit code ${code})`), true);
      const timer = setTimeout(
        () => finish(refused('deadline', source, `reading it took longer than ${job.deadlineMs} ms; stopped`), true),
        job.deadlineMs,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(job.request, [job.request.bytes.buffer as ArrayBuffer]);
    });
  }

  private start(maxMemoryMb: number): Promise<Worker> {
    if (this.worker && this.ready && this.workerMemoryMb === maxMemoryMb) {
      const worker = this.worker;
      return this.ready.then(() => worker);
    }
    if (this.worker) void this.close();
    const worker = new Worker(workerEntry(), {
      // the process runs with a 4 MB semi-space to stay small while idle; a parse churns through short-lived
      // records, and a young generation of 16 MB collects them at a fraction of the cost
      resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb, maxYoungGenerationSizeMb: 16 },
    });
    this.worker = worker;
    this.workerMemoryMb = maxMemoryMb;
    // an error or exit between inputs must not be an uncaught 'error' event: forget the worker instead
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.ready = null;
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${startupTimeoutMs} ms`)), startupTimeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (message: unknown) => {
        if (message !== 'ready') return;
        cleanup();
        resolve();
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`exited with code ${code}`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
    return this.ready.then(() => worker);
  }
}

/**
 * Worker threads that read at once for `cores` cores: one fewer than the cores, at least one, at
 * most two. A caller with several inputs in hand (the IMAP pass reads ahead) has them parsed side
 * by side; but the main thread stores what they read, V8 compiles and collects on threads of its
 * own, and every worker compiles the reader again, so on two cores one worker reads with less CPU
 * time a message and less memory at the same speed.
 */
export function readerThreadsFor(cores: number): number {
  return Math.max(1, Math.min(2, cores - 1));
}

// a worker starts on its first input: a caller that reads one input at a time only ever starts one
export const readerThreads = readerThreadsFor(availableParallelism());
const readers = Array.from({ length: readerThreads }, () => new IsolatedReader());

function leastBusy(): IsolatedReader {
  return readers.reduce((best, reader) => (reader.load < best.load ? reader : best));
}

function revive(error: WorkerReply['errors'][number]): ReportReadError {
  const prefix = `${error.source}: `;
  const cause = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new ReportReadError(error.code, error.source, cause);
}

function refused(code: ReadErrorCode, source: string, cause: string): ReadOutcome & JsonReadOutcome {
  return { reports: [], reportsJson: [], errors: [new ReportReadError(code, source, cause)] };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The built files start the compiled worker; the sources need the tsx loader registered first. */
function workerEntry(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./worker-entry.mjs', import.meta.url)
    : new URL('./worker.js', import.meta.url);
}
