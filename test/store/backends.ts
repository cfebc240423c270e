// The three store backends as test fixtures: a SQLite file per store, and one real redis-server
// and one real PostgreSQL per test file, each store in its own keyv namespace.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../support/postgres.ts';
import { startRedis } from '../support/redis.ts';

export interface StoreTarget {
  url: string;
  namespace: string;
}

export interface BackendFixture {
  name: 'sqlite' | 'redis' | 'postgres';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** a location no other store in this process uses */
  fresh(): StoreTarget;
  /** server backends: SIGKILL the server, and start it again on the same port */
  kill?(): Promise<void>;
  restart?(): Promise<void>;
}

let counter = 0;
const nextName = () => `t${process.pid}x${++counter}`;

export function sqliteFixture(): BackendFixture {
  let dir = '';
  return {
    name: 'sqlite',
    async start() {
      dir = mkdtempSync(join(tmpdir(), 'dmarc-sqlite-'));
    },
    async stop() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    fresh: () => ({ url: `sqlite://${join(dir, `${nextName()}.sqlite`)}`, namespace: 'dmarc' }),
  };
}

export function redisFixture(): BackendFixture {
  let server: Awaited<ReturnType<typeof startRedis>> | undefined;
  return {
    name: 'redis',
    async start() {
      server = await startRedis();
    },
    async stop() {
      await server?.stop();
    },
    fresh: () => ({ url: server!.url, namespace: nextName() }),
    kill: () => server!.kill(),
    restart: () => server!.restart(),
  };
}

export function postgresFixture(): BackendFixture {
  let server: Awaited<ReturnType<typeof startPostgres>> | undefined;
  return {
    name: 'postgres',
    async start() {
      server = await startPostgres();
    },
    async stop() {
      await server?.stop();
    },
    fresh: () => ({ url: server!.url, namespace: nextName() }),
    kill: () => server!.kill(),
    restart: () => server!.restart(),
  };
}

export const allFixtures = (): BackendFixture[] => [sqliteFixture(), redisFixture(), postgresFixture()];
