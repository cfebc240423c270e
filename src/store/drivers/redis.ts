// The Redis driver's backend (redis:// and rediss://); keyv's setMany is one MULTI/EXEC there.

import { createKeyv as createRedisKeyv, type default as KeyvRedisAdapter } from '@keyv/redis';
import type { Logger } from '../../log.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  FENCED_DEL_SCRIPT,
  FENCED_SET_SCRIPT,
  LeaseLostError,
  keyvBackend,
  plainJson,
  redactUrl,
  unreachable,
  within,
  type Backend,
  type BackendOpenOptions,
} from '../backend.ts';

export async function openRedisBackend(
  url: string,
  namespace: string,
  logger: Logger,
  { connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, fence }: BackendOpenOptions = {},
): Promise<Backend> {
  const onError = (error: unknown) => logger.error({ err: error, store: redactUrl(url) }, 'store backend error');
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
  if (!fence) return keyvBackend('redis', keyv, { close: () => keyv.disconnect() });
  const adapter = keyv.store as KeyvRedisAdapter<unknown>;
  const rawKey = (key: string) => adapter.createKeyPrefix(key, namespace);
  const runFenced = async (script: string, keys: string[], args: string[]) => {
    const client = await adapter.getClient();
    const result = await client.eval(script, {
      keys: [fence.name, ...keys.map(rawKey)],
      arguments: [fence.holder, String(fence.ttlMs), ...args],
    });
    if (Number(result) !== 1) throw new LeaseLostError();
  };
  return keyvBackend('redis', keyv, {
    // keyv's layout: the namespaced key holds the JSON of { value, expires }
    writeMany: (entries) =>
      runFenced(
        FENCED_SET_SCRIPT,
        entries.map((entry) => entry.key),
        entries.flatMap(({ value, ttl }) => [
          JSON.stringify(ttl === undefined ? { value } : { value, expires: Date.now() + ttl }),
          ttl === undefined ? '' : String(ttl),
        ]),
      ),
    deleteMany: (keys) => runFenced(FENCED_DEL_SCRIPT, keys, []),
    close: () => keyv.disconnect(),
  });
}
