import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateXml, randomAggregateReport } from '../../src/generate/index.ts';
import { openStore } from '../../src/store/index.ts';
import { pruneOnce } from '../../src/schedule/retention.ts';

const run = promisify(execFile);
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-retention-'));
  await writeFile(
    join(dir, 'old.xml'),
    aggregateXml(randomAggregateReport({ seed: 'old', records: 5, begin: `${day(-500)}T00:00:00Z` })),
  );
  await writeFile(
    join(dir, 'recent.xml'),
    aggregateXml(randomAggregateReport({ seed: 'recent', records: 5, begin: `${day(-3)}T00:00:00Z` })),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('retention', () => {
  it('dmarc-bot ingest keeps RETENTION_DAYS: a report older than that is counted as skipped, not stored', async () => {
    const store = `sqlite://${join(dir, 'store.sqlite')}`;
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      DMARC_STORE: store,
      RETENTION_DAYS: '400',
      LOG_LEVEL: 'silent',
    };
    const files = [join(dir, 'old.xml'), join(dir, 'recent.xml')];
    const first = await run(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'ingest', ...files], {
      env,
      cwd: dir,
    });
    const lines = first.stdout.trim().split('\n');
    expect(lines).toContain(
      '1 reports older than RETENTION_DAYS (400 days) were skipped; to keep them, set RETENTION_DAYS=0 (or a longer period) and run ingest again',
    );
    // the summary stays the last line
    expect(lines.at(-1)).toBe('ingested 1 reports (0 duplicates, 0 errors)');

    const opened = await openStore(store);
    expect(await opened.days('example.com', day(-501), day(-499))).toEqual([]);
    expect((await opened.days('example.com', day(-4), day(-2))).length).toBeGreaterThan(0);
    await opened.close();

    // with RETENTION_DAYS=0 the same old report is kept
    const keep = await run(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'ingest', files[0]!], {
      env: { ...env, DMARC_STORE: `sqlite://${join(dir, 'all.sqlite')}`, RETENTION_DAYS: '0' },
      cwd: dir,
    });
    expect(keep.stdout.trim()).toBe('ingested 1 reports (0 duplicates, 0 errors)');

    // and on the store that pruned before: RETENTION_DAYS=0 lifts the earlier cut-off, as the
    // skipped line said, so the old report is imported now
    const again = await run(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'ingest', files[0]!], {
      env: { ...env, RETENTION_DAYS: '0' },
      cwd: dir,
    });
    expect(again.stdout.trim()).toBe('ingested 1 reports (0 duplicates, 0 errors)');
    const reopened = await openStore(store);
    expect((await reopened.days('example.com', day(-501), day(-499))).length).toBeGreaterThan(0);
    await reopened.close();
  });

  it('RETENTION_DAYS=0 keeps everything', async () => {
    const store = await openStore(`sqlite://${join(dir, 'keep.sqlite')}`);
    await store.ingest(randomAggregateReport({ seed: 'keep', records: 3, begin: `${day(-900)}T00:00:00Z` }), 'test');
    await store.flush();
    expect(await pruneOnce({ store, retentionDays: 0 })).toBe(0);
    expect((await store.days('example.com', day(-901), day(-899))).length).toBeGreaterThan(0);
    expect(await pruneOnce({ store, retentionDays: 400 })).toBeGreaterThan(0);
    expect(await store.days('example.com', day(-901), day(-899))).toEqual([]);
    await store.close();
  });
});
