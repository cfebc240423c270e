// The text form of /dmarc commands (terminal, Slack): `ip 203.0.113.5 days:90`. Positional options
// first, the others written name:value as Discord shows them; values may be quoted. Every value is
// validated against its definition, and a bad one gives a short error saying what was expected,
// with an example. Discord's typed options go through the same validation (parseDiscordOptions).

import { normalizeIp } from '../net/ip.ts';
import { createTranslator, type Locale, type MessageKey } from '../i18n/index.ts';
import type { CommandArgs, CommandDef, OptionDef } from './types.ts';
import { isUtcDay } from '../time/utc-day.ts';

export type UsageErrorCode =
  | 'empty'
  | 'unknown-command'
  | 'missing'
  | 'invalid'
  | 'unknown-option'
  | 'duplicate'
  | 'too-many'
  | 'unterminated-quote';

export interface UsageError {
  code: UsageErrorCode;
  /** the command, when it was recognised */
  command?: string;
  option?: string;
  /** the offending text as given */
  value?: string;
  /** what was expected, in words */
  expected?: string;
  /** a full example command line (without /dmarc) */
  example: string;
  /** the whole error in the requested locale */
  message: string;
}

export type ParseResult = { command: CommandDef; args: CommandArgs } | { error: UsageError };

export interface ParseOptions {
  locale?: Locale;
  /** resolves `today` / `yesterday` */
  timeZone?: string;
  now?: Date;
  /** the command names a `command` option accepts; the parsers fill it from their registry */
  commands?: readonly string[];
}

interface Token {
  text: string;
  /** index of the first colon outside quotes, -1 when none */
  colon: number;
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '\u201c': '\u201d', '\u2018': '\u2019' };

/** Splits on whitespace outside quotes; quotes (also the typographic ones chat apps insert) are removed. */
function tokenize(line: string): Token[] | null {
  const tokens: Token[] = [];
  let current: Token | null = null;
  let closing: string | null = null;
  for (const char of line) {
    if (closing) {
      if (char === closing || (closing === '\u201d' && char === '"')) closing = null;
      else current!.text += char;
      continue;
    }
    if (/\s/.test(char)) {
      if (current) tokens.push(current);
      current = null;
      continue;
    }
    current ??= { text: '', colon: -1 };
    if (QUOTES[char]) closing = QUOTES[char]!;
    else {
      if (char === ':' && current.colon < 0) current.colon = current.text.length;
      current.text += char;
    }
  }
  if (closing) return null;
  if (current) tokens.push(current);
  return tokens;
}

/** YYYY-MM-DD of an instant in a time zone. */
export function dayInZone(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Normalised IP text as the store keys it (IPv4-mapped IPv6 becomes IPv4), or null: only
 * dotted-quad IPv4 and proper IPv6 are accepted (not "1" or "0x7f.1").
 */
export function normaliseIp(text: string): string | null {
  return text.trim() === text ? normalizeIp(text) : null;
}

function expectedKey(
  option: OptionDef,
  commands: readonly string[],
): { key: MessageKey; params: Record<string, string | number> } {
  switch (option.type) {
    case 'ip':
      return { key: 'expected.ip', params: {} };
    case 'date':
      return { key: 'expected.date', params: {} };
    case 'integer':
      return { key: 'expected.integer', params: { min: option.min ?? 0, max: option.max ?? Number.MAX_SAFE_INTEGER } };
    case 'domain':
      return { key: 'expected.domain', params: {} };
    case 'choice':
      return { key: 'expected.choice', params: { choices: (option.choices ?? []).join(', ') } };
    case 'command':
      return { key: 'expected.choice', params: { choices: commands.join(', ') } };
    default:
      return { key: 'expected.string', params: {} };
  }
}

/** Converts one raw value; undefined when it does not fit the option. */
export function convertValue(option: OptionDef, raw: string, options: ParseOptions = {}): string | number | undefined {
  const text = raw.trim();
  switch (option.type) {
    case 'ip':
      return normaliseIp(text) ?? undefined;
    case 'date': {
      const lower = text.toLowerCase();
      if (lower === 'today' || lower === 'yesterday') {
        const now = options.now ?? new Date();
        const instant = lower === 'today' ? now : new Date(now.getTime() - 86_400_000);
        // UTC days, as the store keys them: a local day east of UTC would find no reports in its
        // morning (the `date` reply says which UTC day it answers).
        return dayInZone(instant, 'UTC');
      }
      return isUtcDay(text) ? text : undefined;
    }
    case 'integer': {
      if (!/^\d+$/.test(text)) return undefined;
      const value = Number(text);
      if (option.min !== undefined && value < option.min) return undefined;
      if (option.max !== undefined && value > option.max) return undefined;
      return value;
    }
    case 'domain': {
      const domain = text.toLowerCase().replace(/\.$/, '');
      return DOMAIN.test(domain) ? domain : undefined;
    }
    case 'choice': {
      const lower = text.toLowerCase();
      return option.choices?.includes(lower) ? lower : undefined;
    }
    case 'command': {
      const lower = text.toLowerCase();
      return options.commands?.includes(lower) ? lower : undefined;
    }
    default:
      return text === '' ? undefined : text;
  }
}

/** The example that best shows an option: one that writes it, else the first. */
function exampleFor(command: CommandDef, option?: OptionDef): string {
  if (option && !option.positional) {
    const named = command.examples.find((example) => example.includes(`${option.name}:`));
    if (named) return named;
  }
  return command.examples[0] ?? command.name;
}

const QUOTED_MAX = 60;

/**
 * What the user typed, as an error quotes it back: control characters made visible (they would
 * reach the terminal raw) and long input cut, so that the answer stays one short line.
 */
function quotable(text: string): string {
  const visible = text.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return visible.length > QUOTED_MAX ? `${visible.slice(0, QUOTED_MAX - 1)}…` : visible;
}

class Errors {
  private readonly t;
  constructor(
    locale: Locale,
    private readonly commands: readonly string[] = [],
  ) {
    this.t = createTranslator(locale).t;
  }

  make(
    code: UsageErrorCode,
    key: MessageKey,
    fields: Omit<UsageError, 'code' | 'message'>,
    extra: Record<string, string> = {},
  ): { error: UsageError } {
    const params: Record<string, string | number | undefined> = { ...fields, ...extra };
    for (const typed of ['value', 'line', 'name'] as const) {
      if (typeof params[typed] === 'string') params[typed] = quotable(params[typed]);
    }
    return { error: { code, ...fields, message: this.t(key, params) } };
  }

  didYouMean(suggestion: string): string {
    return this.t('usage.didYouMean', { suggestion });
  }

  expected(option: OptionDef): string {
    const { key, params } = expectedKey(option, this.commands);
    return this.t(key, params);
  }
}

/** Edit distance (insert, delete, replace, swap of neighbours), for "did you mean". */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The command a typo most likely meant: within two edits (one for short names), or a prefix. */
function closestCommand(name: string, registry: readonly CommandDef[]): string | null {
  const lower = name.toLowerCase().slice(0, 40);
  let best: { name: string; distance: number } | null = null;
  for (const command of registry) {
    const d = command.name.startsWith(lower) && lower.length >= 2 ? 0 : distance(lower, command.name);
    if (d <= (command.name.length <= 3 ? 1 : 2) && (!best || d < best.distance))
      best = { name: command.name, distance: d };
  }
  return best?.name ?? null;
}

function findCommand(name: string, registry: readonly CommandDef[]): CommandDef | undefined {
  const lower = name.toLowerCase();
  return registry.find((command) => command.name === lower);
}

/** Validates collected raw values (by option name) against the command's definition. */
function validate(command: CommandDef, raw: Map<string, string>, errors: Errors, options: ParseOptions): ParseResult {
  const args: CommandArgs = {};
  for (const option of command.options) {
    const given = raw.get(option.name);
    if (given === undefined) {
      if (option.required) {
        return errors.make('missing', 'usage.missing', {
          command: command.name,
          option: option.name,
          expected: errors.expected(option),
          example: exampleFor(command, option),
        });
      }
      continue;
    }
    const value = convertValue(option, given, options);
    if (value === undefined) {
      return errors.make('invalid', 'usage.invalid', {
        command: command.name,
        option: option.name,
        value: given,
        expected: errors.expected(option),
        example: exampleFor(command, option),
      });
    }
    args[option.name] = value;
  }
  return { command, args };
}

export function parseCommandLine(line: string, registry: readonly CommandDef[], given: ParseOptions = {}): ParseResult {
  const options: ParseOptions = { ...given, commands: registry.map((command) => command.name) };
  const errors = new Errors(options.locale ?? 'en', options.commands);
  const tokens = tokenize(line);
  if (!tokens)
    return errors.make(
      'unterminated-quote',
      'usage.unterminatedQuote',
      { value: line, example: 'mark "Example Sender" mine' },
      { line },
    );
  if (tokens[0] && /^\/?dmarc$/i.test(tokens[0].text)) tokens.shift();
  const [head, ...rest] = tokens;
  // `/dmarc` alone is a request for help.
  const help = findCommand('help', registry);
  if (!head) return help ? { command: help, args: {} } : errors.make('empty', 'usage.empty', { example: 'help' });
  const command = findCommand(head.text, registry);
  if (!command) {
    const suggestion = closestCommand(head.text, registry);
    const made = errors.make(
      'unknown-command',
      'usage.unknownCommand',
      { value: head.text, example: (suggestion && findCommand(suggestion, registry)?.examples[0]) || 'help' },
      { name: head.text, list: registry.map((c) => c.name).join(', ') },
    );
    if (suggestion) made.error.message = `${errors.didYouMean(suggestion)} ${made.error.message}`;
    return made;
  }

  const raw = new Map<string, string>();
  const positional = command.options.filter((option) => option.positional);
  const words: string[] = [];
  for (const token of rest) {
    const name = token.colon > 0 ? token.text.slice(0, token.colon).toLowerCase() : null;
    // "name:value" unless it is an IPv6 address (which has colons of its own)
    if (name !== null && /^[a-z][a-z_-]*$/.test(name) && normaliseIp(token.text) === null) {
      const option = command.options.find((candidate) => candidate.name === name);
      if (!option) {
        return errors.make(
          'unknown-option',
          'usage.unknownOption',
          { command: command.name, value: token.text, example: exampleFor(command) },
          {
            name,
            list: command.options.map((o) => (o.positional ? o.name : `${o.name}:`)).join(', ') || '-',
          },
        );
      }
      if (raw.has(option.name))
        return errors.make('duplicate', 'usage.duplicate', {
          command: command.name,
          option: option.name,
          example: exampleFor(command, option),
        });
      raw.set(option.name, token.text.slice(token.colon + 1));
      continue;
    }
    words.push(token.text);
  }
  const open = positional.filter((option) => !raw.has(option.name));
  // Extra words join the one free-text positional: `mark Amazon SES spoof` names "Amazon SES".
  const text = open.filter((option) => option.type === 'string');
  if (words.length > open.length && text.length === 1) {
    const at = open.indexOf(text[0]!);
    const surplus = words.length - open.length;
    words.splice(at, surplus + 1, words.slice(at, at + surplus + 1).join(' '));
  }
  // `ready 60` and `ready example.com 60` both work: a word that does not fit an optional
  // positional goes to the next one it fits.
  let next = 0;
  for (const word of words) {
    while (
      next < open.length - 1 &&
      !open[next]!.required &&
      convertValue(open[next]!, word, options) === undefined &&
      open.slice(next + 1).some((later) => convertValue(later, word, options) !== undefined)
    )
      next += 1;
    const option = open[next];
    if (!option)
      return errors.make('too-many', 'usage.tooMany', {
        command: command.name,
        value: word,
        example: exampleFor(command),
      });
    raw.set(option.name, word);
    next += 1;
  }
  return validate(command, raw, errors, options);
}

/** Discord's typed options of a subcommand (interaction.options.data), validated like text. */
export function parseDiscordOptions(
  subcommand: string,
  options: ReadonlyArray<{ name: string; value?: string | number | boolean | null }>,
  registry: readonly CommandDef[],
  given: ParseOptions = {},
): ParseResult {
  const parseOptions: ParseOptions = { ...given, commands: registry.map((command) => command.name) };
  const errors = new Errors(parseOptions.locale ?? 'en', parseOptions.commands);
  const command = findCommand(subcommand, registry);
  if (!command) {
    return errors.make(
      'unknown-command',
      'usage.unknownCommand',
      { value: subcommand, example: 'help' },
      { name: subcommand, list: registry.map((c) => c.name).join(', ') },
    );
  }
  const raw = new Map<string, string>();
  for (const option of options) {
    if (option.value === undefined || option.value === null) continue;
    if (!command.options.some((candidate) => candidate.name === option.name)) {
      return errors.make(
        'unknown-option',
        'usage.unknownOption',
        { command: command.name, value: option.name, example: exampleFor(command) },
        { name: option.name, list: command.options.map((o) => o.name).join(', ') || '-' },
      );
    }
    raw.set(option.name, String(option.value));
  }
  return validate(command, raw, errors, parseOptions);
}

/** "ip <address> [days:N]": the usage line of a command, for help and errors. */
export function usageLine(command: CommandDef): string {
  const parts = command.options.map((option) => {
    const body = option.positional
      ? `<${option.name}>`
      : `${option.name}:${option.type === 'integer' ? 'N' : `<${option.name}>`}`;
    return option.required ? body : `[${body}]`;
  });
  return [command.name, ...parts].join(' ');
}
