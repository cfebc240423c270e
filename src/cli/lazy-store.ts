// A ReportStore that opens the real one on first use, so that a command which never reads the
// store (`ask help`) neither loads the store drivers nor creates a store file.

import type { ReportStore } from '../store/types.ts';

export function openOnFirstUse(open: () => Promise<ReportStore>): ReportStore {
  let opening: Promise<ReportStore> | undefined;
  const store = () => (opening ??= open());
  return {
    ingest: async (...args) => (await store()).ingest(...args),
    flush: async () => {
      if (opening) await (await opening).flush();
    },
    storedReports: async (...args) => (await store()).storedReports(...args),
    domains: async () => (await store()).domains(),
    days: async (...args) => (await store()).days(...args),
    summaries: async (...args) => (await store()).summaries(...args),
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
    prune: async (...args) => (await store()).prune(...args),
    close: async () => {
      if (opening) await (await opening.catch(() => null))?.close();
    },
  };
}
