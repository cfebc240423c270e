// The terminal as a chat platform, for running without Slack or Discord: digests and alerts are
// printed to the output, and `/dmarc ...` lines read from the input are answered one at a time
// (with a `dmarc> ` prompt on a TTY; pipes are read line by line too). End of input does not stop
// the bot: as a service its stdin is often empty.

import { createInterface, type Interface } from 'node:readline';
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
  const requester = { platform: 'terminal' as const, userId: options.userId ?? process.env.USER ?? 'terminal' };
  const prompt = () => {
    if (showPrompt && !stopped) rl.prompt();
  };

  rl.on('line', (raw) => {
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
        write(options.render(reply));
        prompt();
      },
    },
    idle: () => queue,
    async stop() {
      stopped = true;
      rl.close();
      await queue;
    },
  };
}
