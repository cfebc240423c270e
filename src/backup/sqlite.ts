// Online backup of the SQLite store: `VACUUM INTO` reads one consistent snapshot (a read
// transaction; in WAL mode the running bot keeps writing meanwhile) and writes a compact copy.
// The copy is then opened and checked, so a backup that reports success also opens.

import { closeSync, openSync, rmSync } from 'node:fs';
import type { Database } from 'sqlite3';

async function open(path: string, mode?: number): Promise<Database> {
  const { default: sqlite3 } = await import('sqlite3');
  return new Promise((resolve, reject) => {
    const db: Database = new sqlite3.Database(path, mode ?? sqlite3.OPEN_READWRITE, (error) =>
      error ? reject(error) : resolve(db),
    );
  });
}

function run(db: Database, sql: string, params: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, params, (error) => (error ? reject(error) : resolve())));
}

function all<T>(db: Database, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => db.all(sql, (error, rows) => (error ? reject(error) : resolve(rows as T[]))));
}

function close(db: Database): Promise<void> {
  return new Promise((resolve) => db.close(() => resolve()));
}

export interface BackupResult {
  /** rows of the keyv table in the copy */
  keys: number;
}

export class BackupError extends Error {
  override name = 'BackupError';
}

/**
 * Copies the SQLite database at `source` to `target` (which must not exist; it is created readable
 * by its owner only) and checks that the copy opens and is intact.
 */
export async function backupSqlite(source: string, target: string, busyTimeoutMs = 10_000): Promise<BackupResult> {
  // claim the name first (O_EXCL, mode 0600): VACUUM INTO accepts an empty file, and the store
  // holds failure reports that only the bot's user may read
  try {
    closeSync(openSync(target, 'wx', 0o600));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BackupError(
      code === 'EEXIST'
        ? `${target} exists: choose a new file name`
        : `cannot create ${target}: ${(error as Error).message}`,
    );
  }
  let db: Database | undefined;
  try {
    const { default: sqlite3 } = await import('sqlite3');
    db = await open(source, sqlite3.OPEN_READONLY).catch((error: Error) => {
      throw new BackupError(`cannot open the SQLite store ${source}: ${error.message}`);
    });
    db.configure('busyTimeout', busyTimeoutMs);
    await run(db, 'VACUUM INTO ?', [target]);
  } catch (error) {
    rmSync(target, { force: true });
    throw error instanceof BackupError
      ? error
      : new BackupError(`backup of ${source} failed: ${(error as Error).message}`);
  } finally {
    if (db) await close(db);
  }
  const copy = await open(target);
  try {
    const [check] = await all<{ integrity_check: string }>(copy, 'PRAGMA integrity_check');
    if (check?.integrity_check !== 'ok')
      throw new BackupError(`the copy ${target} failed its integrity check: ${check?.integrity_check ?? 'no answer'}`);
    const tables = await all<{ name: string }>(copy, "SELECT name FROM sqlite_master WHERE type = 'table'");
    let keys = 0;
    for (const { name } of tables) {
      const [row] = await all<{ n: number }>(copy, `SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`);
      keys += row?.n ?? 0;
    }
    return { keys };
  } finally {
    await close(copy);
  }
}
