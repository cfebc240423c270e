// The store drivers, one per kind of URL: what `DMARC_STORE` accepts (the config schema asks
// here), how the store's backend is opened and how the lease of several instances is held. Each
// driver's database module is imported only when a URL of its scheme is opened, so a command that
// never touches Redis or PostgreSQL never loads their clients. A new store is a module under
// drivers/ with its backend, a lease in src/lease/backends.ts, and one entry here.

import type { Logger } from '../log.ts';
import type { Lease } from '../lease/types.ts';
import type { Backend, BackendKind, BackendOpenOptions } from './backend.ts';

export interface StoreDriver {
  kind: BackendKind;
  /** URL schemes, without "://" */
  schemes: readonly string[];
  /** how a URL of this driver is written, for messages */
  example: string;
  openBackend(url: string, namespace: string, logger: Logger, options?: BackendOpenOptions): Promise<Backend>;
  openLease(url: string, name: string, holder: string, ttlMs: number): Promise<Lease>;
}

export const storeDrivers: readonly StoreDriver[] = [
  {
    kind: 'sqlite',
    schemes: ['sqlite'],
    example: 'sqlite://PATH',
    openBackend: async (...args) => (await import('./drivers/sqlite.ts')).openSqliteBackend(...args),
    openLease: async (...args) => (await import('../lease/backends.ts')).sqliteLease(...args),
  },
  {
    kind: 'redis',
    schemes: ['redis', 'rediss'],
    example: 'redis://HOST:PORT',
    openBackend: async (...args) => (await import('./drivers/redis.ts')).openRedisBackend(...args),
    openLease: async (...args) => (await import('../lease/backends.ts')).redisLease(...args),
  },
  {
    kind: 'postgres',
    schemes: ['postgres', 'postgresql'],
    example: 'postgres://USER@HOST/DB',
    openBackend: async (...args) => (await import('./drivers/postgres.ts')).openPostgresBackend(...args),
    openLease: async (...args) => (await import('../lease/backends.ts')).postgresLease(...args),
  },
];

/** The driver of a store URL (`scheme://...`, scheme in any case), or undefined. */
export function storeDriverFor(url: string): StoreDriver | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  return storeDrivers.find((driver) => driver.schemes.includes(scheme));
}

/** "sqlite://PATH, redis://HOST:PORT or postgres://USER@HOST/DB": every driver's URL form. */
export function storeUrlForms(): string {
  const forms = storeDrivers.map((driver) => driver.example);
  return forms.length > 1 ? `${forms.slice(0, -1).join(', ')} or ${forms[forms.length - 1]}` : (forms[0] ?? '');
}
