// `dmarc-bot backup FILE`: an online copy of the SQLite store, safe while the bot runs.
// Redis and PostgreSQL have their own tools, which know their servers better.

import { parseArgs } from 'node:util';
import { ConfigError, EXIT_CONFIG } from '../config.ts';
import { loadSettings } from './settings.ts';
import { redactUrl } from '../store/backend.ts';

const help = `Usage: dmarc-bot backup FILE

Copies the SQLite store (DMARC_STORE=sqlite://PATH) to FILE while the bot keeps running, then
checks that the copy opens. FILE must not exist; it is created readable by its owner only. To
restore, stop the bot and put the copy in place of the store file (remove its -wal and -shm files).
For a Redis store use redis-cli (BGSAVE, or redis-cli --rdb FILE); for PostgreSQL use pg_dump.
`;

export async function run(argv: string[]): Promise<number> {
  let positionals: string[];
  let values: { help?: boolean };
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`dmarc-bot backup: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`dmarc-bot backup: name one FILE to write\n\n${help}`);
    return 2;
  }
  const target = positionals[0]!;
  let config;
  try {
    config = loadSettings();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  const url = config.DMARC_STORE;
  const scheme = url.slice(0, url.indexOf('://')).toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') {
    process.stderr.write(
      `dmarc-bot backup: the store ${redactUrl(url)} is Redis: back it up with Redis's own tools (redis-cli BGSAVE and copy dump.rdb, or redis-cli --rdb FILE)\n`,
    );
    return 1;
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    process.stderr.write(
      `dmarc-bot backup: the store ${redactUrl(url)} is PostgreSQL: back it up with pg_dump (e.g. pg_dump -Fc -f FILE DBNAME)\n`,
    );
    return 1;
  }
  const path = url.slice('sqlite://'.length);
  if (!path || path === ':memory:') {
    process.stderr.write(`dmarc-bot backup: the store ${url} is not a file\n`);
    return 1;
  }
  const { backupSqlite } = await import('../backup/sqlite.ts');
  try {
    const { keys } = await backupSqlite(path, target);
    process.stdout.write(`backed up ${path} to ${target} (${keys} keys; the copy opens and is intact)\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`dmarc-bot backup: ${(error as Error).message}\n`);
    return 1;
  }
}
