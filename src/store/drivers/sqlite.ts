// The SQLite driver's backend: WAL, one transaction per batch (a plain `set` is its own fsync'd
// transaction there) and multi-row upserts instead of keyv's one INSERT per key.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import type { Logger } from '../../log.ts';
import { KEY_SIZE, chunks, keyvBackend, plainJson, redactUrl, type Backend, type WriteMany } from '../backend.ts';

export async function openSqliteBackend(url: string, namespace: string, logger: Logger): Promise<Backend> {
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
