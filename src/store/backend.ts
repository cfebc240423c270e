// The keyv edge: opens one of the three backends from a URL and offers the few batched operations
// the store needs. SQLite gets WAL and one transaction per batch (a plain `set` is its own fsync'd
// transaction there); PostgreSQL's setMany is one UNNEST upsert; Redis's setMany is one MULTI/EXEC.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import KeyvPostgres from '@keyv/postgres';
import { createKeyv as createRedisKeyv } from '@keyv/redis';
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
  close(): Promise<void>;
}

export const DEFAULT_STORE_URL = 'sqlite://./data/dmarc.sqlite';

// Keys hold domain names (up to 253 characters) plus a prefix: more than keyv's default 255.
const KEY_SIZE = 1024;
const READ_CHUNK = 256;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

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
      for (const part of chunks(keys, READ_CHUNK)) await transaction(async () => void (await keyv.deleteMany(part)));
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

  // The base class declares rows as any[]; the override has to match it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override async connect(): Promise<(sql: string, values?: unknown) => Promise<any[]>> {
    const { connectionTimeoutMillis } = this.opts as { connectionTimeoutMillis?: number };
    this.ownPool ??= new pg.Pool({ connectionString: this.opts.uri, max: 4, connectionTimeoutMillis });
    const pool = this.ownPool;
    pool.on('error', (error) => this.emit('error', error));
    return async (sql, values) => (await pool.query(sql, values as unknown[] | undefined)).rows;
  }

  override async disconnect(): Promise<void> {
    await this.ownPool?.end();
  }
}

/** Why a store server did not answer, in plain words (not the client library's wording). */
function unreachable(what: string, url: string, timeoutMs: number, cause: unknown): Error {
  const code = (cause as { code?: string } | undefined)?.code;
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused (is the server running on that host and port?)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'unknown host name'
        : code === 'ENETUNREACH' || code === 'EHOSTUNREACH'
          ? 'no route to the host'
          : code === 'ECONNRESET'
            ? 'the server closed the connection'
            : code === '28P01' || code === '28000'
              ? 'login refused (check the user name and password in the URL)'
              : code === '3D000'
                ? 'no such database'
                : cause instanceof Error && /WRONGPASS|NOAUTH/.test(cause.message)
                  ? 'login refused (check the password in the URL)'
                  : `no answer within ${timeoutMs} ms (STORE_CONNECT_TIMEOUT_MS)`;
  return new Error(`cannot reach the ${what} store ${redactUrl(url)}: ${reason}`, { cause });
}

/** Rejects with `onTimeout()` when `work` has not settled within `ms`. */
async function within<T>(work: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export async function openBackend(
  url: string,
  namespace: string,
  logger: Logger,
  connectTimeoutMs: number = DEFAULT_CONNECT_TIMEOUT_MS,
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
    const adapter = new KeyvSqlite({ uri: url, busyTimeout: 10_000, keySize: KEY_SIZE });
    const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true, ...plainJson });
    keyv.on('error', onError);
    try {
      await adapter.query('PRAGMA journal_mode=WAL');
      await adapter.query('PRAGMA synchronous=NORMAL');
    } catch (error) {
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
    return keyvBackend('sqlite', keyv, {
      writeMany,
      // One writer (the store serialises its operations), so a plain BEGIN/COMMIT on the single
      // connection groups the batch; the adapter's sets are issued inside it.
      transaction: async (work) => {
        await adapter.query('BEGIN IMMEDIATE');
        try {
          await work();
        } catch (error) {
          await adapter.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        await adapter.query('COMMIT');
      },
      close: () => adapter.disconnect(),
    });
  }

  if (scheme === 'redis://' || scheme === 'rediss://') {
    // createKeyv with a namespace prefixes once; new Keyv({ store: new KeyvRedis() }) would do it twice.
    // Without a connection timeout the client retries an unreachable server forever.
    // No offline queue: while the server is away commands fail at once instead of waiting, so a
    // flush reports the outage (nothing is acknowledged) and a shutdown is not held up by it.
    const keyv = createRedisKeyv(
      { url, disableOfflineQueue: true },
      { namespace, throwOnErrors: true, throwOnConnectError: true, connectionTimeout: connectTimeoutMs },
    );
    keyv.serialize = plainJson.serialize;
    keyv.deserialize = plainJson.deserialize;
    // connection errors before the first answer are the cause of a failed open, not log noise
    let opened = false;
    let lastError: unknown;
    keyv.on('error', (error: unknown) => {
      if (opened) onError(error);
      else lastError = error;
    });
    try {
      await within(keyv.get('catalog'), connectTimeoutMs + 500, () => undefined);
      opened = true;
    } catch (error) {
      await keyv.disconnect().catch(() => undefined);
      throw unreachable('Redis', url, connectTimeoutMs, lastError ?? error);
    }
    return keyvBackend('redis', keyv, { close: () => keyv.disconnect() });
  }

  if (scheme === 'postgres://' || scheme === 'postgresql://') {
    const adapter = new OwnPoolPostgres({ uri: url, keySize: KEY_SIZE, connectionTimeoutMillis: connectTimeoutMs });
    adapter.on('error', onError);
    const keyv = new Keyv({ store: adapter, namespace, throwOnErrors: true, ...plainJson });
    keyv.on('error', onError);
    try {
      await within(adapter.query('SELECT 1'), connectTimeoutMs + 500, () => undefined);
    } catch (error) {
      await adapter.disconnect().catch(() => undefined);
      throw unreachable('PostgreSQL', url, connectTimeoutMs, error);
    }
    return keyvBackend('postgres', keyv, { close: () => adapter.disconnect() });
  }

  throw new Error(
    `unsupported store URL ${redactUrl(url)}: use sqlite://PATH, redis://HOST:PORT or postgres://USER@HOST:PORT/DB`,
  );
}
