// `dmarc-bot digest [--since ISO] [--json] [--dry-run]`: the digest of the reports received since
// the last terminal digest (or since --since), then marked sent unless --dry-run.

import { parseArgs } from 'node:util';
import { loadSettings } from './settings.ts';
import { createCommandContext } from '../context.ts';
import { buildDigest } from '../digest/build.ts';
import { lastDigestAt, markDigestSent } from '../digest/state.ts';
import { renderTerminal } from '../render/terminal.ts';
import { EXIT_FAILURE, EXIT_OK, helpOption, parseCommandArgs, usageError } from './args.ts';
import type { ReportStore } from '../store/types.ts';
import { errorMessage } from '../text/error-message.ts';

export const TERMINAL_DESTINATION = 'terminal';
const FIRST_DIGEST_HOURS = 24;

const help = `Usage: dmarc-bot digest [--since ISO] [--json] [--dry-run]

Prints the digest of the reports received since the last terminal digest (the first one covers
the last ${FIRST_DIGEST_HOURS} hours), then remembers where it ended so the next one starts there.

  --since ISO   start at this time instead, e.g. 2026-06-01T00:00:00Z
  --json        print the digest data as JSON
  --dry-run     show it without marking it sent

Exit status: 0 printed, 1 could not answer (settings, store), 2 usage error.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('digest', help, () =>
    parseArgs({
      args: argv,
      options: { ...helpOption, json: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, since: { type: 'string' } },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const json = parsed.values.json ?? false;
  const dryRun = parsed.values['dry-run'] ?? false;
  const sinceText = parsed.values.since;
  let since: Date | undefined;
  if (sinceText !== undefined) {
    since = new Date(sinceText);
    if (sinceText === '' || Number.isNaN(since.getTime()))
      return usageError('digest', `--since "${sinceText}" is not a time; expected ISO 8601, e.g. 2026-06-01T00:00:00Z`);
  }

  let store: ReportStore | undefined;
  try {
    const config = loadSettings();
    const { openStore } = await import('../store/index.ts');
    store = await openStore(config.DMARC_STORE, { connectTimeoutMs: config.STORE_CONNECT_TIMEOUT_MS });
    const context = createCommandContext({ config, store, requester: { platform: 'terminal', userId: 'digest' } });
    const until = context.now();
    since ??=
      (await lastDigestAt(store, TERMINAL_DESTINATION)) ?? new Date(until.getTime() - FIRST_DIGEST_HOURS * 3_600_000);
    const digest = await buildDigest(store, context, { since, until });
    if (json) process.stdout.write(JSON.stringify(digest.data, null, 2) + '\n');
    else
      process.stdout.write(
        renderTerminal(digest.reply, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }),
      );
    if (!dryRun) {
      await markDigestSent(store, TERMINAL_DESTINATION, until, until);
      await store.flush();
    }
    return EXIT_OK;
  } catch (error) {
    const message = errorMessage(error);
    process.stderr.write(`dmarc-bot digest: ${message}\n`);
    return EXIT_FAILURE;
  } finally {
    await store?.close().catch(() => undefined);
  }
}
