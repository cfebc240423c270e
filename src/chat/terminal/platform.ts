// The terminal as the chat when no other platform is configured: digests and alerts on the output,
// `/dmarc` lines from the input answered.

import type { ChatPlatform } from '../platform.ts';

export const terminalPlatform: ChatPlatform = {
  name: 'terminal',
  enabled: (_config, active) => active.length === 0,
  async create({ input, output, answer, onQuit, logLines }) {
    const [{ createTerminalChat }, { renderTerminal }] = await Promise.all([
      import('./chat.ts'),
      import('../../render/terminal.ts'),
    ]);
    const terminal = createTerminalChat({
      input,
      output,
      answer,
      render: (reply) => renderTerminal(reply),
      ...(onQuit ? { onQuit } : {}),
      ...(logLines ? { logLines } : {}),
    });
    return {
      destinations: [terminal.destination],
      start: async () => ({}),
      stop: () => terminal.stop(),
    };
  },
};
