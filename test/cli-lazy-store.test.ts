// The store `ask` answers from: opened on first use, and the day summaries a command reads are
// read from the real store once, until the command stores or prunes reports.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOnFirstUse } from '../src/cli/lazy-store.ts';
import { exampleMonth } from '../src/generate/index.ts';
import { openStore } from '../src/store/index.ts';
import type { ReportStore } from '../src/store/types.ts';

const domain = 'example.com';
const endDay = '2026-01-31';
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lazy-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The real SQLite store, with its summary reads counted (and the first `failing` of them refused). */
async function counted(path: string, failing = 0): Promise<{ store: ReportStore; reads: () => number }> {
  const real = await openStore(`sqlite://${path}`);
  let reads = 0;
  const store: ReportStore = Object.create(real) as ReportStore;
  store.summaries = async (...args) => {
    reads++;
    if (reads <= failing) throw new Error('read failed');
    return real.summaries(...args);
  };
  return { store, reads: () => reads };
}

describe('openOnFirstUse', () => {
  it('opens nothing until asked, then reads a window once per command until reports are stored', async () => {
    const path = join(dir, 'store.sqlite');
    let reads = () => 0;
    const lazy = openOnFirstUse(async () => {
      const opened = await counted(path);
      reads = opened.reads;
      return opened.store;
    });
    expect(existsSync(path)).toBe(false);
    const { reports } = exampleMonth({ domain, endDay, days: 10, seed: 3 });
    const [first, ...rest] = reports;
    await lazy.ingest(first!, 'generated', new Date(Date.parse(first!.end) + 3_600_000));
    await lazy.flush();
    const window = [domain, '2026-01-01', endDay] as const;
    const before = await lazy.summaries(...window);
    expect(await lazy.summaries(...window)).toBe(before);
    expect(reads()).toBe(1);
    // another window is its own read
    await lazy.summaries(null, '2026-01-01', endDay);
    expect(reads()).toBe(2);

    for (const report of rest) await lazy.ingest(report, 'generated', new Date(Date.parse(report.end) + 3_600_000));
    await lazy.flush();
    const after = await lazy.summaries(...window);
    expect(reads()).toBe(3);
    const messages = (days: typeof before) =>
      days.reduce((sum, day) => sum + day.sources.reduce((s, source) => s + source.messages, 0), 0);
    expect(messages(after)).toBeGreaterThan(messages(before));
    await lazy.close();
  });

  it('reads again after a failed read', async () => {
    const path = join(dir, 'store.sqlite');
    let reads = () => 0;
    const lazy = openOnFirstUse(async () => {
      const opened = await counted(path, 1);
      reads = opened.reads;
      return opened.store;
    });
    await expect(lazy.summaries(domain, '2026-01-01', endDay)).rejects.toThrow('read failed');
    expect(await lazy.summaries(domain, '2026-01-01', endDay)).toEqual([]);
    expect(reads()).toBe(2);
    await lazy.close();
  });
});
