// The Redis driver's backend (redis:// and rediss://); keyv's setMany is one MULTI/EXEC there.

import { createKeyv as createRedisKeyv } from '@keyv/redis';
import type { Logger } from '../../log.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  keyvBackend,
  plainJson,
  redactUrl,
  unreachable,
  within,
  type Backend,
} from '../backend.ts';

export async function openRedisBackend(
  url: string,
  namespace: string,
  logger: Logger,
  connectTimeoutMs: number = DEFAULT_CONNECT_TIMEOUT_MS,
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
  return keyvBackend('redis', keyv, { close: () => keyv.disconnect() });
}
