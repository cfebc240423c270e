// The three store backends as test fixtures: a SQLite file per store, and one real redis-server
// and one real PostgreSQL per test file, each store in its own keyv namespace.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { startPostgres } from '../support/postgres.ts';
import { startRedis } from '../support/redis.ts';
import { skipWithout, type ServerKind } from '../support/servers.ts';

export interface StoreTarget {
  url: string;
  namespace: string;
}

export interface BackendFixture {
  name: 'sqlite' | 'redis' | 'postgres';
  /** the test server the backend needs */
  server?: ServerKind;
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
    server: 'redis',
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
    server: 'postgres',
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

/**
 * `describe.each` over backends (`$name` in the title), skipping a backend whose server is missing
 * (see skipWithout): the SQLite suites still run on a machine without Redis and PostgreSQL.
 */
export function describeEachBackend(
  fixtures: BackendFixture[],
  title: string,
  body: (fixture: BackendFixture) => void,
): void {
  for (const fixture of fixtures) {
    const skip = fixture.server ? skipWithout(fixture.server) : false;
    describe.skipIf(skip)(title.replaceAll('$name', fixture.name), () => body(fixture));
  }
}
