// What a chat platform offers the bot, and what it gets to build itself from. Every platform lives
// in a folder of its own under src/chat with a platform.ts that describes it; platforms.ts lists
// them. A platform's SDK is imported only when the platform is configured.

import type { CommandDef } from '../command-kit/types.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { LogLines } from '../log-lines.ts';
import type { AccessRules } from './access.ts';
import type { AnswerFn } from './answer.ts';
import type { Destination } from './post.ts';

/** What every platform is built from. */
export interface ChatEnvironment {
  config: Config;
  answer: AnswerFn;
  access: AccessRules;
  /** the command definitions (Discord registers its subcommands from them) */
  registry: readonly CommandDef[];
  log: Logger;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** the platform failed for good (e.g. Discord close 4004): the bot ends naming the cause */
  onFatal?: (cause: string) => void;
  /** the person at the terminal ended the bot (Ctrl-C, Ctrl-D) */
  onQuit?: () => void;
  /** the log's lines, when they share the terminal with the chat */
  logLines?: LogLines;
}

/** A platform, created and ready to start. */
export interface ChatAdapter {
  /** where digests and alerts go on this platform (may be empty) */
  destinations: Destination[];
  /** connects; resolves fields worth logging ("slack ready", mode and port) */
  start(): Promise<Record<string, unknown>>;
  /**
   * Work only the instance holding the lease may do (Discord's gateway session: one per token).
   * It can be ended at any time, also while it is still connecting.
   */
  lead?(): LeaderWork;
  stop(): Promise<void>;
}

export interface LeaderWork {
  /** true once the work runs, false when end() came first; rejects when it could not begin */
  started: Promise<boolean>;
  /** ends the work (when the lease is lost or the bot stops) */
  end(): Promise<void>;
}

export interface ChatPlatform {
  name: string;
  /** whether the settings ask for this platform; `active` names the platforms already chosen */
  enabled(config: Config, active: readonly string[]): boolean;
  /** refuses incomplete settings with a ConfigError before anything is opened */
  validate?(config: Config): void;
  /** loads the platform's SDK and builds the adapter */
  create(environment: ChatEnvironment): Promise<ChatAdapter>;
}
