// The terminal as a chat platform, for running without Slack or Discord: digests and alerts are
// printed to the output, and `/dmarc ...` lines read from the input are answered one at a time
// (with a `dmarc> ` prompt on a TTY; pipes are read line by line too). At a terminal, Ctrl-C and
// Ctrl-D end the bot; elsewhere end of input does not: as a service its stdin is often empty.
// Whatever is printed while the prompt shows (a digest, a log line) clears the prompt line first
// and redraws it, with what was typed so far, below.

import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import type { AroundPrompt } from '../../log-lines.ts';
import type { Reply } from '../../reply/model.ts';
import type { Destination } from '../post.ts';
import { safeAnswer, type AnswerFn } from '../answer.ts';

export interface TerminalChatOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  answer: AnswerFn;
  render: (reply: Reply) => string;
  /** show a prompt (default: when the input is a TTY) */
  prompt?: boolean;
  userId?: string;
  /** the person at an interactive terminal asked to end the bot (Ctrl-C, or Ctrl-D) */
  onQuit?: () => void;
  /** log lines written to the same screen: kept off the prompt line */
  logLines?: { aroundPrompt: AroundPrompt | null };
}

export interface TerminalChat {
  destination: Destination;
  /** resolves when every line read so far is answered */
  idle(): Promise<void>;
  /** stops reading; the answer in hand is finished first */
  stop(): Promise<void>;
}

export const PROMPT = 'dmarc> ';

/** Strips the leading "/dmarc" (people type it out of habit); null for lines that ask nothing. */
export function terminalLine(raw: string): string | null {
  const line = raw
    .trim()
    .replace(/^\/?dmarc(\s+|$)/i, '')
    .trim();
  return line === '' ? null : line;
}

export function createTerminalChat(options: TerminalChatOptions): TerminalChat {
  const isTty = Boolean((options.input as { isTTY?: boolean }).isTTY);
  const showPrompt = options.prompt ?? isTty;
  const write = (text: string) => {
    options.output.write(text.endsWith('\n') ? text : text + '\n');
  };
  const rl: Interface = createInterface({
    input: options.input,
    ...(isTty ? { output: options.output, terminal: true } : { terminal: false }),
  });
  rl.setPrompt(PROMPT);
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;
  let quitting = false;
  let promptShown = false;
  const requester = { platform: 'terminal' as const, userId: options.userId ?? process.env.USER ?? 'terminal' };
  const prompt = () => {
    if (!showPrompt || stopped || quitting) return;
    rl.prompt();
    promptShown = true;
  };
  const aroundPrompt: AroundPrompt = (print) => {
    if (!promptShown || stopped) return print();
    clearLine(options.output, 0);
    cursorTo(options.output, 0);
    print();
    rl.prompt(true);
  };
  if (showPrompt && options.logLines) options.logLines.aroundPrompt = aroundPrompt;

  const quit = () => {
    if (quitting || stopped) return;
    quitting = true;
    promptShown = false;
    options.output.write('\n');
    options.onQuit?.();
  };
  if (isTty) {
    // In raw mode Ctrl-C reaches readline, not the process; unhandled it would only pause input.
    rl.on('SIGINT', quit);
    rl.on('close', quit);
  }

  rl.on('line', (raw) => {
    promptShown = false;
    const line = terminalLine(raw);
    if (line === null) {
      prompt();
      return;
    }
    queue = queue.then(async () => {
      if (stopped) return;
      const reply = await safeAnswer(options.answer, line, requester);
      write(options.render(reply));
      prompt();
    });
  });
  prompt();

  return {
    destination: {
      id: 'terminal',
      async post(reply) {
        const text = options.render(reply);
        aroundPrompt(() => write(text));
      },
    },
    idle: () => queue,
    async stop() {
      stopped = true;
      if (options.logLines?.aroundPrompt === aroundPrompt) options.logLines.aroundPrompt = null;
      rl.close();
      await queue;
    },
  };
}
