// `dmarc-bot ask "<command line>" [--json]`: answers one /dmarc command from the store in
// DMARC_STORE, for the terminal (or as the reply's data in JSON).

import { answer } from '../commands/dispatch.ts';
import { ConfigError } from '../config.ts';
import { loadSettings } from './settings.ts';
import { createCommandContext } from '../context.ts';
import { renderTerminal } from '../render/terminal.ts';
import { openStore } from '../store/index.ts';
import type { ReportStore } from '../store/types.ts';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { DEMO_STORE_PATH, prepareDemoStore, wantsDemo } from '../demo/index.ts';

const help = `Usage: dmarc-bot ask "<command line>" [--json]

Answers a /dmarc command from the store (DMARC_STORE; with nothing configured, the demo store
data/demo.sqlite, made first when it is missing), e.g.
  dmarc-bot ask "ip 203.0.113.5 days:90"
  dmarc-bot ask "ready example.com"
  dmarc-bot ask help

  --json   print the answer's data as JSON instead of text

Exit status: 0 answered, 1 usage error in the command line, 2 could not answer (settings, store).`;

function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return 'terminal';
  }
}

export async function run(argv: string[]): Promise<number> {
  let json = false;
  const words: string[] = [];
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(help + '\n');
      return 0;
    } else words.push(arg);
  }
  if (words.length === 0) {
    process.stderr.write(`dmarc-bot ask: give a command line\n\n${help}\n`);
    return 1;
  }
  let store: ReportStore | undefined;
  try {
    const config = loadSettings();
    // With nothing configured, `npm start` answers from the demo store: so does ask.
    if (wantsDemo(process.env)) {
      const path = resolve(DEMO_STORE_PATH);
      if (existsSync(path)) store = await openStore(`sqlite://${path}`);
      else store = (await prepareDemoStore({ now: new Date(), path })).store;
      process.stderr.write(`dmarc-bot ask: nothing configured, answering from the demo store ${DEMO_STORE_PATH}\n`);
    } else store = await openStore(config.DMARC_STORE);
    const user = whoAmI();
    const context = createCommandContext({
      config,
      store,
      requester: { platform: 'terminal', userId: user, userName: user },
    });
    const reply = await answer(words.join(' '), context);
    if (json) process.stdout.write(JSON.stringify(reply.data ?? null, null, 2) + '\n');
    else process.stdout.write(renderTerminal(reply, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }));
    if (!reply.error) return 0;
    return (reply.data as { error?: { code?: string } } | undefined)?.error?.code === 'internal' ? 2 : 1;
  } catch (error) {
    const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`dmarc-bot ask: ${message}\n`);
    return 2;
  } finally {
    await store?.close().catch(() => undefined);
  }
}
