// `dmarc-bot backup FILE` copies a SQLite store while a writer keeps ingesting: the copy opens,
// and it holds a consistent snapshot (exactly the figures of the reports it contains).

import { execFile } from 'node:child_process';
import { mkdtempSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { backupSqlite } from '../../src/backup/sqlite.ts';
import { openStore, reportKey } from '../../src/store/index.ts';
import { generateReports } from '../store/factories.ts';
import { storeTotals } from '../ingest/totals.ts';

const execFileAsync = promisify(execFile);

async function cli(args: string[], env: Record<string, string>, cwd: string) {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [join(process.cwd(), 'src/bin.mjs'), 'backup', ...args],
      {
        cwd,
        env: { PATH: process.env.PATH, HOME: cwd, DMARC_DEMO: '0', ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('backup', () => {
  it(
    'copies a store that a writer is ingesting into; the copy opens with the figures of its reports',
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dmarc-backup-'));
      const path = join(dir, 'live.sqlite');
      const store = await openStore(`sqlite://${path}`, { limits: { maxPendingReports: 5 } });
      const reports = generateReports(300, 7);
      let writing = true;
      const writer = (async () => {
        for (const report of reports) await store.ingest(report, 'generated');
        await store.flush();
        writing = false;
      })();
      // wait until some reports are durable, then copy while the writer goes on
      while ((await store.ingestedSince('1970-01-01T00:00:00.000Z')).length < 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const target = join(dir, 'copy.sqlite');
      const { keys } = await backupSqlite(path, target);
      const wasWriting = writing;
      await writer;
      await store.close();
      expect(wasWriting).toBe(true);
      expect(keys).toBeGreaterThan(0);
      expect(statSync(target).mode & 0o777).toBe(0o600);

      const copy = await openStore(`sqlite://${target}`);
      const copied = await storeTotals(copy);
      await copy.close();
      expect(copied.reports.length).toBeGreaterThan(0);
      expect(copied.reports.length).toBeLessThan(reports.length);
      // the same reports ingested into an empty store give exactly the copy's figures
      const inCopy = new Set(copied.reports);
      const replay = await openStore(`sqlite://${join(dir, 'replay.sqlite')}`);
      for (const report of reports) if (inCopy.has(reportKey(report))) await replay.ingest(report, 'generated');
      await replay.flush();
      expect(await storeTotals(replay)).toEqual(copied);
      await replay.close();
    },
  );

  it('the command: writes a new file, refuses an existing one, Redis and PostgreSQL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmarc-backup-cli-'));
    const url = `sqlite://${join(dir, 'store.sqlite')}`;
    const store = await openStore(url);
    for (const report of generateReports(5, 3)) await store.ingest(report, 'generated');
    await store.close();

    const done = await cli(['copy.sqlite'], { DMARC_STORE: url }, dir);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /^backed up .*store\.sqlite to copy\.sqlite \(\d+ keys; the copy opens and is intact\)\n$/,
    );
    const copy = await openStore(`sqlite://${join(dir, 'copy.sqlite')}`);
    expect((await copy.ingestedSince('1970-01-01T00:00:00.000Z')).length).toBe(5);
    await copy.close();

    writeFileSync(join(dir, 'taken.sqlite'), 'keep me');
    const taken = await cli(['taken.sqlite'], { DMARC_STORE: url }, dir);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe('dmarc-bot backup: taken.sqlite exists: choose a new file name\n');

    const redis = await cli(['x.rdb'], { DMARC_STORE: 'redis://:pw123456@127.0.0.1:1' }, dir);
    expect(redis.code).toBe(1);
    expect(redis.stderr).toContain('redis-cli');
    expect(redis.stderr).not.toContain('pw123456');
    const postgres = await cli(['x.dump'], { DMARC_STORE: 'postgres://u:pw@127.0.0.1:1/dmarc' }, dir);
    expect(postgres.code).toBe(1);
    expect(postgres.stderr).toContain('pg_dump');
    expect(existsSync(join(dir, 'x.rdb')) || existsSync(join(dir, 'x.dump'))).toBe(false);

    expect((await cli([], { DMARC_STORE: url }, dir)).code).toBe(2);
    expect((await cli(['a', 'b'], { DMARC_STORE: url }, dir)).code).toBe(2);
  });
});
