// `/dmarc` as Discord sees it, generated from the same command definitions as the text parser:
// one chat-input command with a subcommand per CommandDef and typed options, plus a `public`
// boolean on each subcommand (answers are private by default). Pure; registration PUTs it.

import type { CommandDef, OptionDef, TypedCommand } from '../../command-kit/types.ts';

// discord-api-types enums, written out so this module stays a pure data function
const CHAT_INPUT = 1;
const SUB_COMMAND = 1;
const STRING = 3;
const INTEGER = 4;
const BOOLEAN = 5;

export interface DiscordOptionPayload {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: Array<{ name: string; value: string }>;
  min_value?: number;
  max_value?: number;
  min_length?: number;
  max_length?: number;
  options?: DiscordOptionPayload[];
}

export interface DiscordCommandPayload {
  type: number;
  name: string;
  description: string;
  options: DiscordOptionPayload[];
  /** usable in guilds and in DMs with the bot */
  contexts?: number[];
  /** who sees the command by default: Manage Server; server admins can open it to others */
  default_member_permissions?: string;
}

/** Discord's Manage Server permission bit, as the decimal string the API takes. */
export const MANAGE_GUILD = String(1 << 5);

/** Discord: names 1-32 chars of lower-case letters, digits, `-` and `_`. */
export function discordName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .replace(/^-+|-+$/g, '');
  return cleaned.slice(0, 32) || 'x';
}

function description(text: string): string {
  const trimmed = text.trim() || '-';
  return trimmed.length <= 100 ? trimmed : trimmed.slice(0, 99) + '…';
}

function optionPayload(option: OptionDef, commands: readonly string[]): DiscordOptionPayload {
  const base = {
    name: discordName(option.name),
    description: description(option.description),
    ...(option.required ? { required: true } : {}),
  };
  switch (option.type) {
    case 'integer':
      return {
        type: INTEGER,
        ...base,
        ...(option.min !== undefined ? { min_value: option.min } : {}),
        ...(option.max !== undefined ? { max_value: option.max } : {}),
      };
    case 'choice':
      return {
        type: STRING,
        ...base,
        choices: (option.choices ?? []).slice(0, 25).map((choice) => ({ name: choice, value: choice })),
      };
    case 'command':
      return {
        type: STRING,
        ...base,
        choices: commands.slice(0, 25).map((choice) => ({ name: choice, value: choice })),
      };
    case 'ip':
      return { type: STRING, ...base, min_length: 2, max_length: 45 };
    case 'date':
      // YYYY-MM-DD, or the words today / yesterday
      return { type: STRING, ...base, min_length: 5, max_length: 10 };
    case 'domain':
      return { type: STRING, ...base, max_length: 253 };
    case 'string':
      return { type: STRING, ...base };
  }
}

export const PUBLIC_OPTION = 'public';

export function buildCommandPayload(registry: readonly CommandDef[], name = 'dmarc'): DiscordCommandPayload {
  const names = registry.map((command) => command.name);
  const subcommands = registry.slice(0, 25).map((command): DiscordOptionPayload => {
    const options = command.options.map((option) => optionPayload(option, names));
    // Discord requires required options before optional ones
    const ordered = [...options.filter((o) => o.required), ...options.filter((o) => !o.required)];
    const shared: DiscordOptionPayload = {
      type: BOOLEAN,
      name: PUBLIC_OPTION,
      description: 'Show the answer to everyone in the channel',
    };
    const withPublic = ordered.some((o) => o.name === PUBLIC_OPTION) ? ordered : [...ordered, shared];
    return {
      type: SUB_COMMAND,
      name: discordName(command.name),
      description: description(command.description),
      options: withPublic.slice(0, 25),
    };
  });
  return {
    type: CHAT_INPUT,
    name,
    description: 'DMARC reports: sources, readiness, digests',
    options: subcommands,
    contexts: [0, 1],
    default_member_permissions: MANAGE_GUILD,
  };
}

/** An option value as the interaction carries it. */
export interface InteractionOption {
  name: string;
  value?: string | number | boolean;
}

/**
 * The subcommand and its typed options as the dispatcher takes them: option values exactly as
 * Discord typed them (a subject with quotes or spaces stays whole), names mapped back to the
 * definitions' names, `public` split off. `text` is the same command as a line, for messages.
 */
export function interactionToCommand(
  registry: readonly CommandDef[],
  subcommand: string,
  options: readonly InteractionOption[],
): { command: TypedCommand; shared: boolean } {
  const { line, shared } = interactionToLine(registry, subcommand, options);
  const definition = registry.find((c) => discordName(c.name) === subcommand);
  const values: Array<{ name: string; value: string | number | boolean }> = [];
  for (const option of options) {
    if (option.name === PUBLIC_OPTION || option.value === undefined) continue;
    const declared = definition?.options.find((o) => discordName(o.name) === option.name);
    values.push({ name: declared?.name ?? option.name, value: option.value });
  }
  return { command: { command: definition?.name ?? subcommand, options: values, text: line }, shared };
}

/**
 * Turns a subcommand and its options into the text command line the dispatcher answers:
 * positional options in their declared order, the others as `name:value`; `public` is split off.
 */
export function interactionToLine(
  registry: readonly CommandDef[],
  subcommand: string,
  options: readonly InteractionOption[],
): { line: string; shared: boolean } {
  const shared = options.some((o) => o.name === PUBLIC_OPTION && o.value === true);
  const given = new Map(
    options.filter((o) => o.name !== PUBLIC_OPTION && o.value !== undefined).map((o) => [o.name, String(o.value)]),
  );
  const command = registry.find((c) => discordName(c.name) === subcommand);
  const quote = (value: string) => (/\s|"/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value);
  const words = [command?.name ?? subcommand];
  if (command) {
    for (const option of command.options) {
      const value = given.get(discordName(option.name));
      if (value === undefined) continue;
      words.push(option.positional ? quote(value) : `${option.name}:${quote(value)}`);
      given.delete(discordName(option.name));
    }
  }
  for (const [name, value] of given) words.push(`${name}:${quote(value)}`);
  return { line: words.join(' '), shared };
}
