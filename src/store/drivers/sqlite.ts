// The SQLite driver's backend: WAL, one transaction per batch (a plain `set` is its own fsync'd
// transaction there) and multi-row upserts instead of keyv's one INSERT per key.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import type { Logger } from '../../log.ts';
import {
  CorruptStoreError,
  FENCE_SQL,
  KEY_SIZE,
  LeaseLostError,
  checkSqliteFile,
  chunks,
  isCorruption,
  isMissingLeaseTable,
  keyvBackend,
  plainJson,
  redactUrl,
  type Backend,
  type BackendOpenOptions,
  type WriteMany,
} from '../backend.ts';
import { MIN_TEXT, noteStoredText, rememberedText } from '../summary-cache.ts';

/** Notes the texts read (summary-cache.ts keeps those whose summaries it remembers). */
function noted<T>(keys: string[], values: T[]): T[] {
  values.forEach((value, index) => {
    if (typeof value === 'string') noteStoredText(keys[index]!, value);
  });
  return values;
}

export async function openSqliteBackend(
  url: string,
  namespace: string,
  logger: Logger,
  { fence }: BackendOpenOptions = {},
): Promise<Backend> {
  const onError = (error: unknown) => logger.error({ err: error, store: redactUrl(url) }, 'store backend error');
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
  // A value whose parsed summary is remembered (summary-cache.ts) is compared with the remembered
  // text in SQLite and read only when it changed: an unchanged one is answered with that text.
  // Nothing needs comparing when nothing was committed since the text was read: SQLite's
  // data_version changes with every commit of another connection, and this connection's own
  // writes are counted here (before and after each statement that is not a read).
  const rawQuery = adapter.query;
  let ownWrites = 0;
  adapter.query = (async (sql: string, ...parameters: unknown[]) => {
    if (/^\s*SELECT\b/i.test(sql)) return rawQuery(sql, ...parameters);
    ownWrites += 1;
    try {
      return await rawQuery(sql, ...parameters);
    } finally {
      ownWrites += 1;
    }
  }) as typeof adapter.query;
  const epoch = async (): Promise<string> => {
    const writes = ownWrites;
    const rows = (await rawQuery('PRAGMA data_version')) as Array<{ data_version?: number }>;
    return `${rows[0]?.data_version ?? 'none'}:${writes}`;
  };
  // when each remembered text was read (its epoch); bounded: forgotten, then compared once more
  const readAt = new Map<string, string>();
  const readCompared = async (keys: string[], known: Array<string | undefined>): Promise<unknown[]> => {
    if (known.every((text) => text === undefined)) return (await readMany(keys)) as unknown[];
    const rows = (await adapter.query(
      `SELECT k.column1 AS key, t.value = k.column2 AS same, CASE WHEN t.value = k.column2 THEN NULL ELSE t.value END AS value
       FROM (VALUES ${keys.map(() => '(?, ?)').join(', ')}) AS k LEFT JOIN ${adapter.opts.table ?? 'keyv'} AS t ON t.key = k.column1`,
      ...keys.flatMap((key, index) => [key, known[index] ?? null]),
    )) as Array<{ key: string; same: number | null; value: string | null }>;
    const byKey = new Map(rows.map((row) => [row.key, row]));
    return keys.map((key, index) => {
      const row = byKey.get(key);
      if (row?.same === 1) return known[index];
      return row?.value ?? undefined;
    });
  };
  const readMany = adapter.getMany.bind(adapter);
  adapter.getMany = (async (keys: string[]) => {
    const known = keys.map(rememberedText);
    // no remembered text (every read while ingesting): a plain read, without asking for the epoch
    if (known.every((text) => text === undefined)) return noted(keys, (await readMany(keys)) as unknown[]);
    const now = await epoch();
    const current = keys.map((key, index) => known[index] !== undefined && readAt.get(key) === now);
    const rest = keys.filter((_, index) => !current[index]);
    const restKnown = known.filter((_, index) => !current[index]);
    const read = rest.length > 0 ? await readCompared(rest, restKnown) : [];
    let next = 0;
    const values = keys.map((_, index) => (current[index] ? known[index] : read[next++]));
    if (readAt.size > 10_000) readAt.clear();
    values.forEach((value, index) => {
      if (typeof value === 'string' && value.length >= MIN_TEXT) readAt.set(keys[index]!, now);
    });
    return noted(keys, values);
  }) as typeof adapter.getMany;
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
  // One member of each document, cut out by SQLite's JSON functions: the IP index's buckets hold
  // every IP of their day, and `ip` needs one of them (the rest was parsed and dropped).
  backend.getFields = async <T>(keys: string[], field: string) => {
    // a quoted JSON path member: only names that need no escaping (IP texts)
    if (!/^[\w.:-]*$/.test(field)) {
      const docs = await backend.getMany<Record<string, T>>(keys);
      return docs.map((doc) => (doc != null && Object.hasOwn(doc, field) ? doc[field] : undefined));
    }
    const path = `$.value."${field}"`;
    const values: (T | undefined)[] = [];
    for (const part of chunks(keys, 256)) {
      const rows = (await adapter.query(
        `SELECT k.column1 AS key, json_extract(t.value, ?) AS value
         FROM (VALUES ${part.map(() => '(?)').join(', ')}) AS k LEFT JOIN ${table} AS t ON t.key = k.column1`,
        path,
        ...part.map((key) => `${namespace}:${key}`),
      )) as Array<{ key: string; value: string | null }>;
      const byKey = new Map(rows.map((row) => [row.key, row.value]));
      for (const key of part) {
        const text = byKey.get(`${namespace}:${key}`);
        values.push(text == null ? undefined : (JSON.parse(text) as T));
      }
    }
    return values;
  };
  backend.integrity = async () => {
    const rows = (await adapter.query('PRAGMA quick_check')) as Array<Record<string, string>>;
    const problems = rows.map((row) => String(Object.values(row)[0]));
    return problems.length === 1 && problems[0] === 'ok' ? [] : problems;
  };
  return backend;
}
