// All settings, read from the environment (and `.env`), validated in one place. A bad setting
// stops the program with one line that names it and says what is expected.

import { isIP } from 'node:net';
import * as z from 'zod';
import {
  ConfigError,
  isTimeZone,
  LOCALE_EXPECTED,
  LOCALES,
  PRESENTATION_DEFAULTS,
  TIME_ZONE_EXPECTED,
} from './config-presentation.ts';
import { storeDriverFor, storeUrlForms } from './store/drivers.ts';
import { redactSecrets } from './text/redact.ts';

export { ConfigError, isTimeZone };

// The settings are checked once or twice a process: zod's compiled object parsers (new Function per
// object schema) cost more to build than they save on so few parses. Set before any schema is made.
z.config({ jitless: true });

/** Exit status for a configuration error (sysexits EX_CONFIG); the systemd unit does not restart on it. */
export const EXIT_CONFIG = 78;

const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const portNumber = () =>
  z.coerce
    .number({ error: 'a port number from 1 to 65535' })
    .int({ error: 'a port number from 1 to 65535' })
    .min(1, { error: 'a port number from 1 to 65535' })
    .max(65535, { error: 'a port number from 1 to 65535' });
const port = (fallback?: number) =>
  z.preprocess(emptyToUndefined, fallback === undefined ? portNumber().optional() : portNumber().default(fallback));
const wholeNumber = (min: number) => {
  const error = `a whole number, at least ${min}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(Number.MAX_SAFE_INTEGER, { error });
};
const nonNegativeInt = (fallback: number) => z.preprocess(emptyToUndefined, wholeNumber(0).default(fallback));
const positiveInt = (fallback: number) => z.preprocess(emptyToUndefined, wholeNumber(1).default(fallback));
const rateError = 'a fraction from 0 to 1, e.g. 0.95';
const rate = (fallback: number) =>
  z.preprocess(
    emptyToUndefined,
    z.coerce.number({ error: rateError }).min(0, { error: rateError }).max(1, { error: rateError }).default(fallback),
  );
const idList = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .optional()
    .transform((value) =>
      value
        ? value
            .split(',')
            .map((id) => id.trim())
            .filter(Boolean)
        : [],
    ),
);
const url = z.preprocess(
  emptyToUndefined,
  z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
);

/** A resolver address: an IP, `IPv4:PORT` or `[IPv6]:PORT` (what dns.Resolver.setServers takes). */
export function isResolverAddress(value: string): boolean {
  if (isIP(value)) return true;
  const match = /^(?:\[([^\]]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(value);
  if (!match) return false;
  const host = match[1] ?? match[2]!;
  const portNumber = Number(match[3]);
  return (match[1] ? isIP(host) === 6 : isIP(host) === 4) && portNumber >= 1 && portNumber <= 65535;
}

const resolverList = idList.refine(
  (servers) => servers.every(isResolverAddress),
  'comma-separated resolver IP addresses, each with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)',
);

/** Loopback: the only place a plain-text IMAP login does not cross a network. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
}
const bool = (fallback: 'true' | 'false') =>
  z.preprocess(emptyToUndefined, z.enum(['true', 'false'], { error: 'true or false' }).default(fallback));
const hostName = z
  .string()
  .refine(
    (value) =>
      isIP(value.replace(/^\[|\]$/g, '')) !== 0 ||
      /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(value),
    'a host name or IP address',
  );

const authMode = z.preprocess(
  emptyToUndefined,
  z.enum(['password', 'oauth2'], { error: 'password or oauth2' }).default('password'),
);

/** The settings of one mailbox. With IMAP_ACCOUNTS each account has them as IMAP_<NAME>_<KEY>. */
const imapFields = {
  IMAP_HOST: z.preprocess(emptyToUndefined, hostName.optional()),
  IMAP_PORT: port(),
  IMAP_USER: optionalString,
  IMAP_PASSWORD: optionalString,
  IMAP_AUTH: authMode,
  IMAP_OAUTH_TOKEN_URL: url,
  IMAP_OAUTH_CLIENT_ID: optionalString,
  IMAP_OAUTH_CLIENT_SECRET: optionalString,
  IMAP_OAUTH_REFRESH_TOKEN: optionalString,
  IMAP_OAUTH_SCOPE: optionalString,
  IMAP_TLS: z.preprocess(emptyToUndefined, z.enum(['tls', 'starttls', 'off']).default('tls')),
  IMAP_MAILBOX: z.preprocess(emptyToUndefined, z.string().default('INBOX')),
  IMAP_PROCESSED_FOLDER: z.preprocess(emptyToUndefined, z.string().default('DMARC/Processed')),
  IMAP_INVALID_FOLDER: z.preprocess(emptyToUndefined, z.string().default('DMARC/Invalid')),
  IMAP_ACTION: z.preprocess(emptyToUndefined, z.enum(['move', 'flag']).default('move')),
  IMAP_TLS_REJECT_UNAUTHORIZED: bool('true'),
  IMAP_ALLOW_PLAINTEXT: bool('false'),
};
const ACCOUNT_NAME = /^[a-z][a-z0-9]{0,31}$/;
const imapAccountSchema = z.object(imapFields);
export type ImapAccountSettings = z.infer<typeof imapAccountSchema> & {
  /** `default` for the single mailbox, else the name in IMAP_ACCOUNTS */
  IMAP_ACCOUNT: string;
  IMAP_POLL_SECONDS: number;
  MAX_ATTACHMENT_MB: number;
};

export const configSchema = z.object({
  // store
  DMARC_STORE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((value) => storeDriverFor(value) !== undefined, `a store URL: ${storeUrlForms()}`)
      .default('sqlite://./data/dmarc.sqlite'),
  ),
  STORE_CONNECT_TIMEOUT_MS: positiveInt(5000),
  RETENTION_DAYS: nonNegativeInt(400),
  MAX_ATTACHMENT_MB: positiveInt(64),

  // IMAP: the one mailbox, or with IMAP_ACCOUNTS the defaults of every account (see imapAccounts)
  ...imapFields,
  IMAP_ACCOUNTS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((value) => (value ? value.split(',').map((name) => name.trim().toLowerCase()) : []))
      .refine(
        (names) => names.every((name) => ACCOUNT_NAME.test(name)) && new Set(names).size === names.length,
        'comma-separated account names of letters and digits, each once (e.g. main,work)',
      ),
  ),
  IMAP_POLL_SECONDS: positiveInt(300),

  // Slack
  SLACK_BOT_TOKEN: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_DIGEST_CHANNEL: optionalString,
  SLACK_API_URL: url,
  PORT: port(3000),

  // Discord
  DISCORD_TOKEN: optionalString,
  DISCORD_APPLICATION_ID: optionalString,
  DISCORD_GUILD_ID: optionalString,
  DISCORD_DIGEST_CHANNEL_ID: optionalString,
  DISCORD_WEBHOOK_URL: url,
  DISCORD_API_URL: url,

  // who may ask
  ALLOWED_CHANNELS: idList,
  ALLOWED_USERS: idList,
  ADMIN_USERS: idList,

  // digest and alerts
  DIGEST_TIME: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day HH:MM, e.g. 09:00')
      .default('09:00'),
  ),
  TZ: z.preprocess(
    emptyToUndefined,
    z.string().refine(isTimeZone, TIME_ZONE_EXPECTED).default(PRESENTATION_DEFAULTS.TZ),
  ),
  ALERT_MIN_MESSAGES: positiveInt(10),
  ALERT_TOP_SOURCES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(25).default(10)),
  ALERT_MIN_INTERVAL_SECONDS: nonNegativeInt(2),
  ALERT_DAILY_CAP: nonNegativeInt(20),
  ALERT_PASS_RATE_DROP: z.preprocess(emptyToUndefined, z.coerce.number().gt(0).max(1).default(0.1)),
  ALERT_QUIET_DAYS: positiveInt(3),
  ALERT_REGULAR_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(14).default(8)),
  ALERT_NO_REPORTS_DAYS: positiveInt(3),

  // readiness thresholds
  READY_WINDOW_DAYS: positiveInt(30),
  READY_MIN_DAYS: positiveInt(14),
  READY_MIN_MESSAGES: nonNegativeInt(100),
  READY_QUARANTINE_PASS_RATE: rate(0.95),
  READY_REJECT_PASS_RATE: rate(0.99),
  READY_MAX_LEGIT_FAILING_SHARE: rate(0.01),
  READY_REGULAR_SENDER_MIN_DAYS: positiveInt(5),
  READY_REGULAR_SENDER_MIN_SHARE: rate(0.01),

  // DNS
  DNS_SERVERS: resolverList,
  DNS_TIMEOUT_MS: positiveInt(1500),

  // metrics and health (off unless METRICS_PORT is set)
  METRICS_PORT: port(),
  METRICS_HOST: z.preprocess(emptyToUndefined, hostName.default('127.0.0.1')),

  // demo data when nothing is configured; 1/true or 0/false forces it on or off
  DMARC_DEMO: z.preprocess(
    emptyToUndefined,
    z.enum(['1', '0', 'true', 'false'], { error: '1, 0, true or false' }).optional(),
  ),

  // presentation and logs
  LOCALE: z.preprocess(
    emptyToUndefined,
    z.enum(LOCALES, { error: LOCALE_EXPECTED }).default(PRESENTATION_DEFAULTS.LOCALE),
  ),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

type MailboxCheckInput = Pick<
  ImapAccountSettings,
  | 'IMAP_HOST'
  | 'IMAP_USER'
  | 'IMAP_TLS'
  | 'IMAP_ALLOW_PLAINTEXT'
  | 'IMAP_AUTH'
  | 'IMAP_OAUTH_TOKEN_URL'
  | 'IMAP_OAUTH_CLIENT_ID'
  | 'IMAP_OAUTH_REFRESH_TOKEN'
>;

/** Settings of one mailbox that are only wrong together: [key without IMAP_, what is expected]. */
function mailboxProblems(mailbox: MailboxCheckInput): Array<[key: string, message: string]> {
  const problems: Array<[string, string]> = [];
  if (!mailbox.IMAP_HOST) return problems;
  if (mailbox.IMAP_TLS === 'off' && !isLoopbackHost(mailbox.IMAP_HOST) && mailbox.IMAP_ALLOW_PLAINTEXT !== 'true')
    problems.push([
      'TLS',
      `off sends the password in plain text to ${mailbox.IMAP_HOST}, which is not loopback: use tls or starttls, or set IMAP_ALLOW_PLAINTEXT=true`,
    ]);
  if (mailbox.IMAP_AUTH === 'oauth2') {
    for (const [key, value] of [
      ['OAUTH_TOKEN_URL', mailbox.IMAP_OAUTH_TOKEN_URL],
      ['OAUTH_CLIENT_ID', mailbox.IMAP_OAUTH_CLIENT_ID],
      ['OAUTH_REFRESH_TOKEN', mailbox.IMAP_OAUTH_REFRESH_TOKEN],
    ] as const)
      if (!value) problems.push([key, 'needed with IMAP_AUTH=oauth2 (see the README for Microsoft 365 and Gmail)']);
    // URL.parse: a malformed URL is named by its own check, which zod reports first
    const tokenUrl = mailbox.IMAP_OAUTH_TOKEN_URL ? URL.parse(mailbox.IMAP_OAUTH_TOKEN_URL) : null;
    if (tokenUrl?.protocol === 'http:' && !isLoopbackHost(tokenUrl.hostname))
      problems.push(['OAUTH_TOKEN_URL', 'an https:// URL (http:// would send the client secret in plain text)']);
  }
  return problems;
}

// Settings that are only wrong together; checked after each one is valid on its own.
const checkedSchema = configSchema.superRefine((config, context) => {
  for (const [key, message] of mailboxProblems(config))
    context.addIssue({ code: 'custom', path: [`IMAP_${key}`], message });
});

export type Config = z.infer<typeof configSchema> & {
  /** the mailboxes to read, resolved by loadConfig (absent in a hand-made Config: then the IMAP_* one) */
  imapAccounts?: ImapAccountSettings[];
};

/** Settings whose value is never echoed in an error, whatever else is wrong with it. */
function isSecretSetting(name: string): boolean {
  return /(PASSWORD|TOKEN|SECRET)$/.test(name) && !name.endsWith('_TOKEN_URL');
}

/** A bad value as an error may show it: secrets not at all, other values with secrets cut out. */
function shownValue(setting: string, env: NodeJS.ProcessEnv): string {
  const given = env[setting];
  if (given === undefined) return '';
  if (isSecretSetting(setting)) return ' (the value is not shown: it is a secret)';
  const secrets = Object.entries(env)
    .filter(([name]) => isSecretSetting(name))
    .map(([, value]) => value);
  return ` (got "${redactSecrets(given, secrets)}")`;
}

function configError(setting: string, message: string, env: NodeJS.ProcessEnv): ConfigError {
  return new ConfigError(setting, `${message}${shownValue(setting, env)}`);
}

/**
 * The mailboxes: without IMAP_ACCOUNTS the one of the IMAP_* settings (named `default`); with it,
 * one per name, each setting read as IMAP_<NAME>_<KEY> and falling back to IMAP_<KEY>, so what the
 * accounts share (an OAuth app, TLS) is written once.
 */
function imapAccounts(config: z.infer<typeof configSchema>, env: NodeJS.ProcessEnv): ImapAccountSettings[] {
  const shared = { IMAP_POLL_SECONDS: config.IMAP_POLL_SECONDS, MAX_ATTACHMENT_MB: config.MAX_ATTACHMENT_MB };
  if (config.IMAP_ACCOUNTS.length === 0) {
    if (!config.IMAP_HOST || !config.IMAP_USER) return [];
    const single = imapAccountSchema.parse(config);
    return [{ ...single, ...shared, IMAP_ACCOUNT: 'default' }];
  }
  const accounts: ImapAccountSettings[] = [];
  const seen = new Map<string, string>();
  for (const name of config.IMAP_ACCOUNTS) {
    const prefix = `IMAP_${name.toUpperCase()}_`;
    const settingOf = (field: string) => `${prefix}${field.slice('IMAP_'.length)}`;
    const input: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const field of Object.keys(imapFields)) {
      const own = env[settingOf(field)];
      input[field] = own !== undefined && own.trim() !== '' ? own : env[field];
    }
    const parsed = imapAccountSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = String(issue.path[0]);
      const setting = env[settingOf(field)] !== undefined ? settingOf(field) : field;
      throw configError(setting, issue.message, env);
    }
    const account = parsed.data;
    if (!account.IMAP_HOST || !account.IMAP_USER)
      throw new ConfigError(
        `${prefix}${account.IMAP_HOST ? 'USER' : 'HOST'}`,
        `needed for the account ${name} named in IMAP_ACCOUNTS`,
      );
    const problem = mailboxProblems(account)[0];
    if (problem) {
      // the shared setting when the account took its value from there, else the account's own
      const shared = env[`IMAP_${problem[0]}`];
      const own = env[`${prefix}${problem[0]}`];
      const setting =
        own === undefined && shared !== undefined && shared.trim() !== ''
          ? `IMAP_${problem[0]}`
          : `${prefix}${problem[0]}`;
      throw configError(setting, problem[1], env);
    }
    // the account's pass state is kept under user, host and mailbox: two accounts may not share it
    const where = `${account.IMAP_USER}@${account.IMAP_HOST}/${account.IMAP_MAILBOX}`;
    const twin = seen.get(where);
    if (twin)
      throw new ConfigError('IMAP_ACCOUNTS', `the accounts ${twin} and ${name} read the same mailbox (${where})`);
    seen.set(where, name);
    accounts.push({ ...account, ...shared, IMAP_ACCOUNT: name });
  }
  return accounts;
}

/** Validates the environment; throws a ConfigError naming the first bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = checkedSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = String(issue.path[0] ?? 'configuration');
    throw configError(setting, issue.message, env);
  }
  return { ...parsed.data, imapAccounts: imapAccounts(parsed.data, env) };
}

/** The mailboxes a Config names (a hand-made Config without imapAccounts: its IMAP_* mailbox). */
export function mailboxesOf(config: Config): ImapAccountSettings[] {
  if (config.imapAccounts) return config.imapAccounts;
  if (!config.IMAP_HOST || !config.IMAP_USER) return [];
  return [
    {
      ...imapAccountSchema.parse(config),
      IMAP_POLL_SECONDS: config.IMAP_POLL_SECONDS,
      MAX_ATTACHMENT_MB: config.MAX_ATTACHMENT_MB,
      IMAP_ACCOUNT: 'default',
    },
  ];
}

/** True when the IMAP source is configured. */
export function imapConfigured(config: Config): boolean {
  return mailboxesOf(config).length > 0;
}
