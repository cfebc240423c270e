// What the chat adapters need from the rest of the program, injected so they can be tested
// without the command and digest modules: a function that answers a command line for a requester.

import type { Reply } from '../reply/model.ts';
import type { CommandRequest, Requester } from '../command-kit/types.ts';
import { errorMessage } from '../text/error-message.ts';

/** Answers one command line (without the leading "/dmarc") or typed command; errors are a Reply. */
export type AnswerFn = (request: CommandRequest, requester: Requester) => Promise<Reply>;

/**
 * Splits off the `public` word that asks to share an answer in the channel (answers are private
 * by default). Accepted as a leading or trailing word, or as `public:true`.
 */
export function splitPublicFlag(text: string): { line: string; shared: boolean } {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const isFlag = (word: string | undefined) => word !== undefined && /^(public|public:true|--public)$/i.test(word);
  let shared = false;
  if (isFlag(words[0])) {
    words.shift();
    shared = true;
  }
  if (isFlag(words[words.length - 1])) {
    words.pop();
    shared = true;
  }
  return { line: words.join(' '), shared };
}

/** Calls `answer` and turns an unexpected throw into an error reply (the adapters never crash). */
export async function safeAnswer(answer: AnswerFn, request: CommandRequest, requester: Requester): Promise<Reply> {
  const line = typeof request === 'string' ? request : request.text;
  try {
    return await answer(request, requester);
  } catch (error) {
    return {
      title: 'Something went wrong while answering.',
      tone: 'bad',
      blocks: [
        {
          type: 'text',
          text: `Something went wrong while answering "${line}": ${errorMessage(error)}`,
        },
      ],
      error: true,
    };
  }
}
