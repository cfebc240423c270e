// The folder of the files a process keeps for the next one: the XDG cache folder when it is set
// (absolute, as the XDG rules ask), else ~/.cache; never a folder others can write to.

import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultCacheDir } from '../src/cache-dir.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('defaultCacheDir', () => {
  it('is dmarc-bot in XDG_CACHE_HOME when that is an absolute path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xdg-cache-'));
    dirs.push(dir);
    vi.stubEnv('XDG_CACHE_HOME', dir);
    expect(defaultCacheDir()).toBe(join(dir, 'dmarc-bot'));
  });

  it('ignores a relative XDG_CACHE_HOME', () => {
    vi.stubEnv('XDG_CACHE_HOME', 'relative/cache');
    expect(defaultCacheDir()).not.toContain('relative');
    expect([join(homedir(), '.cache', 'dmarc-bot'), expect.stringContaining(tmpdir())]).toContainEqual(
      defaultCacheDir(),
    );
  });

  it('refuses a folder that others can write to', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xdg-cache-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'dmarc-bot'));
    chmodSync(join(dir, 'dmarc-bot'), 0o777);
    vi.stubEnv('XDG_CACHE_HOME', dir);
    expect(defaultCacheDir()).not.toBe(join(dir, 'dmarc-bot'));
  });
});
