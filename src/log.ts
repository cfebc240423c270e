// Structured logs (pino) on stderr, so stdout stays for command output. Secrets are redacted by
// key name wherever they appear in a logged object.

import pino, { type Logger } from 'pino';

const secretKeys = [
  'password',
  'pass',
  'token',
  'secret',
  'authorization',
  'IMAP_PASSWORD',
  'IMAP_OAUTH_CLIENT_SECRET',
  'IMAP_OAUTH_REFRESH_TOKEN',
  'accessToken',
  'access_token',
  'refresh_token',
  'client_secret',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  'DISCORD_TOKEN',
  'DISCORD_WEBHOOK_URL',
];

export type { Logger };

export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination: NodeJS.WritableStream = process.stderr,
): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: [...secretKeys, ...secretKeys.map((key) => `*.${key}`)], censor: '[redacted]' },
    },
    destination as pino.DestinationStream,
  );
}

/** A logger that writes nothing, for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
