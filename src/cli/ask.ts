// `dmarc-bot ask "<command line>" [--json]`: answers one /dmarc command from the store in
// DMARC_STORE, for the terminal (or as the reply's data in JSON). The store is opened only when
// the command reads it, so `ask help` touches no file.

import { answer, runCommand } from '../command-kit/dispatch.ts';
import { parseCommandLine } from '../command-kit/parse.ts';
import { commandRegistry } from '../command-kit/registry.ts';
import { parseArgs } from 'node:util';
import { userInfo } from 'node:os';
import { loadPresentation } from './presentation-settings.ts';
import { createCommandContext, createPresentationContext } from '../context.ts';
import type { Reply } from '../reply/model.ts';
import { renderTerminal } from '../render/terminal.ts';
import type { ReportStore } from '../store/types.ts';
import type { Requester } from '../command-kit/types.ts';
import { errorMessage } from '../text/error-message.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, helpOption, parseCommandArgs, usageError } from './args.ts';
import { openOnFirstUse } from './lazy-store.ts';
import { existsSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { resolve } from 'node:path';
import { DEMO_STORE_PATH, wantsDemo } from '../demo/wants.ts';

const help = `Usage: dmarc-bot ask "<command line>" [--json]

Answers a /dmarc command from the store (DMARC_STORE; with nothing configured, the demo store
data/demo.sqlite, made first when it is missing), e.g.
  dmarc-bot ask "ip 203.0.113.5 days:90"
  dmarc-bot ask "ready example.com"
  dmarc-bot ask help

  --json   print the answer's data as JSON instead of text

Exit status: 0 answered, 1 could not answer (settings, store), 2 usage error in the command line.`;

function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return 'terminal';
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('ask', help, () =>
    parseArgs({ args: argv, options: { ...helpOption, json: { type: 'boolean' } }, allowPositionals: true }),
  );
  if (typeof parsed === 'number') return parsed;
  const json = parsed.values.json ?? false;
  const words = parsed.positionals;
  if (words.length === 0) return usageError('ask', 'give a command line, e.g. dmarc-bot ask help');

  try {
    const line = words.join(' ');
    const user = whoAmI();
    const requester: Requester = { platform: 'terminal', userId: user, userName: user };
    // A command that reads only the locale (help) is answered without the full settings, whose
    // schema costs most of the start-up; every other command validates them all, as before.
    const presentation = loadPresentation();
    const now = new Date();
    const command = parseCommandLine(line, commandRegistry, {
      locale: presentation.LOCALE,
      timeZone: presentation.TZ,
      now,
    });
    const reply =
      !('error' in command) && command.command.presentationOnly
        ? await runCommand(
            command.command,
            command.args,
            createPresentationContext({ settings: presentation, store: noStore, requester, now: () => now }),
            line,
          )
        : await answerFromStore(line, requester);
    if (json) writeOut(JSON.stringify(reply.data ?? null, null, 2) + '\n');
    else writeOut(renderTerminal(reply, { color: isatty(1) && !process.env.NO_COLOR }));
    if (!reply.error) return EXIT_OK;
    return (reply.data as { error?: { code?: string } } | undefined)?.error?.code === 'internal'
      ? EXIT_FAILURE
      : EXIT_USAGE;
  } catch (error) {
    const message = errorMessage(error);
    process.stderr.write(`dmarc-bot ask: ${message}\n`);
    return EXIT_FAILURE;
  }
}

/**
 * The answer on standard output, written straight to it: making process.stdout (a socket when it
 * is a pipe) costs a one-shot answer several milliseconds. What a non-blocking output does not
 * take at once goes through process.stdout.
 */
function writeOut(text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    process.stdout.write(bytes.subarray(written));
  }
}

/** A store for the commands that read none: opening it is a bug, reported as the command's failure. */
const noStore = openOnFirstUse(() => Promise.reject(new Error('this command reads no store')));

/** Answers with the full settings, from the configured store (or the demo store). */
async function answerFromStore(line: string, requester: Requester): Promise<Reply> {
  const { loadSettings } = await import('./settings.ts');
  const config = loadSettings();
  let store: ReportStore | undefined;
  try {
    // With nothing configured, `npm start` answers from the demo store: so does ask.
    if (wantsDemo(process.env)) {
      const path = resolve(DEMO_STORE_PATH);
      store = openOnFirstUse(async () => {
        process.stderr.write(`dmarc-bot ask: nothing configured, answering from the demo store ${DEMO_STORE_PATH}\n`);
        if (existsSync(path)) return (await import('../store/index.ts')).openStore(`sqlite://${path}`);
        return (await (await import('../demo/index.ts')).prepareDemoStore({ now: new Date(), path })).store;
      });
    } else
      store = openOnFirstUse(async () =>
        (await import('../store/index.ts')).openStore(config.DMARC_STORE, {
          connectTimeoutMs: config.STORE_CONNECT_TIMEOUT_MS,
        }),
      );
    return await answer(line, createCommandContext({ config, store, requester }));
  } finally {
    await store?.close().catch(() => undefined);
  }
}
