// `/dmarc help [command]`: every command with its usage and an example, or one command in full.

import type { CommandDef } from '../src/commands/types.ts';
import { en, type MessageKey } from '../src/i18n/en.ts';
import { translatorFor } from '../src/i18n/present.ts';

/** The subcommand names (the registry imports this module, so the list is written out here). */
const COMMAND_NAMES = [
  'ip',
  'date',
  'ready',
  'mark',
  'marks',
  'summary',
  'sources',
  'failures',
  'tls',
  'help',
] as const;

const OPTION_TEXT: Record<string, MessageKey> = {
  address: 'option.address',
  days: 'option.days',
  date: 'option.date',
  domain: 'option.domain',
  subject: 'option.subject',
  verdict: 'option.verdict',
  command: 'option.command',
  force: 'option.force',
};

export const helpCommand: CommandDef = {
  name: 'help',
  description: en['command.help'],
  options: [
    { name: 'command', description: en['option.command'], type: 'choice', choices: COMMAND_NAMES, positional: true },
  ],
  examples: ['help', 'help ready'],
  async handler(args, context) {
    const t = translatorFor(context);
    // loaded on use: the registry imports this module
    const { commandRegistry } = await import('../src/commands/registry.ts');
    const { usageLine } = await import('../src/commands/parse.ts');
    const describe = (command: CommandDef) => ({
      name: command.name,
      usage: `/dmarc ${usageLine(command)}`,
      description: t.t(`command.${command.name}` as MessageKey),
      examples: command.examples.map((example) => `/dmarc ${example}`),
      options: command.options.map((option) => ({
        name: option.name,
        description: OPTION_TEXT[option.name] ? t.t(OPTION_TEXT[option.name]!) : option.description,
      })),
    });
    const one = commandRegistry.find((command) => command.name === args.command);
    if (one) {
      const help = describe(one);
      return {
        title: help.usage,
        tone: 'info',
        blocks: [
          { type: 'text', text: help.description },
          ...(help.options.length
            ? [
                {
                  type: 'fields' as const,
                  fields: help.options.map((option) => ({ label: option.name, value: option.description })),
                },
              ]
            : []),
          { type: 'list', title: t.t('label.example'), items: help.examples },
        ],
        data: { commands: [help] },
      };
    }
    const commands = commandRegistry.map(describe);
    return {
      title: t.t('help.title'),
      tone: 'info',
      blocks: [
        {
          type: 'table',
          columns: [t.t('label.command'), '', t.t('label.example')],
          rows: commands.map((c) => [c.usage, c.description, c.examples[0] ?? c.usage]),
        },
        { type: 'context', text: t.t('help.footer') },
      ],
      data: { commands },
    };
  },
};
