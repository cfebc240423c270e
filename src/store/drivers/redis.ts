// The Redis driver's backend (redis:// and rediss://); keyv's setMany is one MULTI/EXEC there.

import { createKeyv as createRedisKeyv } from '@keyv/redis';
import type { Logger } from '../../log.ts';
import { CONNECT_TIMEOUT_MS, keyvBackend, plainJson, redactUrl, type Backend } from '../backend.ts';

export async function openRedisBackend(url: string, namespace: string, logger: Logger): Promise<Backend> {
  const onError = (error: unknown) => logger.error({ err: error, store: redactUrl(url) }, 'store backend error');
  // createKeyv with a namespace prefixes once; new Keyv({ store: new KeyvRedis() }) would do it twice.
  // Without a connection timeout the client retries an unreachable server forever.
  // No offline queue: while the server is away commands fail at once instead of waiting, so a
  // flush reports the outage (nothing is acknowledged) and a shutdown is not held up by it.
  const keyv = createRedisKeyv(
    { url, disableOfflineQueue: true },
    { namespace, throwOnErrors: true, throwOnConnectError: true, connectionTimeout: CONNECT_TIMEOUT_MS },
  );
  keyv.serialize = plainJson.serialize;
  keyv.deserialize = plainJson.deserialize;
  keyv.on('error', onError);
  try {
    await keyv.get('catalog');
  } catch (error) {
    await keyv.disconnect().catch(() => undefined);
    throw new Error(`cannot reach the Redis store ${redactUrl(url)}: ${(error as Error).message}`, { cause: error });
  }
  return keyvBackend('redis', keyv, { close: () => keyv.disconnect() });
}
