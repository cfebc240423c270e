// The keyv edge: the few batched operations the store needs, over any keyv instance. Each store
// driver (src/store/drivers/, listed in drivers.ts) opens its backend with these helpers.

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type Keyv from 'keyv';

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
  /**
   * optional: the member `field` of each stored document (undefined when the document or the member
   * is absent), read without handing the rest of the document to JavaScript; for documents stored
   * without a ttl. A backend without it: getMany and pick the member.
   */
  getFields?<T>(keys: string[], field: string): Promise<(T | undefined)[]>;
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

export function isCorruption(error: unknown): boolean {
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
export const KEY_SIZE = 1024;
const READ_CHUNK = 256;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

// The store keeps plain JSON only. keyv's default serializer walks values in JavaScript and parses
// with a reviver (for Buffers); the built-in JSON functions are several times faster on big documents.
// Unchanged day summaries are not parsed again (summary-cache.ts).
export const plainJson = { serialize: JSON.stringify, deserialize: parseStored } as const;

export function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}

import { redactUrl } from '../text/redact.ts';
import { parseStored, settleStoredTexts } from './summary-cache.ts';
export { redactUrl };

export type WriteMany = (entries: BackendEntry[]) => Promise<void>;

export function keyvBackend(
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
      settleStoredTexts();
      return values;
    },
    async setMany(entries: BackendEntry[]) {
      if (entries.length === 0) return;
      await transaction(() => writeMany(entries));
    },
    async deleteMany(keys: string[]) {
      if (keys.length === 0) return;
      for (const part of chunks(keys, READ_CHUNK)) await transaction(() => removeMany(part));
      // a delete reads its keys first (SQLite)
      settleStoredTexts();
    },
    close: options.close,
  };
}

/** Why a store server did not answer, in plain words (not the client library's wording). */
export function unreachable(what: string, url: string, timeoutMs: number, cause: unknown): Error {
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
export async function within<T>(work: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
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

// The lease row is renewed in the write's own transaction: the row lock (PostgreSQL) or the write
// lock of BEGIN IMMEDIATE (SQLite) keeps another writer from taking the lease until we commit.
export const FENCE_SQL = (placeholder: (n: number) => string, nowMs: string) =>
  `UPDATE dmarc_lease SET expires_at = ${nowMs} + ${placeholder(1)} WHERE name = ${placeholder(2)} AND holder = ${placeholder(3)} RETURNING holder`;

// Redis: the lease value is compared and renewed, and the writes done, in one script (atomic).
// An expired lease key is gone, and whether someone took and released it meanwhile cannot be
// told: the write is refused.
export const FENCED_SET_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for i = 2, #KEYS do
  local value = ARGV[(i - 2) * 2 + 3]
  local ttl = ARGV[(i - 2) * 2 + 4]
  if ttl == '' then redis.call('SET', KEYS[i], value) else redis.call('SET', KEYS[i], value, 'PX', ttl) end
end
return 1`;
export const FENCED_DEL_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return 1`;

export function isMissingLeaseTable(error: unknown): boolean {
  return /no such table: dmarc_lease|relation "dmarc_lease" does not exist/.test(String((error as Error)?.message));
}

/** What a driver needs to open its backend beyond the URL. */
export interface BackendOpenOptions {
  /** how long a server may take to answer at open (STORE_CONNECT_TIMEOUT_MS) */
  connectTimeoutMs?: number;
  /** every write checks, in its own transaction, that this process still holds the lease */
  fence?: WriteFence;
}
