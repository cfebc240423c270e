// Discord: answers `/dmarc` through the gateway when DISCORD_TOKEN is set (only the instance that
// holds the lease keeps a gateway session); digests and alerts go to DISCORD_DIGEST_CHANNEL_ID
// and/or DISCORD_WEBHOOK_URL. discord.js is loaded only when Discord is configured.

import { ConfigError } from '../../config.ts';
import type { ChatPlatform } from '../platform.ts';

export const discordPlatform: ChatPlatform = {
  name: 'discord',
  enabled: (config) => Boolean(config.DISCORD_TOKEN || config.DISCORD_WEBHOOK_URL),
  validate(config) {
    if (config.DISCORD_DIGEST_CHANNEL_ID && !config.DISCORD_TOKEN) {
      throw new ConfigError(
        'DISCORD_TOKEN',
        'needed to post to DISCORD_DIGEST_CHANNEL_ID (or use DISCORD_WEBHOOK_URL instead)',
      );
    }
  },
  async create({ config, registry, answer, access, log, onFatal }) {
    const { createDiscordBot } = await import('./bot.ts');
    const discord = createDiscordBot({
      ...(config.DISCORD_TOKEN ? { token: config.DISCORD_TOKEN } : {}),
      ...(config.DISCORD_API_URL ? { apiUrl: config.DISCORD_API_URL } : {}),
      ...(config.DISCORD_DIGEST_CHANNEL_ID ? { digestChannelId: config.DISCORD_DIGEST_CHANNEL_ID } : {}),
      ...(config.DISCORD_WEBHOOK_URL ? { webhookUrl: config.DISCORD_WEBHOOK_URL } : {}),
      ...(config.DISCORD_GUILD_ID ? { guildId: config.DISCORD_GUILD_ID } : {}),
      ...(onFatal ? { onFatal } : {}),
      registry,
      answer,
      access,
      log,
    });
    return {
      destinations: discord.destinations,
      async start() {
        // a refused token ends the start at once, on every instance; the gateway waits for the lease
        await discord.verifyToken();
        return {};
      },
      // Discord delivers a token's events to each of its sessions: one instance holds the session
      ...(discord.client
        ? {
            lead() {
              return { started: discord.start(), end: () => discord.stop() };
            },
          }
        : {}),
      stop: () => discord.stop(),
    };
  },
};
