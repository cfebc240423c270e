// Commands are data (name, description, typed options) plus a handler. The same definitions drive
// the text parser (terminal, Slack's `/dmarc <sub> <args>`) and Discord's registered subcommands.

import type { TextFetcher } from '../dns-check/types.ts';
import type { RecordResolver } from '../net/dns-records.ts';
import type { Reply } from '../reply/model.ts';
import type { ReadinessThresholds } from '../insight/types.ts';
import type { AddressLookup, PtrLookup } from '../senders/lookups.ts';
import type { ReportStore } from '../store/types.ts';

/** `command`: the name of one of the registry's commands (help's argument); its choices come from the registry. */
export type OptionType = 'string' | 'integer' | 'ip' | 'date' | 'domain' | 'choice' | 'command';

export interface OptionDef {
  name: string;
  description: string;
  type: OptionType;
  required?: boolean;
  /** positional options come first, in order, without `name:`; the others are written `name:value` */
  positional?: boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

export interface CommandDef {
  name: string;
  description: string;
  options: readonly OptionDef[];
  /** full example command lines (without the leading /dmarc), shown by help and in usage errors */
  examples: readonly string[];
  /** true when the handler reads only the locale and time zone (no store, DNS or other setting) */
  presentationOnly?: boolean;
  handler(args: CommandArgs, context: HandlerContext): Promise<Reply>;
}

/** What a handler runs with: the request's context plus the registry it was dispatched from (help reads it). */
export interface HandlerContext extends CommandContext {
  commands: readonly CommandDef[];
}

export type CommandArgs = Record<string, string | number | undefined>;

/**
 * A command whose options arrive typed, one value per option (Discord's interaction options),
 * rather than as a line to tokenise: values keep their quotes and spaces.
 */
export interface TypedCommand {
  command: string;
  options: ReadonlyArray<{ name: string; value: string | number | boolean }>;
  /** the same command written as a text line, for error messages and logs */
  text: string;
}

/** What a chat platform hands the dispatcher: a text line, or a command with typed options. */
export type CommandRequest = string | TypedCommand;

/** Who asked and where; used by `mark` (who decided) and by access rules. */
export interface Requester {
  platform: 'terminal' | 'slack' | 'discord';
  userId: string;
  userName?: string;
  channelId?: string;
}

export interface CommandContext {
  store: ReportStore;
  now: () => Date;
  dns: {
    reverse: PtrLookup;
    resolve: AddressLookup;
    timeoutMs: number;
    /** record lookups and the HTTPS fetch of the published-record checks; absent: "could not check" */
    records?: RecordResolver;
    fetchText?: TextFetcher;
  };
  locale: 'en' | 'ja';
  timeZone: string;
  requester: Requester;
  thresholds: ReadinessThresholds;
}
