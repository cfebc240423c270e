// `dmarc-bot <command>`: an explicit registry of subcommands, each in its own module, loaded on use
// so that `parse` does not pay for the chat libraries, and `help` and `--version` load none of them.

import { EXIT_OK, EXIT_USAGE } from './args.ts';

type Runner = (argv: string[]) => Promise<number>;

const subcommands: Record<string, { summary: string; load: () => Promise<Runner> }> = {
  parse: {
    summary: 'parse [--json] PATH...          read report files or folders and print what they hold',
    load: async () => (await import('./parse.ts')).run,
  },
  ingest: {
    summary: 'ingest [--imap] [PATH...]       store reports from files/folders or the IMAP mailbox',
    load: async () => (await import('./ingest.ts')).run,
  },
  ask: {
    summary: 'ask "<command line>" [--json]    answer a /dmarc command from the store',
    load: async () => (await import('./ask.ts')).run,
  },
  digest: {
    summary: 'digest [--since ISO] [--json] [--dry-run]  print the digest of newly received reports',
    load: async () => (await import('./digest.ts')).run,
  },
  export: {
    summary:
      'export --format csv|json [--from D] [--to D] [--domain D] [--kind K] [--out FILE]  stored reports as rows',
    load: async () => (await import('./export.ts')).run,
  },
  backup: {
    summary: 'backup FILE                     online copy of the SQLite store (while the bot runs)',
    load: async () => (await import('./backup.ts')).run,
  },
  start: {
    summary: 'start                           run the bot: mailbox, digest schedule, alerts, chat',
    load: async () => (await import('./start.ts')).run,
  },
  'register-commands': {
    summary: 'register-commands               register /dmarc with Discord',
    load: async () => (await import('./register-commands.ts')).run,
  },
  doctor: {
    summary: 'doctor                          check every configured part and say how to fix it',
    load: async () => (await import('./doctor.ts')).run,
  },
};

export function usage(): string {
  const lines = Object.values(subcommands).map((s) => `  dmarc-bot ${s.summary}`);
  return [
    'Usage:',
    ...lines,
    '  dmarc-bot help [COMMAND]        this list, or the usage of one command',
    '  dmarc-bot --version             print the version',
    '',
    'Run `dmarc-bot help <command>` or `dmarc-bot <command> --help` for details.',
    'Exit status: 0 success, 1 failure, 2 usage error.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    const { packageVersion } = await import('./version.ts');
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic === undefined || topic === 'help') {
      process.stdout.write(usage() + '\n');
      return EXIT_OK;
    }
    const entry = Object.hasOwn(subcommands, topic) ? subcommands[topic] : undefined;
    if (!entry) return unknownCommand(topic);
    return (await entry.load())(['--help']);
  }
  const entry = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!entry) return unknownCommand(name);
  const run = await entry.load();
  return run(rest);
}

function unknownCommand(name: string): number {
  process.stderr.write(`dmarc-bot: unknown command "${name}" (see dmarc-bot help)\n`);
  return EXIT_USAGE;
}
