// `dmarc-bot register-commands`: registers `/dmarc` with its subcommands and typed options with
// Discord, for one guild when DISCORD_GUILD_ID is set (visible at once) or globally (may take up
// to an hour to appear). Re-run after upgrading: the command set is replaced, not appended.

import { parseArgs } from 'node:util';
import { ConfigError } from '../config.ts';
import { loadSettings } from './settings.ts';
import { errorMessage } from '../text/error-message.ts';
import { helpOption, parseCommandArgs } from './args.ts';

const help = `Usage: dmarc-bot register-commands [--dry-run]

Registers /dmarc with Discord using DISCORD_TOKEN and DISCORD_APPLICATION_ID; for the guild
DISCORD_GUILD_ID when set, else globally. --dry-run prints the payload and sends nothing.
Exit status: 0 registered, 1 failed (settings, Discord), 2 usage error.
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('register-commands', help, () =>
    parseArgs({ args: argv, options: { ...helpOption, 'dry-run': { type: 'boolean' } } }),
  );
  if (typeof parsed === 'number') return parsed;
  const [{ buildCommandPayload }, { commandRegistry }] = await Promise.all([
    import('../chat/discord/payload.ts'),
    import('../command-kit/registry.ts'),
  ]);
  if (parsed.values['dry-run']) {
    process.stdout.write(JSON.stringify([buildCommandPayload(commandRegistry)], null, 2) + '\n');
    return 0;
  }
  let config;
  try {
    config = loadSettings();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (!config.DISCORD_TOKEN || !config.DISCORD_APPLICATION_ID) {
    const missing = !config.DISCORD_TOKEN ? 'DISCORD_TOKEN' : 'DISCORD_APPLICATION_ID';
    process.stderr.write(
      `configuration: ${missing}: needed to register /dmarc with Discord (see the Discord developer portal, your application)\n`,
    );
    return 1;
  }
  try {
    // discord.js is loaded only to send the registration
    const { registerCommands } = await import('../chat/discord/bot.ts');
    const result = await registerCommands({
      token: config.DISCORD_TOKEN,
      applicationId: config.DISCORD_APPLICATION_ID,
      ...(config.DISCORD_GUILD_ID ? { guildId: config.DISCORD_GUILD_ID } : {}),
      ...(config.DISCORD_API_URL ? { apiUrl: config.DISCORD_API_URL } : {}),
      registry: commandRegistry,
    });
    const subcommands = result.payload.options.map((option) => option.name).join(', ');
    process.stdout.write(
      result.scope === 'guild'
        ? `Registered /dmarc (${subcommands}) for guild ${config.DISCORD_GUILD_ID}.\n`
        : `Registered /dmarc (${subcommands}) globally; Discord may take up to an hour to show it everywhere.\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n`);
    return 1;
  }
}
