// `dmarc-bot doctor`: checks each configured part and prints one line per check with its fix.

import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, type Config } from '../config.ts';
import { loadSettings } from './settings.ts';
import { formatCheck, runChecks, type DoctorDeps, type SqlitePathState } from '../doctor/checks.ts';
import { createRecordResolver } from '../net/dns-records.ts';
import { helpOption, parseCommandArgs } from './args.ts';

const help = `Usage: dmarc-bot doctor

Checks the store, the IMAP mailbox, Slack, Discord and DNS as configured, one line each, with a
fix for each failure. A SQLite store that does not exist yet is not created.
Exit status: 0 when every configured part works, 1 when a check failed, 2 for a usage error.`;

export function realDoctorDeps(config: Config): DoctorDeps {
  return {
    openStore: async (url) => (await import('../store/index.ts')).openStore(url),
    connectImap: async (cfg) => (await import('../sources/imap.ts')).connectImap(cfg),
    slack: async (method, token, params = {}) => {
      const base = (config.SLACK_API_URL ?? 'https://slack.com/api/').replace(/\/?$/, '/');
      const response = await fetch(base + method, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(10_000),
      });
      return (await response.json()) as { ok: boolean; error?: string };
    },
    discord: async (pathOrUrl, token) => {
      const base = (config.DISCORD_API_URL ?? 'https://discord.com/api').replace(/\/$/, '');
      const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${base}/v10${pathOrUrl}`;
      const response = await fetch(url, {
        headers: token ? { authorization: `Bot ${token}` } : {},
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      return { status: response.status, body };
    },
    reverse: async (ip) => {
      const { createDnsResolver } = await import('../net/dns.ts');
      return createDnsResolver({ servers: config.DNS_SERVERS, timeoutMs: config.DNS_TIMEOUT_MS }).reverse(ip);
    },
    records: (server) => createRecordResolver({ servers: server ? [server] : [], timeoutMs: config.DNS_TIMEOUT_MS }),
    now: () => new Date(),
    inspectSqlitePath,
  };
}

/** Looks at a SQLite store path without creating anything: the file, or the folder it would go in. */
export async function inspectSqlitePath(path: string): Promise<SqlitePathState> {
  if (await stat(path).catch(() => null)) return { state: 'exists' };
  // the nearest existing folder above the file is where the store's folders would be created
  let folder = dirname(resolve(path));
  for (;;) {
    const info = await stat(folder).catch(() => null);
    if (info) {
      if (!info.isDirectory()) return { state: 'blocked', problem: `${folder} is not a folder` };
      const writable = await access(folder, constants.W_OK).then(
        () => true,
        () => false,
      );
      return writable ? { state: 'creatable', folder } : { state: 'blocked', problem: `${folder} is not writable` };
    }
    const parent = dirname(folder);
    if (parent === folder) return { state: 'blocked', problem: `no folder of ${path} exists` };
    folder = parent;
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('doctor', help, () => parseArgs({ args: argv, options: helpOption }));
  if (typeof parsed === 'number') return parsed;
  let config: Config;
  try {
    config = loadSettings();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stdout.write(
        `FAIL  ${'configuration'.padEnd(17)} ${error.setting}: ${error.expected}; fix: correct it in .env (see .env.example)\n`,
      );
      return 1;
    }
    throw error;
  }
  const results = await runChecks(config, realDoctorDeps(config));
  for (const result of results) process.stdout.write(formatCheck(result) + '\n');
  const failed = results.filter((result) => result.status === 'fail').length;
  process.stdout.write(failed === 0 ? 'all configured parts work\n' : `${failed} check(s) failed\n`);
  return failed === 0 ? 0 : 1;
}
