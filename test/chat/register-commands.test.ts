import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRegistry } from '../../src/command-kit/registry.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'register-commands', ...args], {
    cwd: '/',
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('dmarc-bot register-commands', () => {
  let discord: FakeDiscord;
  beforeAll(async () => {
    discord = await startFakeDiscord();
  });
  afterAll(async () => {
    await discord?.close();
  });

  it('PUTs /dmarc with one subcommand per registered command to the guild', async () => {
    const result = await run([], {
      DISCORD_TOKEN: 'reg-token',
      DISCORD_APPLICATION_ID: '480000000000000001',
      DISCORD_GUILD_ID: '380000000000000001',
      DISCORD_API_URL: discord.apiUrl,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('guild 380000000000000001');
    const [put] = discord.callsTo('PUT', /^\/applications\/480000000000000001\/guilds\/380000000000000001\/commands$/);
    expect(put!.body).toHaveLength(1);
    expect(put!.body[0].options.map((o: { name: string }) => o.name)).toEqual(commandRegistry.map((c) => c.name));
  });

  it('names the missing setting and sends nothing without an application id', async () => {
    const before = discord.calls.length;
    const result = await run([], { DISCORD_TOKEN: 'reg-token', DISCORD_API_URL: discord.apiUrl });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DISCORD_APPLICATION_ID');
    expect(result.stderr).not.toContain('reg-token');
    expect(discord.calls.length).toBe(before);
  });
});
