// `dmarc-bot chart [DOMAIN] [--days N] --out FILE.png`: the trend chart of /dmarc chart written to
// a file. The options go through the chart command's own definition, so the checks (domain, days)
// are those of the chat command.

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { answer } from '../command-kit/dispatch.ts';
import { createCommandContext } from '../context.ts';
import { renderTerminal } from '../render/terminal.ts';
import type { ReportStore } from '../store/types.ts';
import { errorMessage } from '../text/error-message.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, helpOption, parseCommandArgs, usageError } from './args.ts';
import { loadSettings } from './settings.ts';

const help = `Usage: dmarc-bot chart [DOMAIN] [--days N] --out FILE.png

Draws the trend of the last N days (30 by default, 2 to 366) as a PNG, 1280x640 pixels: daily
messages stacked by source class, the pass rate against the readiness thresholds, markers where
the published policy changed and where a new sender began. Without DOMAIN every domain with data
shares one picture of small charts. The sparklines of the chart are printed as well.

  --days N      the window in days
  --out FILE    where to write the PNG (required)

Exit status: 0 written, 1 no data or could not answer (settings, store), 2 usage error.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('chart', help, () =>
    parseArgs({
      args: argv,
      options: { ...helpOption, days: { type: 'string' }, out: { type: 'string' } },
      allowPositionals: true,
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const out = parsed.values.out;
  if (!out) return usageError('chart', 'give the file to write with --out FILE.png');
  if (parsed.positionals.length > 1)
    return usageError('chart', `one domain at most (got ${parsed.positionals.join(' ')})`);
  const [domain] = parsed.positionals;
  const days = parsed.values.days;
  const options = [
    ...(domain !== undefined ? [{ name: 'domain', value: domain }] : []),
    ...(days !== undefined ? [{ name: 'days', value: /^\d+$/.test(days) ? Number(days) : days }] : []),
  ];
  const text = ['chart', ...(domain ? [domain] : []), ...(days ? [`days:${days}`] : [])].join(' ');

  let store: ReportStore | undefined;
  try {
    const config = loadSettings();
    const { openStore } = await import('../store/index.ts');
    store = await openStore(config.DMARC_STORE, { connectTimeoutMs: config.STORE_CONNECT_TIMEOUT_MS });
    const context = createCommandContext({ config, store, requester: { platform: 'terminal', userId: 'chart' } });
    const reply = await answer({ command: 'chart', options, text }, context);
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    if (reply.error) {
      process.stderr.write(renderTerminal(reply, { color }));
      return EXIT_USAGE;
    }
    if (!reply.image) {
      process.stderr.write(renderTerminal(reply, { color }));
      return EXIT_FAILURE;
    }
    await writeFile(out, reply.image.png);
    process.stdout.write(renderTerminal(reply, { color }));
    process.stdout.write(`Wrote ${out}\n`);
    return EXIT_OK;
  } catch (error) {
    process.stderr.write(`dmarc-bot chart: ${errorMessage(error)}\n`);
    return EXIT_FAILURE;
  } finally {
    await store?.close().catch(() => undefined);
  }
}
