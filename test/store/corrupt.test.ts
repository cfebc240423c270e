// A store file that is not what it should be: cut to zero bytes, its header overwritten, pages in
// the middle overwritten, or a disk that fills up during ingest. Each is named with the way out,
// and no command crashes with a stack trace.

import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { checkStore, type DoctorDeps } from '../../src/doctor/checks.ts';
import { reportMailBacklog } from '../../src/generate/index.ts';
import { openStore } from '../../src/store/index.ts';
import { runCli } from '../ingest/run-cli.ts';
import { aggregate, record } from './factories.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-corrupt-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function goodStore(path: string, reports = 400): Promise<void> {
  const store = await openStore(`sqlite://${path}`);
  for (let index = 0; index < reports; index++)
    await store.ingest(
      aggregate({
        reportId: `r${index}`,
        begin: '2024-03-10T00:00:00Z',
        end: '2024-03-10T23:59:59Z',
        records: Array.from({ length: 20 }, (_, n) => record(`10.${index % 200}.${n}.1`, n + 1)),
      }),
      'test',
    );
  await store.close();
  // fold the WAL into the file, so that overwriting the file hits the data
  execFileSync('sqlite3', [path, 'PRAGMA wal_checkpoint(TRUNCATE);']);
}

function doctorDeps(): DoctorDeps {
  return { openStore: (url: string) => openStore(url), now: () => new Date() } as unknown as DoctorDeps;
}

describe('a damaged SQLite store', () => {
  it('refuses a zero-byte file and names it with the sqlite3 .recover advice (store, doctor and ingest)', async () => {
    const path = join(dir, 'empty.sqlite');
    writeFileSync(path, '');
    await expect(openStore(`sqlite://${path}`)).rejects.toThrow(
      /is empty \(0 bytes\).*sqlite3 '.*empty\.sqlite' \.recover/,
    );
    // the file was not turned into a fresh database
    expect(statSync(path).size).toBe(0);

    const result = await checkStore(loadConfig({ DMARC_STORE: `sqlite://${path}` }), doctorDeps());
    expect(result.status).toBe('fail');
    expect(result.detail).toContain('is empty (0 bytes)');

    const cli = await runCli(['ingest', 'test/fixtures/corpus/extract_report/nice-input.xml'], {
      DMARC_STORE: `sqlite://${path}`,
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/empty\.sqlite is empty \(0 bytes\).*\.recover/);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(statSync(path).size).toBe(0);
  });

  it('refuses a file whose header was overwritten', async () => {
    const path = join(dir, 'header.sqlite');
    await goodStore(path, 20);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from('garbage garbage garbage'), 0, 23, 0);
    closeSync(fd);
    await expect(openStore(`sqlite://${path}`)).rejects.toThrow(/is not an SQLite database.*\.recover/);
  });

  it('finds pages overwritten in the middle: doctor runs PRAGMA quick_check and names the fix', async () => {
    const path = join(dir, 'middle.sqlite');
    await goodStore(path);
    const intact = join(dir, 'intact.sqlite');
    copyFileSync(path, intact);
    const ok = await checkStore(loadConfig({ DMARC_STORE: `sqlite://${intact}` }), doctorDeps());
    expect(ok).toMatchObject({ status: 'ok' });
    expect(ok.detail).toContain('PRAGMA quick_check: ok');

    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    const garbage = Buffer.alloc(64 * 1024, 0xa5);
    writeSync(fd, garbage, 0, garbage.length, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    const result = await checkStore(loadConfig({ DMARC_STORE: `sqlite://${path}` }), doctorDeps());
    expect(result.status).toBe('fail');
    expect(`${result.detail} ${result.fix}`).toMatch(/quick_check|damaged/);
    expect(`${result.detail} ${result.fix}`).toContain('.recover');
  });
});

describe('a disk that fills up during ingest', () => {
  const mount = join(tmpdir(), `dmarc-full-${process.pid}`);
  let mounted = false;
  beforeAll(() => {
    mkdirSync(mount, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
      mounted = true;
    } catch {
      mounted = false;
    }
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  it('exits 1 with the right count and no uncaught exception', async (context) => {
    if (!mounted) context.skip();
    const folder = mkdtempSync(join(tmpdir(), 'dmarc-full-backlog-'));
    let reports = 0;
    for (const mail of reportMailBacklog({ seed: 'disk-full', count: 120, minRecords: 50, maxRecords: 120 })) {
      writeFileSync(join(folder, mail.name), mail.raw);
      reports += mail.reports;
    }
    const url = `sqlite://${join(mount, 'store.sqlite')}`;
    const result = await runCli(['ingest', folder], { DMARC_STORE: url });
    rmSync(folder, { recursive: true, force: true });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SQLITE_FULL|full/i);
    expect(result.stderr).not.toMatch(/\n\s+at |Uncaught|unhandled/i);
    // the count said is what the store holds
    const said = Number(/ingested (\d+) reports/.exec(result.stdout)?.[1]);
    expect(said).toBeLessThan(reports);
    const store = await openStore(url);
    const stored = (await store.ingestedSince('1970-01-01T00:00:00.000Z')).length;
    await store.close().catch(() => undefined);
    expect(said).toBe(stored);
  });
});
