// All settings, read from the environment (and `.env`), validated in one place. A bad setting
// stops the program with one line that names it and says what is expected.

import { isIP } from 'node:net';
import { z } from 'zod';
import {
  ConfigError,
  isTimeZone,
  LOCALE_EXPECTED,
  LOCALES,
  PRESENTATION_DEFAULTS,
  TIME_ZONE_EXPECTED,
} from './config-presentation.ts';
import { storeDriverFor, storeUrlForms } from './store/drivers.ts';

export { ConfigError, isTimeZone };

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

  // IMAP
  IMAP_HOST: z.preprocess(emptyToUndefined, hostName.optional()),
  IMAP_PORT: port(),
  IMAP_USER: optionalString,
  IMAP_PASSWORD: optionalString,
  IMAP_TLS: z.preprocess(emptyToUndefined, z.enum(['tls', 'starttls', 'off']).default('tls')),
  IMAP_MAILBOX: z.preprocess(emptyToUndefined, z.string().default('INBOX')),
  IMAP_PROCESSED_FOLDER: z.preprocess(emptyToUndefined, z.string().default('DMARC/Processed')),
  IMAP_INVALID_FOLDER: z.preprocess(emptyToUndefined, z.string().default('DMARC/Invalid')),
  IMAP_ACTION: z.preprocess(emptyToUndefined, z.enum(['move', 'flag']).default('move')),
  IMAP_POLL_SECONDS: positiveInt(300),
  IMAP_TLS_REJECT_UNAUTHORIZED: bool('true'),
  IMAP_ALLOW_PLAINTEXT: bool('false'),

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

// Settings that are only wrong together; checked after each one is valid on its own.
const checkedSchema = configSchema.superRefine((config, context) => {
  if (
    config.IMAP_HOST &&
    config.IMAP_TLS === 'off' &&
    !isLoopbackHost(config.IMAP_HOST) &&
    config.IMAP_ALLOW_PLAINTEXT !== 'true'
  ) {
    context.addIssue({
      code: 'custom',
      path: ['IMAP_TLS'],
      message: `off sends the password in plain text to ${config.IMAP_HOST}, which is not loopback: use tls or starttls, or set IMAP_ALLOW_PLAINTEXT=true`,
    });
  }
});

export type Config = z.infer<typeof configSchema>;

/** Validates the environment; throws a ConfigError naming the first bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = checkedSchema.safeParse(env);
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
