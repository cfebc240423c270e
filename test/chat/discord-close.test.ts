// An unrecoverable gateway close (4004: the token was reset) ends the bot with a line naming the
// cause, instead of a process that lives on, deaf and silent.
import { describe, expect, it } from 'vitest';
import { createDiscordBot } from '../../src/chat/discord/bot.ts';
import { startFakeDiscord } from '../support/fake-discord.ts';

describe('Discord gateway close codes', () => {
  it('4004 gives a named fatal cause; the disconnect is logged', async () => {
    const fake = await startFakeDiscord();
    const causes: string[] = [];
    const logged: string[] = [];
    const log = {
      info: (_: unknown, message: string) => void logged.push(message),
      warn: (_: unknown, message: string) => void logged.push(message),
      error: (_: unknown, message: string) => void logged.push(message),
      debug: () => undefined,
    } as never;
    const bot = createDiscordBot({
      token: 'discord-close-token.abc.def',
      apiUrl: fake.apiUrl,
      registry: [],
      answer: async () => ({ title: '', tone: 'info', blocks: [] }),
      access: { allowedChannels: [], allowedUsers: [] },
      log,
      onFatal: (cause) => void causes.push(cause),
    });
    try {
      await bot.start();
      await fake.gatewayReady();
      fake.closeGateway(4004, 'Authentication failed.');
      await expect
        .poll(() => causes, { timeout: 10_000 })
        .toEqual(['discord gateway closed with 4004: authentication failed: DISCORD_TOKEN is wrong or was reset']);
      expect(logged).toContain('discord gateway disconnected');
    } finally {
      await bot.stop();
      await fake.close();
    }
  });
});
