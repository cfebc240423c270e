// A gateway session that is still opening when the bot stops (the lease was lost, or a shutdown):
// stopping must end it, neither waiting for ever nor leaving a session that connects again.
import { describe, expect, it } from 'vitest';
import { createDiscordBot } from '../../src/chat/discord/bot.ts';
import { startFakeDiscord, type FakeDiscordOptions } from '../support/fake-discord.ts';

async function stopWhileOpening(gateway: FakeDiscordOptions, openingWaitMs: number) {
  const fake = await startFakeDiscord(gateway);
  const warnings: string[] = [];
  const log = {
    info: () => undefined,
    warn: (_: unknown, message: string) => void warnings.push(message),
    error: () => undefined,
    debug: () => undefined,
  } as never;
  const bot = createDiscordBot({
    token: 'discord-stop-token.abc.def',
    apiUrl: fake.apiUrl,
    registry: [],
    answer: async () => ({ title: '', tone: 'info', blocks: [] }),
    access: { allowedChannels: [], allowedUsers: [] },
    log,
    openingWaitMs,
  });
  const identifies = () => fake.gatewayReceived.filter((payload) => payload.op === 2).length;
  try {
    const started = bot.start();
    await expect.poll(identifies, { timeout: 10_000 }).toBe(1);
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 8_000).unref());
    const stopped = await Promise.race([bot.stop().then(() => 'stopped'), timeout]);
    const opened = await Promise.race([started, timeout]);
    // a shard that reconnects after its stop would identify again within a second
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return { stopped, opened, identifies: identifies(), warnings };
  } finally {
    await fake.close();
  }
}

describe('stopping Discord while its gateway session opens', () => {
  it('lets a session whose READY is on its way open, then ends it', async () => {
    const result = await stopWhileOpening({ readyDelayMs: 300 }, 5_000);
    expect(result).toEqual({ stopped: 'stopped', opened: true, identifies: 1, warnings: [] });
  });

  it('gives up on a gateway that never sends READY, after the wait, and says so', async () => {
    const result = await stopWhileOpening({ answerIdentify: false }, 300);
    expect(result.stopped).toBe('stopped');
    expect(result.opened).toBe(false);
    expect(result.warnings).toContain('discord gateway session did not open: leaving it');
  });
});
