// An unrecoverable gateway close (4004: the token was reset) ends the bot with a line naming the
// cause, instead of a process that lives on, deaf and silent.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDiscordBot } from '../../src/chat/discord/bot.ts';
import { startFakeDiscord } from '../support/fake-discord.ts';
import { cliEnv } from '../ingest/run-cli.ts';

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

  it('4004 ends `dmarc-bot start` with status 1 and a fatal log line naming the cause', async () => {
    const fake = await startFakeDiscord();
    const dir = await mkdtemp(join(tmpdir(), 'dmarc-close-'));
    try {
      const child = spawn(process.execPath, ['src/bin.mjs', 'start'], {
        env: cliEnv({
          DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
          DISCORD_TOKEN: 'discord-exit-token.abc.def',
          DISCORD_APPLICATION_ID: '400000000000000001',
          DISCORD_API_URL: fake.apiUrl,
          LOG_LEVEL: 'info',
          DNS_SERVERS: '127.0.0.1:9',
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await fake.gatewayReady();
      fake.closeGateway(4004, 'Authentication failed.');
      const code = await exited;
      clearTimeout(timer);
      expect(code).toBe(1);
      const fatal = stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .filter((record) => record.level === 60);
      expect(fatal.map((record) => record.msg)).toEqual([
        'discord gateway closed with 4004: authentication failed: DISCORD_TOKEN is wrong or was reset',
      ]);
      expect(stderr).not.toContain('discord-exit-token');
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
