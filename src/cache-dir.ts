// The folder of the derived files a process keeps for the next one (prepared range tables, offline
// identities of stored days, organisational domains): each is rebuilt when missing or stale.

import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** A folder only this user can write to (or create), else null. */
function privateDir(path: string): string | null {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    const stat = statSync(path);
    if (!stat.isDirectory() || (stat.mode & 0o022) !== 0) return null;
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return null;
    accessSync(path, constants.W_OK);
    return path;
  } catch {
    return null;
  }
}

/**
 * The user's cache folder ($XDG_CACHE_HOME when set to an absolute path, else ~/.cache), else a
 * private folder in the temporary directory (the service's home is read-only; its /tmp is its
 * own). Null: no cache.
 */
export function defaultCacheDir(): string | null {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return privateDir(join(base, 'dmarc-bot')) ?? privateDir(join(tmpdir(), `dmarc-bot-${uid}`));
}
