// Where the test servers are looked for, and what a run does without them: a vitest run of a real
// server test, with a search path that holds no servers, skips and names the packages; with
// CI=true it fails instead.

import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findServer, missingLine, SEARCH_PATH_ENV } from '../support/servers.ts';
import { childEnv, runVitest } from './child.ts';

const scratch: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-servers-'));
  scratch.push(dir);
  return dir;
};
const saved = { PATH: process.env.PATH, search: process.env[SEARCH_PATH_ENV] };
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  process.env.PATH = saved.PATH;
  if (saved.search === undefined) delete process.env[SEARCH_PATH_ENV];
  else process.env[SEARCH_PATH_ENV] = saved.search;
});

function fakeBinaries(dir: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    writeFileSync(join(dir, name), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, name), 0o755);
  }
}

describe('finding the server binaries', () => {
  it('takes the PostgreSQL tools from beside the real postgres binary, not another version on the path', () => {
    const root = tempDir();
    const linked = join(root, 'local-bin');
    const real = join(root, 'lib', 'postgresql', '16', 'bin');
    fakeBinaries(real, ['postgres', 'initdb', 'pg_ctl', 'pg_isready', 'createdb']);
    fakeBinaries(linked, ['initdb']); // an older version's initdb, first on the path
    symlinkSync(join(real, 'postgres'), join(linked, 'postgres'));
    process.env[SEARCH_PATH_ENV] = linked;

    expect(findServer('postgres')).toEqual({
      postgres: join(linked, 'postgres'),
      initdb: join(real, 'initdb'),
      pg_ctl: join(real, 'pg_ctl'),
      pg_isready: join(real, 'pg_isready'),
      createdb: join(real, 'createdb'),
    });
  });

  it('finds binaries spread over several folders, and none when one of them is missing', () => {
    const root = tempDir();
    fakeBinaries(join(root, 'sbin'), ['dovecot']);
    fakeBinaries(join(root, 'bin'), ['redis-server']);
    process.env[SEARCH_PATH_ENV] = `${join(root, 'sbin')}:${join(root, 'bin')}`;
    expect(findServer('redis')).toEqual({ 'redis-server': join(root, 'bin', 'redis-server') });
    expect(findServer('dovecot')).toBeUndefined();

    fakeBinaries(join(root, 'bin'), ['doveadm']);
    expect(findServer('dovecot')).toEqual({
      dovecot: join(root, 'sbin', 'dovecot'),
      doveadm: join(root, 'bin', 'doveadm'),
    });
  });

  it('ignores files that are not executable', () => {
    const root = tempDir();
    writeFileSync(join(root, 'redis-server'), '');
    process.env[SEARCH_PATH_ENV] = root;
    expect(findServer('redis')).toBeUndefined();
  });

  it.skipIf(!existsSync('/usr/lib/postgresql'))("finds PostgreSQL in Debian's layout when it is not on PATH", () => {
    delete process.env[SEARCH_PATH_ENV];
    process.env.PATH = tempDir();
    expect(findServer('postgres')?.pg_ctl).toMatch(/^\/usr\/lib\/postgresql\/\d+\/bin\/pg_ctl$/);
  });

  it.skipIf(!existsSync('/usr/sbin/dovecot'))('finds Dovecot in /usr/sbin when it is not on PATH', () => {
    delete process.env[SEARCH_PATH_ENV];
    process.env.PATH = tempDir();
    expect(findServer('dovecot')?.dovecot).toBe('/usr/sbin/dovecot');
  });
});

describe('a run on a machine without the servers', () => {
  // the lease tests need Redis and PostgreSQL for one suite, and nothing for the other
  const serverTest = 'test/lease/lease.test.ts';

  it('skips the suites that need them and ends with one line per missing server', async () => {
    const { code, output } = await runVitest([serverTest], childEnv({ [SEARCH_PATH_ENV]: tempDir() })).finished;

    expect(code, output).toBe(0);
    expect(output).toMatch(/Tests\s+2 passed \| 2 skipped \(4\)/);
    const lines = output.split('\n');
    expect(lines.filter((line) => line === missingLine('redis', false))).toHaveLength(1);
    expect(lines.filter((line) => line === missingLine('postgres', false))).toHaveLength(1);
    expect(missingLine('redis', false)).toBe(
      'Redis not found: tests that need it were skipped. Install redis-server (Debian) or redis (RHEL).',
    );
    expect(output).not.toContain('Dovecot not found');
  });

  it('fails with CI=true, naming the missing servers', async () => {
    const { code, output } = await runVitest([serverTest], childEnv({ [SEARCH_PATH_ENV]: tempDir(), CI: 'true' }))
      .finished;

    expect(code, output).not.toBe(0);
    expect(output).toContain('FAIL');
    expect(output).toContain(missingLine('redis', true));
    expect(output).toContain(missingLine('postgres', true));
    expect(missingLine('postgres', true)).toBe(
      'PostgreSQL not found: tests that need it failed (CI=true requires it). Install postgresql (Debian) or postgresql-server (RHEL).',
    );
  });
});
