// `dmarc-bot doctor`: one check per configured part, each answering ok / warn / fail with the
// figure it found and, for a failure, the fix. Checks never throw and never print secrets.

import { isNoAnswer, type RecordResolver } from '../net/dns-records.ts';
import type { Config, ImapAccountSettings } from '../config.ts';
import { imapConfigured, mailboxesOf } from '../config.ts';
import { errorMessage } from '../text/error-message.ts';
import { redactSecrets, redactUrl } from '../text/redact.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  part: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface DoctorDeps {
  openStore(url: string): Promise<{
    setState(name: string, value: unknown): Promise<void>;
    getState<T>(name: string): Promise<T | undefined>;
    flush(): Promise<void>;
    close(): Promise<void>;
    integrityCheck?(): Promise<string[]>;
  }>;
  connectImap(
    config: ImapAccountSettings,
  ): Promise<{ list(): Promise<Array<{ path: string; delimiter?: string }>>; logout(): Promise<void> }>;
  /** POSTs a Slack Web API method with the bot token; resolves the JSON answer */
  slack(
    method: string,
    token: string,
    params?: Record<string, string>,
  ): Promise<{ ok: boolean; error?: string; [key: string]: unknown }>;
  /** GETs a Discord REST route with the bot token (or none for a webhook URL); resolves status + JSON */
  discord(pathOrUrl: string, token: string | null): Promise<{ status: number; body: Record<string, unknown> }>;
  reverse(ip: string): Promise<string[]>;
  /** a record resolver asking only `server` ("host:port"), or the system resolvers for null */
  records?(server: string | null): RecordResolver;
  now(): Date;
  /**
   * Whether a SQLite store file exists, and if not whether it could be created, so that the check
   * creates no file or folder; without it the store is opened (which creates both).
   */
  inspectSqlitePath?(path: string): Promise<SqlitePathState>;
}

export type SqlitePathState =
  { state: 'exists' } | { state: 'creatable'; folder: string } | { state: 'blocked'; problem: string };

/** Error text without anything that looks like a token or password. */
export function safeMessage(error: unknown, secrets: ReadonlyArray<string | undefined>): string {
  return redactSecrets(errorMessage(error), secrets);
}

function storeLabel(url: string): string {
  return redactUrl(url);
}

export async function checkStore(config: Config, deps: DoctorDeps): Promise<CheckResult> {
  const label = storeLabel(config.DMARC_STORE);
  const sqlitePath = config.DMARC_STORE.startsWith('sqlite://') ? config.DMARC_STORE.slice('sqlite://'.length) : null;
  if (sqlitePath && sqlitePath !== ':memory:' && deps.inspectSqlitePath) {
    const found = await deps.inspectSqlitePath(sqlitePath);
    if (found.state === 'creatable')
      return {
        part: 'store',
        status: 'ok',
        detail: `${label} does not exist yet; the first ingest or start creates it (${found.folder} is writable)`,
      };
    if (found.state === 'blocked')
      return {
        part: 'store',
        status: 'fail',
        detail: `${label}: ${found.problem}`,
        fix: 'make sure the folder of the SQLite file exists or can be created and is writable by the bot user',
      };
  }
  try {
    const store = await deps.openStore(config.DMARC_STORE);
    try {
      const probe = deps.now().toISOString();
      await store.setState('doctor:probe', probe);
      await store.flush();
      const back = await store.getState<string>('doctor:probe');
      if (back !== probe)
        return {
          part: 'store',
          status: 'fail',
          detail: `${label}: a value written could not be read back`,
          fix: 'check that no other program rewrites the store, and that the disk is not full',
        };
      const problems = (await store.integrityCheck?.()) ?? [];
      if (problems.length > 0) {
        const path = config.DMARC_STORE.replace(/^sqlite:\/\//, '');
        return {
          part: 'store',
          status: 'fail',
          detail: `${label}: PRAGMA quick_check found ${problems.length} problems, first: ${problems[0]!.slice(0, 200)}`,
          fix: `stop the bot, then rescue what the file holds: sqlite3 '${path}' .recover | sqlite3 recovered.sqlite, and point DMARC_STORE at the new file`,
        };
      }
      const checked = store.integrityCheck ? ' (PRAGMA quick_check: ok)' : '';
      return { part: 'store', status: 'ok', detail: `${label} is open and writable${checked}` };
    } finally {
      await store.close();
    }
  } catch (error) {
    const message = safeMessage(error, [config.DMARC_STORE]);
    const fix = /SQLite store .* (is empty|is not an SQLite database|is damaged)/.test(message)
      ? 'the file is damaged: restore a backup or rescue it with sqlite3 .recover (see above)'
      : config.DMARC_STORE.startsWith('sqlite')
        ? 'make sure the folder of the SQLite file exists or can be created and is writable by the bot user'
        : 'make sure the store server is running and reachable, and that DMARC_STORE holds the right address, user and password';
    return { part: 'store', status: 'fail', detail: `${label}: ${message}`, fix };
  }
}

export async function checkImap(config: Config, deps: DoctorDeps): Promise<CheckResult[]> {
  if (!imapConfigured(config))
    return [
      {
        part: 'imap',
        status: 'skip',
        detail: 'not configured (IMAP_HOST, IMAP_USER): reports are read only from files',
      },
    ];
  const results: CheckResult[] = [];
  for (const account of mailboxesOf(config)) results.push(...(await checkMailbox(account, deps)));
  return results;
}

/** One mailbox: login, its folders. With IMAP_ACCOUNTS each result names the account. */
async function checkMailbox(config: ImapAccountSettings, deps: DoctorDeps): Promise<CheckResult[]> {
  const named = config.IMAP_ACCOUNT !== 'default' ? ` ${config.IMAP_ACCOUNT}` : '';
  const where = `${named ? `${config.IMAP_ACCOUNT}: ` : ''}${config.IMAP_USER}@${config.IMAP_HOST}:${config.IMAP_PORT ?? (config.IMAP_TLS === 'tls' ? 993 : 143)} (${config.IMAP_TLS})`;
  let client: Awaited<ReturnType<DoctorDeps['connectImap']>>;
  try {
    client = await deps.connectImap(config);
  } catch (error) {
    const message = safeMessage(error, [
      config.IMAP_PASSWORD,
      config.IMAP_OAUTH_CLIENT_SECRET,
      config.IMAP_OAUTH_REFRESH_TOKEN,
    ]);
    const code = (error as { code?: string; authenticationFailed?: boolean }) ?? {};
    const fix =
      config.IMAP_AUTH === 'oauth2' && (code.authenticationFailed || /token/i.test(message))
        ? 'check IMAP_USER and the IMAP_OAUTH_* settings (see the README for Microsoft 365 and Gmail)'
        : code.authenticationFailed || /auth|login|credentials/i.test(message)
          ? 'check IMAP_USER and IMAP_PASSWORD (many providers want an app password)'
          : /certificate|self[- ]signed|tls|ssl/i.test(message)
            ? 'check IMAP_TLS (tls on port 993, starttls on 143); for a self-signed certificate you trust set IMAP_TLS_REJECT_UNAUTHORIZED=false'
            : 'check IMAP_HOST and IMAP_PORT, and that the server accepts connections from this machine';
    return [{ part: `imap${named}`, status: 'fail', detail: `${where}: ${message}`, fix }];
  }
  try {
    const folders = await client.list();
    const delimiter = folders[0]?.delimiter ?? '/';
    const paths = new Set(folders.map((folder) => folder.path));
    const results: CheckResult[] = [
      {
        part: `imap${named}`,
        status: 'ok',
        detail: `logged in to ${where}; ${folders.length} folders, delimiter "${delimiter}"`,
      },
    ];
    const mailbox = [...paths].find((path) => path.toUpperCase() === config.IMAP_MAILBOX.toUpperCase());
    results.push(
      mailbox
        ? { part: `imap${named} mailbox`, status: 'ok', detail: `${config.IMAP_MAILBOX} exists` }
        : {
            part: `imap${named} mailbox`,
            status: 'fail',
            detail: `${config.IMAP_MAILBOX} does not exist`,
            fix: `set IMAP_MAILBOX to one of: ${[...paths].slice(0, 8).join(', ')}`,
          },
    );
    for (const [setting, folder] of [
      ['IMAP_PROCESSED_FOLDER', config.IMAP_PROCESSED_FOLDER],
      ['IMAP_INVALID_FOLDER', config.IMAP_INVALID_FOLDER],
    ] as const) {
      const path = folder.split('/').filter(Boolean).join(delimiter);
      results.push(
        paths.has(path)
          ? { part: `imap${named} folder`, status: 'ok', detail: `${setting} ${path} exists` }
          : {
              part: `imap${named} folder`,
              status: 'warn',
              detail: `${setting} ${path} does not exist yet; it is created on the first run`,
              fix:
                config.IMAP_ACTION === 'flag'
                  ? undefined
                  : 'nothing to do, unless the server refuses to create folders',
            },
      );
    }
    return results;
  } finally {
    await client.logout().catch(() => {});
  }
}

export async function checkSlack(config: Config, deps: DoctorDeps): Promise<CheckResult[]> {
  if (!config.SLACK_BOT_TOKEN) return [{ part: 'slack', status: 'skip', detail: 'not configured (SLACK_BOT_TOKEN)' }];
  const secrets = [config.SLACK_BOT_TOKEN, config.SLACK_APP_TOKEN, config.SLACK_SIGNING_SECRET];
  const results: CheckResult[] = [];
  try {
    const auth = await deps.slack('auth.test', config.SLACK_BOT_TOKEN);
    if (!auth.ok) {
      return [
        {
          part: 'slack',
          status: 'fail',
          detail: `auth.test answered ${auth.error}`,
          fix: "check SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-..., from the app's OAuth & Permissions page); reinstall the app to the workspace if it was revoked",
        },
      ];
    }
    results.push({
      part: 'slack',
      status: 'ok',
      detail: `token valid for team ${String(auth.team ?? '?')} as ${String(auth.user ?? '?')}`,
    });
  } catch (error) {
    return [
      {
        part: 'slack',
        status: 'fail',
        detail: `Slack Web API unreachable: ${safeMessage(error, secrets)}`,
        fix: 'check the network (or SLACK_API_URL when set)',
      },
    ];
  }
  if (config.SLACK_APP_TOKEN) {
    const open = await deps
      .slack('apps.connections.open', config.SLACK_APP_TOKEN)
      .catch((error: unknown) => ({ ok: false, error: safeMessage(error, secrets) }));
    results.push(
      open.ok
        ? { part: 'slack socket mode', status: 'ok', detail: 'app token opens a Socket Mode connection' }
        : {
            part: 'slack socket mode',
            status: 'fail',
            detail: `apps.connections.open answered ${open.error}`,
            fix: 'check SLACK_APP_TOKEN (xapp-..., with the connections:write scope) and that Socket Mode is enabled for the app',
          },
    );
  } else if (!config.SLACK_SIGNING_SECRET) {
    results.push({
      part: 'slack mode',
      status: 'fail',
      detail: 'neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is set',
      fix: 'set SLACK_APP_TOKEN for Socket Mode (no public URL needed), or SLACK_SIGNING_SECRET for HTTP mode',
    });
  } else {
    results.push({ part: 'slack mode', status: 'ok', detail: `HTTP mode on port ${config.PORT}, path /slack/events` });
  }
  if (config.SLACK_DIGEST_CHANNEL) {
    const info = await deps
      .slack('conversations.info', config.SLACK_BOT_TOKEN, { channel: config.SLACK_DIGEST_CHANNEL })
      .catch((error: unknown) => ({ ok: false, error: safeMessage(error, secrets) }));
    const channel = (info as { channel?: { name?: string; is_member?: boolean } }).channel;
    if (!info.ok)
      results.push({
        part: 'slack channel',
        status: 'fail',
        detail: `${config.SLACK_DIGEST_CHANNEL}: ${info.error}`,
        fix: 'set SLACK_DIGEST_CHANNEL to a channel ID (C..., from the channel details), and give the app the channels:read scope',
      });
    else if (channel?.is_member === false)
      results.push({
        part: 'slack channel',
        status: 'fail',
        detail: `#${channel.name ?? config.SLACK_DIGEST_CHANNEL}: the bot is not a member`,
        fix: `invite it: type /invite @dmarc-bot in #${channel.name ?? 'the channel'}`,
      });
    else
      results.push({
        part: 'slack channel',
        status: 'ok',
        detail: `#${channel?.name ?? config.SLACK_DIGEST_CHANNEL} receives the digest`,
      });
  } else {
    results.push({
      part: 'slack channel',
      status: 'warn',
      detail: 'SLACK_DIGEST_CHANNEL is not set: no digest or alerts on Slack',
      fix: 'set SLACK_DIGEST_CHANNEL to a channel ID',
    });
  }
  return results;
}

export async function checkDiscord(config: Config, deps: DoctorDeps): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const secrets = [config.DISCORD_TOKEN, config.DISCORD_WEBHOOK_URL];
  if (config.DISCORD_TOKEN) {
    try {
      const me = await deps.discord('/users/@me', config.DISCORD_TOKEN);
      if (me.status === 200)
        results.push({
          part: 'discord',
          status: 'ok',
          detail: `token valid for bot ${String(me.body.username ?? '?')}`,
        });
      else
        results.push({
          part: 'discord',
          status: 'fail',
          detail: `token refused (HTTP ${me.status})`,
          fix: 'check DISCORD_TOKEN (Bot page of the application in the Discord developer portal; reset it if leaked)',
        });
      if (me.status === 200 && config.DISCORD_DIGEST_CHANNEL_ID) {
        const channel = await deps.discord(`/channels/${config.DISCORD_DIGEST_CHANNEL_ID}`, config.DISCORD_TOKEN);
        results.push(
          channel.status === 200
            ? {
                part: 'discord channel',
                status: 'ok',
                detail: `#${String(channel.body.name ?? config.DISCORD_DIGEST_CHANNEL_ID)} receives the digest`,
              }
            : {
                part: 'discord channel',
                status: 'fail',
                detail: `channel ${config.DISCORD_DIGEST_CHANNEL_ID}: HTTP ${channel.status}`,
                fix: 'check DISCORD_DIGEST_CHANNEL_ID (Developer Mode, right-click the channel, Copy Channel ID) and that the bot was invited with View Channel and Send Messages',
              },
        );
      }
      if (!config.DISCORD_APPLICATION_ID)
        results.push({
          part: 'discord commands',
          status: 'warn',
          detail: 'DISCORD_APPLICATION_ID is not set: /dmarc cannot be registered',
          fix: 'set DISCORD_APPLICATION_ID, then run `npx dmarc-bot register-commands`',
        });
    } catch (error) {
      results.push({
        part: 'discord',
        status: 'fail',
        detail: `Discord API unreachable: ${safeMessage(error, secrets)}`,
        fix: 'check the network (or DISCORD_API_URL when set)',
      });
    }
  }
  if (config.DISCORD_WEBHOOK_URL) {
    try {
      const hook = await deps.discord(config.DISCORD_WEBHOOK_URL, null);
      results.push(
        hook.status === 200
          ? { part: 'discord webhook', status: 'ok', detail: `webhook "${String(hook.body.name ?? '?')}" is valid` }
          : {
              part: 'discord webhook',
              status: 'fail',
              detail: `webhook answered HTTP ${hook.status}`,
              fix: 'create a new webhook (channel settings, Integrations, Webhooks) and set DISCORD_WEBHOOK_URL',
            },
      );
    } catch (error) {
      results.push({
        part: 'discord webhook',
        status: 'fail',
        detail: `webhook unreachable: ${safeMessage(error, secrets)}`,
        fix: 'check DISCORD_WEBHOOK_URL and the network',
      });
    }
  }
  return results.length > 0
    ? results
    : [{ part: 'discord', status: 'skip', detail: 'not configured (DISCORD_TOKEN or DISCORD_WEBHOOK_URL)' }];
}

/** Reverse DNS of a well-known public resolver address: tells whether names will show. */
export async function checkDns(config: Config, deps: DoctorDeps): Promise<CheckResult> {
  const probe = '8.8.8.8';
  const names = await deps.reverse(probe).catch(() => [] as string[]);
  const servers = config.DNS_SERVERS.length > 0 ? config.DNS_SERVERS.join(', ') : 'the system resolvers';
  return names.length > 0
    ? { part: 'dns', status: 'ok', detail: `reverse DNS through ${servers} answers (${probe} is ${names[0]})` }
    : {
        part: 'dns',
        status: 'warn',
        detail: `reverse DNS through ${servers} gave no answer within ${config.DNS_TIMEOUT_MS} ms: replies come without host names`,
        fix: 'set DNS_SERVERS to a resolver this machine can reach, if it has one',
      };
}

/** Each configured resolver must answer a question (NXDOMAIN counts): the DNS checks depend on it. */
export async function checkResolvers(config: Config, deps: DoctorDeps): Promise<CheckResult[]> {
  if (!deps.records) return [];
  const servers: Array<string | null> = config.DNS_SERVERS.length > 0 ? [...config.DNS_SERVERS] : [null];
  return Promise.all(
    servers.map(async (server): Promise<CheckResult> => {
      const name = server ?? 'the system resolvers';
      try {
        await deps.records!(server)('dmarc-bot-doctor.invalid', 'TXT');
      } catch (error) {
        if (!isNoAnswer(error))
          return {
            part: 'dns resolver',
            status: 'warn',
            detail: `${name} did not answer within ${config.DNS_TIMEOUT_MS} ms (${(error as { code?: string }).code ?? 'error'}): /dmarc dns and ready say "could not check"`,
            fix: 'set DNS_SERVERS to resolvers this machine can reach, or raise DNS_TIMEOUT_MS',
          };
      }
      return { part: 'dns resolver', status: 'ok', detail: `${name} answers` };
    }),
  );
}

export async function runChecks(config: Config, deps: DoctorDeps): Promise<CheckResult[]> {
  return [
    await checkStore(config, deps),
    ...(await checkImap(config, deps)),
    ...(await checkSlack(config, deps)),
    ...(await checkDiscord(config, deps)),
    await checkDns(config, deps),
    ...(await checkResolvers(config, deps)),
  ];
}

export function formatCheck(result: CheckResult): string {
  const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' }[result.status];
  return `${mark}  ${result.part.padEnd(17)} ${result.detail}${result.fix && result.status !== 'ok' ? `; fix: ${result.fix}` : ''}`;
}
