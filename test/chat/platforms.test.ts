// The chat platform list `start` loops over: which platforms a configuration turns on, what each
// refuses, and that the terminal is the chat only when no other platform is configured.

import { describe, expect, it } from 'vitest';
import { chatPlatforms } from '../../src/chat/platforms.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';

function chosen(env: Record<string, string>): string[] {
  const config = loadConfig(env);
  const active: string[] = [];
  for (const platform of chatPlatforms) if (platform.enabled(config, active)) active.push(platform.name);
  return active;
}

describe('chat platforms', () => {
  it('turns on the configured platforms, and the terminal only when none is', () => {
    expect(chosen({})).toEqual(['terminal']);
    expect(chosen({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).toEqual(['slack']);
    expect(chosen({ DISCORD_WEBHOOK_URL: 'https://discord.com/api/webhooks/1/x' })).toEqual(['discord']);
    expect(chosen({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', DISCORD_TOKEN: 'd' })).toEqual([
      'slack',
      'discord',
    ]);
  });

  it('refuses incomplete settings with the missing one named', () => {
    const check = (env: Record<string, string>) => {
      const config = loadConfig(env);
      for (const platform of chatPlatforms) platform.validate?.(config);
    };
    expect(() => check({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(ConfigError);
    expect(() => check({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SLACK_SIGNING_SECRET/);
    expect(() => check({ DISCORD_DIGEST_CHANNEL_ID: '123' })).toThrow(/DISCORD_TOKEN/);
    expect(() => check({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' })).not.toThrow();
  });

  it('has unique names', () => {
    const names = chatPlatforms.map((platform) => platform.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
