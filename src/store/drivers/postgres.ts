// The PostgreSQL driver's backend (postgres:// and postgresql://); keyv's setMany is one UNNEST
// upsert there.

import Keyv from 'keyv';
import KeyvPostgres from '@keyv/postgres';
import pg from 'pg';
import type { Logger } from '../../log.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  FENCE_SQL,
  KEY_SIZE,
  LeaseLostError,
  isMissingLeaseTable,
  keyvBackend,
  plainJson,
  redactUrl,
  unreachable,
  within,
  type Backend,
  type BackendOpenOptions,
} from '../backend.ts';

/**
 * @keyv/postgres keeps one pool per process and ends it on any adapter's disconnect, which would
 * break every other store open on the same database; this adapter owns its pool.
 */
class OwnPoolPostgres extends KeyvPostgres {
  // `declare`: no field initializer, because the base constructor already calls connect().
  declare private ownPool: pg.Pool | undefined;
  /** while a transaction runs, every query of the adapter goes to its connection */
  declare private txClient: pg.PoolClient | undefined;

  private pool(): pg.Pool {
    const { connectionTimeoutMillis } = this.opts as { connectionTimeoutMillis?: number };
    this.ownPool ??= new pg.Pool({ connectionString: this.opts.uri, max: 4, connectionTimeoutMillis });
    return this.ownPool;
  }

  // The base class declares rows as any[]; the override has to match it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override async connect(): Promise<(sql: string, values?: unknown) => Promise<any[]>> {
    const pool = this.pool();
    pool.on('error', (error) => this.emit('error', error));
    return async (sql, values) => (await (this.txClient ?? pool).query(sql, values as unknown[] | undefined)).rows;
  }

  /** Runs `work` in one transaction on one connection; `check` runs first inside it. */
  async transaction(work: () => Promise<void>, check?: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool().connect();
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

export async function openPostgresBackend(
  url: string,
  namespace: string,
  logger: Logger,
  { connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, fence }: BackendOpenOptions = {},
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
