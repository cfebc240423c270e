// The PostgreSQL driver's backend (postgres:// and postgresql://); keyv's setMany is one UNNEST
// upsert there.

import Keyv from 'keyv';
import KeyvPostgres from '@keyv/postgres';
import pg from 'pg';
import type { Logger } from '../../log.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  KEY_SIZE,
  keyvBackend,
  plainJson,
  redactUrl,
  unreachable,
  within,
  type Backend,
} from '../backend.ts';

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

export async function openPostgresBackend(
  url: string,
  namespace: string,
  logger: Logger,
  connectTimeoutMs: number = DEFAULT_CONNECT_TIMEOUT_MS,
): Promise<Backend> {
  const onError = (error: unknown) => logger.error({ err: error, store: redactUrl(url) }, 'store backend error');
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
