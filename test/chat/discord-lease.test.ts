// Two instances of the bot on one store with the same Discord token: only the lease holder opens a
// gateway session (Discord hands a token's events to every session it has), the other one waits
// and takes the session over when the lease frees.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startBot, type RunningBot } from '../../src/cli/start.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';

/** A logger whose messages can be read back. */
function capturingLogger() {
  const messages: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        messages.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  });
  return { log: createLogger('info', sink), messages };
}

describe('several instances on one store with Discord', () => {
  let dir: string;
  let discord: FakeDiscord;
  const bots: RunningBot[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmarc-discord-lease-'));
    discord = await startFakeDiscord();
  });
  afterAll(async () => {
    for (const bot of bots) await bot.stop();
    await discord?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('only the lease holder identifies; the other takes over when the lease frees', async () => {
    const config = loadConfig({
      DMARC_STORE: `sqlite://${join(dir, 'shared.sqlite')}`,
      DISCORD_TOKEN: 'lease-test-token.abc.def',
      DISCORD_APPLICATION_ID: '400000000000000001',
      DISCORD_API_URL: discord.apiUrl,
      TZ: 'UTC',
      DNS_SERVERS: '127.0.0.1:9',
      DNS_TIMEOUT_MS: '200',
    });
    const identifies = () => discord.gatewayReceived.filter((payload) => payload.op === 2);
    const first = capturingLogger();
    const second = capturingLogger();
    const leaseTtlMs = 900;
    const a = await startBot({ config, log: first.log, leaseTtlMs, onFatal: () => undefined });
    bots.push(a);
    await discord.gatewayReady();
    await expect.poll(() => first.messages, { timeout: 10_000 }).toContain('discord connected as the lease holder');

    const b = await startBot({ config, log: second.log, leaseTtlMs, onFatal: () => undefined });
    bots.push(b);
    // b found the lease held; give it several renewal rounds in which it could have connected
    await expect
      .poll(() => second.messages, { timeout: 10_000 })
      .toContain('another instance holds the lease: answering commands here; the rest waits for the lease');
    await new Promise((resolve) => setTimeout(resolve, leaseTtlMs));
    expect(identifies()).toHaveLength(1);
    expect(second.messages).not.toContain('discord connected as the lease holder');

    // the holder stops and releases the lease: the waiting instance opens the session
    await a.stop();
    await expect.poll(() => identifies().length, { timeout: 10_000 }).toBe(2);
    expect(identifies()[1]!.d.token).toBe('lease-test-token.abc.def');
    // READY follows the identify: the line comes when the session is open
    await expect.poll(() => second.messages, { timeout: 10_000 }).toContain('discord connected as the lease holder');
  });
});
