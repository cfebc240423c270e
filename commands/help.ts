// `/dmarc help`: every command, its usage and an example.

import type { CommandDef } from '../src/commands/types.ts';
import { en, type MessageKey } from '../src/i18n/en.ts';
import { translatorFor } from '../src/i18n/present.ts';

export const helpCommand: CommandDef = {
  name: 'help',
  description: en['command.help'],
  options: [],
  examples: ['help'],
  async handler(_args, context) {
    const t = translatorFor(context);
    // loaded on use: the registry imports this module
    const { commandRegistry } = await import('../src/commands/registry.ts');
    const { usageLine } = await import('../src/commands/parse.ts');
    const commands = commandRegistry.map((command) => ({
      name: command.name,
      usage: `/dmarc ${usageLine(command)}`,
      description: t.t(`command.${command.name}` as MessageKey),
      example: `/dmarc ${command.examples[0] ?? command.name}`,
    }));
    return {
      title: t.t('help.title'),
      tone: 'info',
      blocks: [
        { type: 'table', columns: [t.t('label.command'), '', t.t('label.example')], rows: commands.map((c) => [c.usage, c.description, c.example]) },
        { type: 'context', text: t.t('help.footer') },
      ],
      data: { commands },
    };
  },
};
