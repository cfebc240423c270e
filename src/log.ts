// Structured logs (pino) on stderr, so stdout stays for command output. Secrets are redacted by
// key name wherever they appear in a logged object. pino is loaded when a logger is first made or
// the silent one is first used beyond its level methods: a one-shot command that logs nothing
// (`ask`) does not pay for it.

import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';
import type pinoModule from 'pino';

let loaded: typeof pinoModule | undefined;
const pino = (): typeof pinoModule => (loaded ??= createRequire(import.meta.url)('pino') as typeof pinoModule);

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
  return pino()(
    {
      level,
      base: undefined,
      redact: { paths: [...secretKeys, ...secretKeys.map((key) => `*.${key}`)], censor: '[redacted]' },
    },
    destination as DestinationStream,
  );
}

const LEVEL_METHODS = new Set<PropertyKey>(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const nothing = () => undefined;
let silent: Logger | undefined;

/**
 * A logger that writes nothing, for tests and library callers that pass none: its level methods
 * are answered without pino until anything else (child, bindings, a new level...) is asked of it;
 * from then on it is pino's own silent logger.
 */
export const silentLogger: Logger = new Proxy({} as Logger, {
  get(_target, key) {
    if (!silent) {
      if (LEVEL_METHODS.has(key)) return nothing;
      if (key === 'level') return 'silent';
      if (key === 'isLevelEnabled') return () => false;
      silent = pino()({ level: 'silent' });
    }
    const value: unknown = Reflect.get(silent, key, silent);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(silent) : value;
  },
  set(_target, key, value) {
    silent ??= pino()({ level: 'silent' });
    return Reflect.set(silent, key, value, silent);
  },
});
