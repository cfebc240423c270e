// `/dmarc help [command]`: every command with its usage and an example, or one command in full.
// Everything shown comes from the definitions of the registry the command was dispatched from.

import { usageLine } from '../src/command-kit/parse.ts';
import type { CommandDef, OptionDef } from '../src/command-kit/types.ts';
import { en, type MessageKey } from '../src/i18n/en.ts';
import type { Translator } from '../src/i18n/index.ts';
import { translatorFor } from '../src/i18n/present.ts';

/** An option's text in the reader's language: `option.<name>` when the catalog has it, else the definition's. */
function optionText(t: Translator, option: OptionDef): string {
  const key = `option.${option.name}`;
  return key in en ? t.t(key as MessageKey) : option.description;
}

/** A command's description: `command.<name>` when the catalog has it, else the definition's. */
function commandText(t: Translator, command: CommandDef): string {
  const key = `command.${command.name}`;
  return key in en ? t.t(key as MessageKey) : command.description;
}

export const helpCommand: CommandDef = {
  name: 'help',
  description: en['command.help'],
  options: [{ name: 'command', description: en['option.command'], type: 'command', positional: true }],
  examples: ['help', 'help ready'],
  presentationOnly: true,
  async handler(args, context) {
    const t = translatorFor(context);
    const describe = (command: CommandDef) => ({
      name: command.name,
      usage: `/dmarc ${usageLine(command)}`,
      description: commandText(t, command),
      examples: command.examples.map((example) => `/dmarc ${example}`),
      options: command.options.map((option) => ({ name: option.name, description: optionText(t, option) })),
    });
    const one = context.commands.find((command) => command.name === args.command);
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
    const commands = context.commands.map(describe);
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
