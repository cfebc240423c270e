// Reading ahead while storing: inputs are pulled from their source (an IMAP FETCH, a folder) and
// read by the reader's worker threads while earlier inputs are being stored. Storing stays in the
// inputs' order on the caller's side, one input after another, so acknowledging and counting work
// exactly as with one input at a time: an input is stored only when the caller asks for the next
// result, and the inputs read ahead of a stop are simply dropped (neither stored nor acknowledged).
// The inputs held ahead are bounded by count and by bytes, so memory stays flat.

import { readerThreads } from '../reader/bounded.ts';
import {
  StoreWriteError,
  dedupeKey,
  readInput,
  storeInput,
  type IngestDeps,
  type IngestInput,
  type InputResult,
  type ReadInput,
} from './pipeline.ts';

/** One input of a source, or one that was settled without reading (e.g. refused as too big). */
export type OverlapItem<K> = { key: K; input: IngestInput } | { key: K; result: InputResult };

export interface OverlapOptions {
  /**
   * reads running at once (default: the reader's worker threads; one for an injected reader,
   * which may run on the caller's thread)
   */
  reads?: number;
  /** inputs taken from the source ahead of the one being stored (default 16) */
  ahead?: number;
  /** bytes of inputs held ahead (default 32 MB; one input is always taken, whatever its size) */
  aheadBytes?: number;
}

const DEFAULT_AHEAD = 16;
const DEFAULT_AHEAD_BYTES = 32 * 1024 * 1024;

interface Slot<K> {
  key: K;
  bytes: number;
  input: IngestInput | null;
  /** set once the read is done (or at once for a settled item) */
  outcome: { read: ReadInput } | { result: InputResult } | { error: unknown } | null;
  settled: Promise<void>;
  settle: () => void;
  /** reports found stored by the batched lookup; null until looked up */
  stored: ReadonlySet<string> | null;
}

/**
 * Stores the items of `items` in their order and yields each one's result after it is stored.
 * Throws what the source throws (after the results of the items before it), ReadAbortedError when
 * the stop signal ends a read, and StoreWriteError when the store fails; in every case nothing
 * after that point is stored. Breaking out of the loop stops the source and drops what was read ahead.
 */
export async function* ingestOverlapped<K>(
  items: AsyncIterable<OverlapItem<K>>,
  deps: IngestDeps,
  options: OverlapOptions = {},
): AsyncGenerator<{ key: K; result: InputResult }, void, undefined> {
  const reads = Math.max(1, options.reads ?? (deps.read ? 1 : readerThreads));
  const ahead = Math.max(1, options.ahead ?? DEFAULT_AHEAD);
  const aheadBytes = options.aheadBytes ?? DEFAULT_AHEAD_BYTES;
  const window: Array<Slot<K>> = [];
  let heldBytes = 0;
  let running = 0;
  let stopped = false;
  let sourceDone = false;
  let sourceError: { error: unknown } | null = null;
  let wakeConsumer: (() => void) | null = null;
  let wakeProducer: (() => void) | null = null;
  const poke = (which: 'consumer' | 'producer') => {
    const wake = which === 'consumer' ? wakeConsumer : wakeProducer;
    if (which === 'consumer') wakeConsumer = null;
    else wakeProducer = null;
    wake?.();
  };

  /** Starts reads in window order while there is a free reader. */
  const pump = () => {
    // once stopped, what is still in the window is dropped unread
    if (stopped) return;
    for (const slot of window) {
      if (running >= reads) return;
      if (!slot.input) continue;
      const input = slot.input;
      // the slot keeps no reference to the bytes: the reader has its own copy
      slot.input = null;
      running += 1;
      readInput(input, deps)
        .then(
          (read) => (slot.outcome = { read }),
          (error: unknown) => (slot.outcome = { error }),
        )
        .finally(() => {
          running -= 1;
          slot.settle();
          poke('consumer');
          pump();
        });
    }
  };

  const producer = (async () => {
    const iterator = items[Symbol.asyncIterator]();
    try {
      while (!stopped) {
        while (!stopped && window.length > 0 && (window.length >= ahead || heldBytes >= aheadBytes))
          await new Promise<void>((resolve) => (wakeProducer = resolve));
        if (stopped) break;
        const next = await iterator.next();
        if (next.done) break;
        const item = next.value;
        let settle = () => undefined as void;
        const settled = new Promise<void>((resolve) => (settle = resolve));
        const slot: Slot<K> =
          'input' in item
            ? {
                key: item.key,
                bytes: item.input.bytes.byteLength,
                input: item.input,
                outcome: null,
                settled,
                settle,
                stored: null,
              }
            : { key: item.key, bytes: 0, input: null, outcome: { result: item.result }, settled, settle, stored: null };
        if (!('input' in item)) slot.settle();
        window.push(slot);
        heldBytes += slot.bytes;
        pump();
        poke('consumer');
      }
    } catch (error) {
      sourceError = { error };
    } finally {
      sourceDone = true;
      poke('consumer');
      if (stopped) await iterator.return?.().catch(() => undefined);
    }
  })();

  /** One batched dedupe lookup for the head and every input after it whose read is done. */
  const lookUpStored = async () => {
    const batch: Array<Slot<K>> = [];
    for (const slot of window) {
      if (!slot.outcome) break;
      if (slot.stored === null && 'read' in slot.outcome) batch.push(slot);
    }
    const reports = batch.flatMap((slot) => (slot.outcome as { read: ReadInput }).read.reports);
    const keys = reports.map(dedupeKey).filter((key): key is string => key !== null);
    // the documents the new ones touch are read in the same call, instead of one read per report
    const stored =
      keys.length > 0 && deps.store.storedReports ? await deps.store.storedReports(keys, reports) : new Set<string>();
    for (const slot of batch) slot.stored = stored;
  };

  try {
    for (;;) {
      while (window.length === 0 && !sourceDone) await new Promise<void>((resolve) => (wakeConsumer = resolve));
      const head = window[0];
      if (!head) {
        if (sourceError) throw (sourceError as { error: unknown }).error;
        return;
      }
      await head.settled;
      const outcome = head.outcome!;
      if ('read' in outcome && head.stored === null) {
        try {
          await lookUpStored();
        } catch (error) {
          throw new StoreWriteError(outcome.read.source, error);
        }
      }
      window.shift();
      heldBytes -= head.bytes;
      poke('producer');
      if ('error' in outcome) throw outcome.error;
      const result =
        'result' in outcome ? outcome.result : await storeInput(outcome.read, deps, head.stored ?? undefined);
      yield { key: head.key, result };
    }
  } finally {
    stopped = true;
    poke('producer');
    // the source is closed before the caller goes on (an IMAP FETCH must end before the next command)
    await producer;
  }
}
