// All settings, read from the environment (and `.env`), validated in one place. A bad setting
// stops the program with one line that names it and says what is expected.

import { z } from 'zod';

const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const port = (fallback?: number) =>
  z.preprocess(
    emptyToUndefined,
    fallback === undefined
      ? z.coerce.number().int().min(1).max(65535).optional()
      : z.coerce.number().int().min(1).max(65535).default(fallback),
  );
const nonNegativeInt = (fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).default(fallback));
const positiveInt = (fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(fallback));
const rate = (fallback: number) => z.preprocess(emptyToUndefined, z.coerce.number().min(0).max(1).default(fallback));
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
const url = z.preprocess(emptyToUndefined, z.url().optional());

export const configSchema = z.object({
  // store
  DMARC_STORE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(
        /^(sqlite|redis|rediss|postgres|postgresql):\/\//,
        'a store URL: sqlite://PATH, redis://HOST:PORT or postgres://USER@HOST/DB',
      )
      .default('sqlite://./data/dmarc.sqlite'),
  ),
  RETENTION_DAYS: nonNegativeInt(400),
  MAX_ATTACHMENT_MB: positiveInt(64),

  // IMAP
  IMAP_HOST: optionalString,
  IMAP_PORT: port(),
  IMAP_USER: optionalString,
  IMAP_PASSWORD: optionalString,
  IMAP_TLS: z.preprocess(emptyToUndefined, z.enum(['tls', 'starttls', 'off']).default('tls')),
  IMAP_MAILBOX: z.preprocess(emptyToUndefined, z.string().default('INBOX')),
  IMAP_PROCESSED_FOLDER: z.preprocess(emptyToUndefined, z.string().default('DMARC/Processed')),
  IMAP_INVALID_FOLDER: z.preprocess(emptyToUndefined, z.string().default('DMARC/Invalid')),
  IMAP_ACTION: z.preprocess(emptyToUndefined, z.enum(['move', 'flag']).default('move')),
  IMAP_POLL_SECONDS: positiveInt(300),
  IMAP_TLS_REJECT_UNAUTHORIZED: z.preprocess(emptyToUndefined, z.enum(['true', 'false']).default('true')),

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
  TZ: z.preprocess(emptyToUndefined, z.string().default('UTC')),
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
  DNS_SERVERS: idList,
  DNS_TIMEOUT_MS: positiveInt(1500),

  // presentation and logs
  LOCALE: z.preprocess(emptyToUndefined, z.enum(['en', 'ja']).default('en')),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly expected: string,
  ) {
    super(`configuration: ${setting}: ${expected}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws a ConfigError naming the first bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const setting = String(issue.path[0] ?? 'configuration');
  const given = env[setting];
  throw new ConfigError(setting, `${issue.message}${given !== undefined ? ` (got "${given}")` : ''}`);
}

/** True when the IMAP source is configured. */
export function imapConfigured(config: Config): boolean {
  return Boolean(config.IMAP_HOST && config.IMAP_USER);
}
