// The keyv edge: opens one of the three backends from a URL and offers the few batched operations
// the store needs. SQLite gets WAL and one transaction per batch (a plain `set` is its own fsync'd
// transaction there); PostgreSQL's setMany is one UNNEST upsert; Redis's setMany is one MULTI/EXEC.

import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import KeyvPostgres from '@keyv/postgres';
import { createKeyv as createRedisKeyv, type default as KeyvRedisAdapter } from '@keyv/redis';
import pg from 'pg';
import type { Logger } from '../log.ts';

export type BackendKind = 'sqlite' | 'redis' | 'postgres';

export interface BackendEntry {
  key: string;
  value: unknown;
  ttl?: number;
}

export interface Backend {
  kind: BackendKind;
  get<T>(key: string): Promise<T | undefined>;
  getMany<T>(keys: string[]): Promise<(T | undefined)[]>;
  /** Writes all entries; atomically where the backend allows (one transaction / statement / MULTI). */
  setMany(entries: BackendEntry[]): Promise<void>;
  deleteMany(keys: string[]): Promise<void>;
  /** SQLite: the problems `PRAGMA quick_check` finds (empty: none); other backends: absent */
  integrity?(): Promise<string[]>;
  close(): Promise<void>;
}

/** How to rescue a damaged SQLite store, for error messages. */
export function sqliteRecoverAdvice(path: string): string {
  return `move it away and start a fresh store, or rescue what it holds with: sqlite3 '${path}' .recover | sqlite3 recovered.sqlite`;
}

/** The SQLite file is not a usable database: named, with the way out. */
export class CorruptStoreError extends Error {
  constructor(path: string, problem: string) {
    super(`the SQLite store ${path} ${problem}; ${sqliteRecoverAdvice(path)}`);
    this.name = 'CorruptStoreError';
  }
}

/**
 * A zero-byte or overwritten file opens as a database without complaint (SQLite treats an empty
 * file as a new database): check the file itself first.
 */
export function checkSqliteFile(path: string): void {
  if (path === ':memory:' || !existsSync(path)) return;
  const size = statSync(path).size;
  if (size === 0) throw new CorruptStoreError(path, 'is empty (0 bytes): it was cut off or overwritten');
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== 'SQLite format 3\u0000')
    throw new CorruptStoreError(path, 'is not an SQLite database (its header was overwritten)');
}

function isCorruption(error: unknown): boolean {
  return /SQLITE_(CORRUPT|NOTADB)|malformed|not a database/i.test(String((error as Error)?.message ?? error));
}

export const DEFAULT_STORE_URL = 'sqlite://./data/dmarc.sqlite';

/**
 * The writer lease a store's writes depend on (src/lease). With a fence, every write checks, in
 * the same transaction / script, that this process still holds the lease (and renews it there);
 * when another writer has taken it, nothing is written and LeaseLostError is thrown.
 */
export interface WriteFence {
  /** lease name (the lease row / key) */
  name: string;
  /** the lease token held (Lease.token when the lease was won) */
  holder: string;
  ttlMs: number;
}

/** The writer lease belongs to another process now: the write was refused, nothing was written. */
export class LeaseLostError extends Error {
  constructor(detail = '') {
    super(
      `another process holds the store's writer lease now; nothing more was written by this one${detail ? ` (${detail})` : ''}`,
    );
    this.name = 'LeaseLostError';
  }
}

// Keys hold domain names (up to 253 characters) plus a prefix: more than keyv's default 255.
const KEY_SIZE = 1024;
const READ_CHUNK = 256;
const CONNECT_TIMEOUT_MS = 10_000;

// The store keeps plain JSON only. keyv's default serializer walks values in JavaScript and parses
// with a reviver (for Buffers); the built-in JSON functions are several times faster on big documents.
const plainJson = { serialize: JSON.stringify, deserialize: JSON.parse } as const;

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}

/** Describes a store URL for logs and errors without its password. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

type WriteMany = (entries: BackendEntry[]) => Promise<void>;

function keyvBackend(
  kind: BackendKind,
  keyv: Keyv,
  options: {
    transaction?: (work: () => Promise<void>) => Promise<void>;
    writeMany?: WriteMany;
    deleteMany?: (keys: string[]) => Promise<void>;
    close: () => Promise<void>;
  },
): Backend {
  const transaction = options.transaction ?? ((work: () => Promise<void>) => work());
  const writeMany: WriteMany =
    options.writeMany ??
    (async (entries) => {
      const results = await keyv.setMany(entries.map(({ key, value, ttl }) => ({ key, value, ttl })));
      if (Array.isArray(results) && results.some((ok) => ok === false))
        throw new Error(`store write failed for some of ${entries.length} keys`);
    });
  const removeMany = options.deleteMany ?? (async (keys: string[]) => void (await keyv.deleteMany(keys)));
  return {
    kind,
    async get<T>(key: string) {
      return (await keyv.get(key)) as T | undefined;
    },
    async getMany<T>(keys: string[]) {
      const values: (T | undefined)[] = [];
      for (const part of chunks(keys, READ_CHUNK)) {
        const found = (await keyv.getMany(part)) as (T | undefined | null)[];
        for (const value of found) values.push(value ?? undefined);
      }
      return values;
    },
    async setMany(entries: BackendEntry[]) {
      if (entries.length === 0) return;
      await transaction(() => writeMany(entries));
    },
    async deleteMany(keys: string[]) {
      if (keys.length === 0) return;
      for (const part of chunks(keys, READ_CHUNK)) await transaction(() => removeMany(part));
    },
    close: options.close,
  };
}

/**
 * @keyv/postgres keeps one pool per process and ends it on any adapter's disconnect, which would
 * break every other store open on the same database; this adapter owns its pool.
 */
class OwnPoolPostgres extends KeyvPostgres {
  // `declare`: no field initializer, because the base constructor already calls connect().
  declare private ownPool: pg.Pool | undefined;
  /** while a transaction runs, every query of the adapter goes to its connection */
  declare private txClient: pg.PoolClient | undefined;

  // The base class declares rows as any[]; the override has to match it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override async connect(): Promise<(sql: string, values?: unknown) => Promise<any[]>> {
    this.ownPool ??= new pg.Pool({ connectionString: this.opts.uri, max: 4 });
    const pool = this.ownPool;
    pool.on('error', (error) => this.emit('error', error));
    return async (sql, values) => (await (this.txClient ?? pool).query(sql, values as unknown[] | undefined)).rows;
  }

  /** Runs `work` in one transaction on one connection; `check` runs first inside it. */
  async transaction(work: () => Promise<void>, check?: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    this.ownPool ??= new pg.Pool({ connectionString: this.opts.uri, max: 4 });
    const client = await this.ownPool.connect();
    try {
      await client.query('BEGIN');
      try {
        await check?.(client);
        this.txClient = client;
        await work();
        this.txClient = undefined;
        await client.query('COMMIT');
      } catch (error) {
        this.txClient = undefined;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } finally {
      client.release();
    }
  }

  override async disconnect(): Promise<void> {
    await this.ownPool?.end();
  }
}

// The lease row is renewed in the write's own transaction: the row lock (PostgreSQL) or the write
// lock of BEGIN IMMEDIATE (SQLite) keeps another writer from taking the lease until we commit.
const FENCE_SQL = (placeholder: (n: number) => string, nowMs: string) =>
  `UPDATE dmarc_lease SET expires_at = ${nowMs} + ${placeholder(1)} WHERE name = ${placeholder(2)} AND holder = ${placeholder(3)} RETURNING holder`;

// Redis: the lease value is compared and renewed, and the writes done, in one script (atomic).
// An expired lease key is gone, and whether someone took and released it meanwhile cannot be
// told: the write is refused.
const FENCED_SET_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for i = 2, #KEYS do
  local value = ARGV[(i - 2) * 2 + 3]
  local ttl = ARGV[(i - 2) * 2 + 4]
  if ttl == '' then redis.call('SET', KEYS[i], value) else redis.call('SET', KEYS[i], value, 'PX', ttl) end
end
return 1`;
const FENCED_DEL_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return 1`;

function isMissingLeaseTable(error: unknown): boolean {
  return /no such table: dmarc_lease|relation "dmarc_lease" does not exist/.test(String((error as Error)?.message));
}

export async function openBackend(
  url: string,
  namespace: string,
  logger: Logger,
  fence?: WriteFence,
): Promise<Backend> {
  const scheme = url.slice(0, url.indexOf('://') + 3).toLowerCase();
  const onError = (error: unknown) => logger.error({ err: error, store: redactUrl(url) }, 'store backend error');

  if (scheme === 'sqlite://') {
    const path = url.slice('sqlite://'.length);
    if (!path) throw new Error(`store URL ${url} names no file (sqlite://PATH)`);
    if (path !== ':memory:') {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (error) {
        throw new Error(`cannot create the folder of the SQLite store ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    checkSqliteFile(path);
    const adapter = new KeyvSqlite({ uri: url, busyTimeout: 10_000, keySize: KEY_SIZE });
    const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true, ...plainJson });
    keyv.on('error', onError);
    try {
      await adapter.query('PRAGMA journal_mode=WAL');
      await adapter.query('PRAGMA synchronous=NORMAL');
      // the catalog is read at once by the store; reading it here names a damaged file early
      await adapter.query(`SELECT count(*) FROM ${adapter.opts.table ?? 'keyv'} WHERE key = ?`, `${namespace}:catalog`);
    } catch (error) {
      await adapter.disconnect().catch(() => undefined);
      if (isCorruption(error)) throw new CorruptStoreError(path, `is damaged (${(error as Error).message})`);
      throw new Error(`cannot open the SQLite store ${path}: ${(error as Error).message}`, { cause: error });
    }
    // The adapter has no setMany: keyv would issue one INSERT per key. One multi-row upsert per
    // chunk writes the same rows (keyv's layout: "<namespace>:<key>" -> JSON {value, expires}).
    const table = adapter.opts.table ?? 'keyv';
    const writeRows = async (rows: [string, string][]) => {
      const sql = `INSERT INTO ${table} (key, value) VALUES ${rows.map(() => '(?, ?)').join(', ')} ON CONFLICT(key) DO UPDATE SET value = excluded.value`;
      await adapter.query(sql, ...rows.flat());
    };
    const writeMany: WriteMany = async (entries) => {
      const plain = entries.filter((entry) => entry.ttl === undefined);
      const expiring = entries.filter((entry) => entry.ttl !== undefined);
      for (const part of chunks(plain, 400))
        await writeRows(part.map(({ key, value }) => [`${namespace}:${key}`, JSON.stringify({ value })]));
      if (expiring.length > 0) await keyv.setMany(expiring.map(({ key, value, ttl }) => ({ key, value, ttl })));
    };
    const backend = keyvBackend('sqlite', keyv, {
      writeMany,
      // One writer (the store serialises its operations), so a plain BEGIN/COMMIT on the single
      // connection groups the batch; the adapter's sets are issued inside it.
      transaction: async (work) => {
        await adapter.query('BEGIN IMMEDIATE');
        try {
          if (fence) {
            const nowMs = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
            const held = await adapter
              .query(
                FENCE_SQL(() => '?', nowMs),
                fence.ttlMs,
                fence.name,
                fence.holder,
              )
              .catch((error: unknown) => {
                if (isMissingLeaseTable(error)) return [];
                throw error;
              });
            if (!Array.isArray(held) || held.length === 0) throw new LeaseLostError();
          }
          await work();
        } catch (error) {
          await adapter.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        await adapter.query('COMMIT');
      },
      close: () => adapter.disconnect(),
    });
    backend.integrity = async () => {
      const rows = (await adapter.query('PRAGMA quick_check')) as Array<Record<string, string>>;
      const problems = rows.map((row) => String(Object.values(row)[0]));
      return problems.length === 1 && problems[0] === 'ok' ? [] : problems;
    };
    return backend;
  }

  if (scheme === 'redis://' || scheme === 'rediss://') {
    // createKeyv with a namespace prefixes once; new Keyv({ store: new KeyvRedis() }) would do it twice.
    // Without a connection timeout the client retries an unreachable server forever.
    // No offline queue: while the server is away commands fail at once instead of waiting, so a
    // flush reports the outage (nothing is acknowledged) and a shutdown is not held up by it.
    const keyv = createRedisKeyv(
      { url, disableOfflineQueue: true },
      { namespace, throwOnErrors: true, throwOnConnectError: true, connectionTimeout: CONNECT_TIMEOUT_MS },
    );
    keyv.serialize = plainJson.serialize;
    keyv.deserialize = plainJson.deserialize;
    keyv.on('error', onError);
    try {
      await keyv.get('catalog');
    } catch (error) {
      await keyv.disconnect().catch(() => undefined);
      throw new Error(`cannot reach the Redis store ${redactUrl(url)}: ${(error as Error).message}`, { cause: error });
    }
    if (!fence) return keyvBackend('redis', keyv, { close: () => keyv.disconnect() });
    const adapter = keyv.store as KeyvRedisAdapter<unknown>;
    const rawKey = (key: string) => adapter.createKeyPrefix(key, namespace);
    const runFenced = async (script: string, keys: string[], args: string[]) => {
      const client = await adapter.getClient();
      const result = await client.eval(script, {
        keys: [fence.name, ...keys.map(rawKey)],
        arguments: [fence.holder, String(fence.ttlMs), ...args],
      });
      if (Number(result) !== 1) throw new LeaseLostError();
    };
    return keyvBackend('redis', keyv, {
      // keyv's layout: the namespaced key holds the JSON of { value, expires }
      writeMany: (entries) =>
        runFenced(
          FENCED_SET_SCRIPT,
          entries.map((entry) => entry.key),
          entries.flatMap(({ value, ttl }) => [
            JSON.stringify(ttl === undefined ? { value } : { value, expires: Date.now() + ttl }),
            ttl === undefined ? '' : String(ttl),
          ]),
        ),
      deleteMany: (keys) => runFenced(FENCED_DEL_SCRIPT, keys, []),
      close: () => keyv.disconnect(),
    });
  }

  if (scheme === 'postgres://' || scheme === 'postgresql://') {
    const adapter = new OwnPoolPostgres({ uri: url, keySize: KEY_SIZE });
    adapter.on('error', onError);
    const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true, ...plainJson });
    keyv.on('error', onError);
    try {
      await adapter.query('SELECT 1');
    } catch (error) {
      await adapter.disconnect().catch(() => undefined);
      throw new Error(`cannot reach the PostgreSQL store ${redactUrl(url)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const nowMs = '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT';
    const check = fence
      ? async (client: pg.PoolClient) => {
          const held = await client
            .query(
              FENCE_SQL((n) => `$${n}`, nowMs),
              [fence.ttlMs, fence.name, fence.holder],
            )
            .catch((error: unknown) => {
              if (isMissingLeaseTable(error)) return { rows: [] };
              throw error;
            });
          if (held.rows.length === 0) throw new LeaseLostError();
        }
      : undefined;
    return keyvBackend('postgres', keyv, {
      // one transaction per batch, so the fence and the writes commit together
      ...(fence ? { transaction: (work: () => Promise<void>) => adapter.transaction(work, check) } : {}),
      close: () => adapter.disconnect(),
    });
  }

  throw new Error(
    `unsupported store URL ${redactUrl(url)}: use sqlite://PATH, redis://HOST:PORT or postgres://USER@HOST:PORT/DB`,
  );
}
