// An unreachable store fails at open within STORE_CONNECT_TIMEOUT_MS, with a plain message that
// names the store (password hidden) and the cause, not the client library's wording.

import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { freePort } from '../support/ports.ts';

// A port that accepts TCP connections and never answers: a server that hangs.
let silent: Server;
let silentPort: number;
const held = new Set<Socket>();
beforeAll(async () => {
  silentPort = await freePort();
  silent = createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

async function openError(url: string, connectTimeoutMs: number): Promise<string> {
  try {
    const store = await openStore(url, { connectTimeoutMs });
    await store.close();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${url} opened`);
}

describe('store connect timeout', () => {
  it('a Redis server that never answers: no answer within the timeout', async () => {
    const message = await openError(`redis://:hunter22@127.0.0.1:${silentPort}`, 800);
    expect(message).toBe(
      `cannot reach the Redis store redis://:***@127.0.0.1:${silentPort}: no answer within 800 ms (STORE_CONNECT_TIMEOUT_MS)`,
    );
  });

  it('a closed Redis port: plain words, not library text', async () => {
    const message = await openError(`redis://127.0.0.1:${await freePort()}`, 800);
    expect(message).toMatch(/^cannot reach the Redis store redis:\/\/127\.0\.0\.1:\d+: /);
    expect(message).not.toMatch(/throwOnConnectError|is not connected/);
  });

  it('a PostgreSQL server that never answers, and a closed PostgreSQL port', async () => {
    expect(await openError(`postgres://dmarc:pw@127.0.0.1:${silentPort}/dmarc`, 800)).toBe(
      `cannot reach the PostgreSQL store postgres://dmarc:***@127.0.0.1:${silentPort}/dmarc: no answer within 800 ms (STORE_CONNECT_TIMEOUT_MS)`,
    );
    expect(await openError(`postgres://dmarc:pw@127.0.0.1:${await freePort()}/dmarc`, 800)).toMatch(
      /: connection refused \(is the server running on that host and port\?\)$/,
    );
  });
});
