// The lease on each store backend, with that backend's one atomic operation: Redis `SET NX PX`
// plus a compare-and-renew script, and an SQL upsert guarded by holder/expiry on PostgreSQL and
// SQLite. The store drivers (src/store/drivers.ts) pick one by URL scheme.

import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Database } from 'sqlite3';
import type { Lease } from './types.ts';

function newToken(holder: string): string {
  return `${holder}#${randomBytes(6).toString('hex')}`;
}

/**
 * The token logic every backend shares: renew with the current token; when that fails, the
 * token is replaced before the lease is taken again.
 */
class Tokens {
  current: string;
  constructor(readonly holder: string) {
    this.current = newToken(holder);
  }
  rotate(): void {
    this.current = newToken(this.holder);
  }
}

// Renew only when we still hold it; otherwise the caller must take it with SET NX.
const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export async function redisLease(url: string, name: string, holder: string, ttlMs: number): Promise<Lease> {
  const { createClient } = await import('@redis/client');
  // No offline queue: while Redis is away a renewal must fail at once (we stop leading), not wait.
  // Reconnect forever once connected, but give up on a server that never answered at all.
  let connected = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries: number, cause: Error) =>
        connected || retries < 3 ? Math.min(200 * 2 ** retries, 5_000) : cause,
    },
  });
  client.on('ready', () => (connected = true));
  // A lost connection must not crash the process; tryAcquire reports it as "not leading".
  client.on('error', () => {});
  await client.connect();
  const tokens = new Tokens(holder);
  return {
    name,
    holder,
    get token() {
      return tokens.current;
    },
    ttlMs,
    async tryAcquire() {
      try {
        const renewed = await client.eval(RENEW_SCRIPT, { keys: [name], arguments: [tokens.current, String(ttlMs)] });
        if (Number(renewed) === 1) return true;
        tokens.rotate();
        const taken = await client.set(name, tokens.current, {
          condition: 'NX',
          expiration: { type: 'PX', value: ttlMs },
        });
        return taken === 'OK';
      } catch {
        tokens.rotate();
        return false;
      }
    },
    async release() {
      try {
        await client.eval(RELEASE_SCRIPT, { keys: [name], arguments: [tokens.current] });
      } catch {
        // the lease expires on its own
      }
    },
    async close() {
      client.destroy();
    },
  };
}

const UPSERT_SQL = (placeholder: (n: number) => string, now: string) => `
  INSERT INTO dmarc_lease (name, holder, expires_at) VALUES (${placeholder(1)}, ${placeholder(2)}, ${placeholder(3)})
  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
  WHERE dmarc_lease.holder = excluded.holder OR dmarc_lease.expires_at < ${now}
  RETURNING holder`;

// Renewal only updates our own row: after a release (row deleted) the lease is taken anew, with a
// new token, never re-created under the old one.
const RENEW_SQL = (placeholder: (n: number) => string, now: string) =>
  `UPDATE dmarc_lease SET expires_at = ${now} + ${placeholder(1)} WHERE name = ${placeholder(2)} AND holder = ${placeholder(3)} RETURNING holder`;

export async function postgresLease(url: string, name: string, holder: string, ttlMs: number): Promise<Lease> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => {});
  await pool.query(
    'CREATE TABLE IF NOT EXISTS dmarc_lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL)',
  );
  // Expiry is compared with the database clock, so instances with skewed clocks still agree.
  const nowMs = '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT';
  const tokens = new Tokens(holder);
  const upsert = async (token: string) => {
    const result = await pool.query(
      UPSERT_SQL((n) => (n === 3 ? `${nowMs} + $3` : `$${n}`), nowMs),
      [name, token, ttlMs],
    );
    return result.rows[0]?.holder === token;
  };
  const renew = async (token: string) =>
    (
      await pool.query(
        RENEW_SQL((n) => `$${n}`, nowMs),
        [ttlMs, name, token],
      )
    ).rows.length > 0;
  return {
    name,
    holder,
    get token() {
      return tokens.current;
    },
    ttlMs,
    async tryAcquire() {
      try {
        if (await renew(tokens.current)) return true;
        tokens.rotate();
        return await upsert(tokens.current);
      } catch {
        tokens.rotate();
        return false;
      }
    },
    async release() {
      await pool
        .query('DELETE FROM dmarc_lease WHERE name = $1 AND holder = $2', [name, tokens.current])
        .catch(() => {});
    },
    async close() {
      await pool.end();
    },
  };
}

export async function sqliteLease(url: string, name: string, holder: string, ttlMs: number): Promise<Lease> {
  const { default: sqlite3 } = await import('sqlite3');
  const path = resolve(url.replace(/^sqlite:\/\//, ''));
  // before SQLite turns a cut-off (zero-byte) store into a fresh empty database
  const { checkSqliteFile } = await import('../store/backend.ts');
  checkSqliteFile(path);
  await mkdir(dirname(path), { recursive: true });
  const db = await new Promise<Database>((done, fail) => {
    const opened = new sqlite3.Database(path, (error) => (error ? fail(error) : done(opened)));
  });
  const all = (sql: string, params: unknown[]) =>
    new Promise<Array<Record<string, unknown>>>((done, fail) =>
      db.all(sql, params, (error, rows) => (error ? fail(error) : done(rows as Array<Record<string, unknown>>))),
    );
  db.configure('busyTimeout', 5_000);
  await all(
    'CREATE TABLE IF NOT EXISTS dmarc_lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL)',
    [],
  );
  const nowMs = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
  const tokens = new Tokens(holder);
  const upsert = async (token: string) => {
    const rows = await all(
      UPSERT_SQL((n) => (n === 3 ? `${nowMs} + ?` : '?'), nowMs),
      [name, token, ttlMs],
    );
    return rows[0]?.holder === token;
  };
  const renew = async (token: string) =>
    (
      await all(
        RENEW_SQL(() => '?', nowMs),
        [ttlMs, name, token],
      )
    ).length > 0;
  return {
    name,
    holder,
    get token() {
      return tokens.current;
    },
    ttlMs,
    async tryAcquire() {
      try {
        if (await renew(tokens.current)) return true;
        tokens.rotate();
        return await upsert(tokens.current);
      } catch {
        tokens.rotate();
        return false;
      }
    },
    async release() {
      await all('DELETE FROM dmarc_lease WHERE name = ? AND holder = ?', [name, tokens.current]).catch(() => {});
    },
    async close() {
      await new Promise<void>((done) => db.close(() => done()));
    },
  };
}
