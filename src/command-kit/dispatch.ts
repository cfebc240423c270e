// Parse, run, and never crash: a usage error becomes a usage reply, and a failure inside a handler
// (store down, a bug) becomes an error reply that names the cause.

import { createTranslator } from '../i18n/index.ts';
import type { Reply } from '../reply/model.ts';
import { parseCommandLine, parseDiscordOptions, type UsageError } from './parse.ts';
import { commandRegistry } from './registry.ts';
import type { CommandContext, CommandDef, CommandRequest } from './types.ts';
import { errorMessage } from '../text/error-message.ts';

export function usageReply(error: UsageError, context: Pick<CommandContext, 'locale' | 'timeZone'>): Reply {
  const t = createTranslator(context.locale, context.timeZone);
  return {
    title: t.t('reply.usage.title'),
    tone: 'warning',
    error: true,
    blocks: [{ type: 'text', text: error.message, tone: 'warning' }],
    data: { error },
  };
}

export function failureReply(
  line: string,
  cause: unknown,
  context: Pick<CommandContext, 'locale' | 'timeZone'>,
): Reply {
  const t = createTranslator(context.locale, context.timeZone);
  const message = errorMessage(cause);
  return {
    title: t.t('reply.error.title'),
    tone: 'bad',
    error: true,
    blocks: [
      { type: 'text', text: t.t('reply.error.internal', { command: line.trim(), cause: message }), tone: 'bad' },
    ],
    data: { error: { code: 'internal', message } },
  };
}

/** Runs a parsed command, turning a thrown failure into an error reply. */
export async function runCommand(
  command: CommandDef,
  args: Record<string, string | number | undefined>,
  context: CommandContext,
  line = command.name,
  registry: readonly CommandDef[] = commandRegistry,
): Promise<Reply> {
  try {
    return await command.handler(args, { ...context, commands: registry });
  } catch (cause) {
    return failureReply(line, cause, context);
  }
}

/**
 * Answers one command line (what follows /dmarc; a leading /dmarc is accepted), or a command whose
 * options arrived typed (validated the same way, without re-tokenising their values).
 */
export async function answer(
  request: CommandRequest,
  context: CommandContext,
  registry: readonly CommandDef[] = commandRegistry,
): Promise<Reply> {
  const line = typeof request === 'string' ? request : request.text;
  const options = { locale: context.locale, timeZone: context.timeZone, now: context.now() };
  let parsed;
  try {
    parsed =
      typeof request === 'string'
        ? parseCommandLine(request, registry, options)
        : parseDiscordOptions(request.command, request.options, registry, options);
  } catch (cause) {
    return failureReply(line, cause, context);
  }
  if ('error' in parsed) return usageReply(parsed.error, context);
  return runCommand(parsed.command, parsed.args, context, line, registry);
}
