// The keyv edge: the few batched operations the store needs, over any keyv instance. Each store
// driver (src/store/drivers/, listed in drivers.ts) opens its backend with these helpers.

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
  /** Writes all entries; atomically where the backend allows (one transaction / statement / MULTI). */
  setMany(entries: BackendEntry[]): Promise<void>;
  deleteMany(keys: string[]): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_STORE_URL = 'sqlite://./data/dmarc.sqlite';

// Keys hold domain names (up to 253 characters) plus a prefix: more than keyv's default 255.
export const KEY_SIZE = 1024;
const READ_CHUNK = 256;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

// The store keeps plain JSON only. keyv's default serializer walks values in JavaScript and parses
// with a reviver (for Buffers); the built-in JSON functions are several times faster on big documents.
export const plainJson = { serialize: JSON.stringify, deserialize: JSON.parse } as const;

export function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}

import { redactUrl } from '../text/redact.ts';
export { redactUrl };

export type WriteMany = (entries: BackendEntry[]) => Promise<void>;

export function keyvBackend(
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
