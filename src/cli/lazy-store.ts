// A ReportStore that opens the real one on first use, so that a command which never reads the
// store (`ask help`) neither loads the store drivers nor creates a store file. It serves one
// command: the day summaries it reads are remembered until it stores or prunes reports, since a
// command's parts (`ready` and its DNS checks) read the same window again.

import type { DaySummary } from '../store/summary.ts';
import type { ReportStore } from '../store/types.ts';

export function openOnFirstUse(open: () => Promise<ReportStore>): ReportStore {
  let opening: Promise<ReportStore> | undefined;
  const store = () => (opening ??= open());
  const summaries = new Map<string, Promise<DaySummary[]>>();
  /** A write of reports: the summaries read before it may be out of date. */
  const writing = async <T>(write: (store: ReportStore) => Promise<T>): Promise<T> => {
    summaries.clear();
    try {
      return await write(await store());
    } finally {
      summaries.clear();
    }
  };
  return {
    ingest: (...args) => writing((real) => real.ingest(...args)),
    flush: async () => {
      summaries.clear();
      if (opening) await (await opening).flush();
    },
    storedReports: async (...args) => (await store()).storedReports(...args),
    domains: async () => (await store()).domains(),
    days: async (...args) => (await store()).days(...args),
    summaries: (domain, from, to) => {
      const key = JSON.stringify([domain, from, to]);
      let read = summaries.get(key);
      if (!read) {
        read = store().then((real) => real.summaries(domain, from, to));
        summaries.set(key, read);
        // a failed read is tried again next time
        read.catch(() => {
          if (summaries.get(key) === read) summaries.delete(key);
        });
      }
      return read;
    },
    ipEntries: async (...args) => (await store()).ipEntries(...args),
    failures: async (...args) => (await store()).failures(...args),
    tlsResults: async (...args) => (await store()).tlsResults(...args),
    ingestedSince: async (...args) => (await store()).ingestedSince(...args),
    report: async (...args) => (await store()).report(...args),
    marks: async () => (await store()).marks(),
    setMark: async (...args) => (await store()).setMark(...args),
    clearMark: async (...args) => (await store()).clearMark(...args),
    getState: async <T>(name: string) => (await store()).getState<T>(name),
    setState: async <T>(name: string, value: T, ttlMs?: number) => (await store()).setState<T>(name, value, ttlMs),
    prune: (...args) => writing((real) => real.prune(...args)),
    close: async () => {
      if (opening) await (await opening.catch(() => null))?.close();
    },
  };
}
