// OAuth 2.0 access tokens for an IMAP login (XOAUTH2 / OAUTHBEARER), from a refresh token
// (RFC 6749 section 6). The clock and fetch are passed in, so tests drive expiry and the HTTP
// exchange against a loopback stand-in. Every message this module makes has the client secret,
// the refresh tokens and the access tokens cut out.

import { redactSecrets, redactUrl } from '../text/redact.ts';
import { errorMessage } from '../text/error-message.ts';

export interface OAuthSettings {
  tokenUrl: string;
  clientId: string;
  /** absent for public clients (Microsoft's "mobile and desktop" app registrations) */
  clientSecret?: string | undefined;
  refreshToken: string;
  /** space-separated; some endpoints want it on refresh (Microsoft), others ignore it */
  scope?: string | undefined;
}

export interface TokenClientDeps {
  fetch?: typeof fetch;
  /** milliseconds since the epoch */
  now?: () => number;
  /** how long one token request may take, answer included (default 15 s) */
  timeoutMs?: number;
  /** largest token response read (default 64 KiB; real ones are 1-5 KiB) */
  maxResponseBytes?: number;
  /** a token is refreshed this long before it expires (default 5 minutes, at most half its life) */
  marginMs?: number;
}

export interface AccessTokens {
  /** a token valid for at least the margin: the cached one, or a fresh one */
  accessToken(): Promise<{ token: string; fresh: boolean }>;
  /** forget the cached token (the server refused it: revoked before its expiry) */
  invalidate(): void;
  /** every secret this client knows or has received, for redaction elsewhere */
  secrets(): string[];
}

/** A token endpoint failure, said plainly and without any secret. */
export class OAuthTokenError extends Error {
  override name = 'OAuthTokenError';
  constructor(
    message: string,
    /** the endpoint's `error` code (invalid_grant, invalid_client, ...) when it sent one */
    readonly oauthError?: string,
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_BYTES = 64 * 1024;
const DEFAULT_MARGIN_MS = 5 * 60_000;
/** RFC 6749 makes expires_in optional; without it the token is treated as short-lived */
const ASSUMED_LIFETIME_S = 600;
const MAX_TOKEN_LENGTH = 16 * 1024;
/** an error_description is the endpoint's text: shown, but short and on one line */
const MAX_DESCRIPTION = 300;

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes)
    throw new OAuthTokenError(`the token endpoint's answer has ${declared} bytes, more than ${maxBytes}`);
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new OAuthTokenError(`the token endpoint's answer is longer than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function ownString(data: Record<string, unknown>, key: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(data, key)) return undefined;
  const value = data[key];
  return typeof value === 'string' ? value : undefined;
}

/** `value` if it is a usable token (printable ASCII, bounded), else undefined. */
function tokenValue(value: string | undefined): string | undefined {
  if (!value || value.length > MAX_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(value)) return undefined;
  return value;
}

export function createTokenClient(settings: OAuthSettings, deps: TokenClientDeps = {}): AccessTokens {
  const fetchFn = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = deps.maxResponseBytes ?? DEFAULT_MAX_BYTES;
  const marginMs = deps.marginMs ?? DEFAULT_MARGIN_MS;
  // a rotated refresh token replaces the configured one for the life of the process
  let refreshToken = settings.refreshToken;
  let cached: { token: string; refreshAt: number } | null = null;
  let pending: Promise<string> | null = null;
  const known = new Set<string>([settings.refreshToken]);
  if (settings.clientSecret) known.add(settings.clientSecret);
  const secrets = () => [...known];
  const clean = (text: string) => redactSecrets(text, secrets());
  const endpoint = redactUrl(settings.tokenUrl);

  async function refresh(): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    body.set('client_id', settings.clientId);
    if (settings.clientSecret) body.set('client_secret', settings.clientSecret);
    if (settings.scope) body.set('scope', settings.scope);
    const started = now();
    let text: string;
    let status: number;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetchFn(settings.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: body.toString(),
        redirect: 'error',
        signal: deadline,
      });
      status = response.status;
      text = await readCapped(response, maxBytes);
    } catch (error) {
      if (error instanceof OAuthTokenError) throw error;
      const cause = deadline.aborted
        ? `no answer within ${timeoutMs} ms`
        : errorMessage(error) + (error instanceof Error && error.cause ? ` (${errorMessage(error.cause)})` : '');
      throw new OAuthTokenError(clean(`the token endpoint ${endpoint} could not be reached: ${cause}`));
    }
    let data: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      data = parsed as Record<string, unknown>;
    } catch {
      throw new OAuthTokenError(`the token endpoint ${endpoint} answered ${status} without a JSON object`);
    }
    const errorCode = ownString(data, 'error');
    if (status !== 200 || errorCode) {
      const description = ownString(data, 'error_description')?.replace(/\s+/g, ' ').slice(0, MAX_DESCRIPTION);
      const code = errorCode?.replace(/[^\w.-]/g, '').slice(0, 64);
      const hint =
        code === 'invalid_grant'
          ? ': the refresh token is expired or revoked; get a new one and set IMAP_OAUTH_REFRESH_TOKEN'
          : code === 'invalid_client' || code === 'unauthorized_client'
            ? ': check IMAP_OAUTH_CLIENT_ID and IMAP_OAUTH_CLIENT_SECRET'
            : '';
      throw new OAuthTokenError(
        clean(
          `the token endpoint ${endpoint} refused the refresh (${status}${code ? ` ${code}` : ''}${description ? `: ${description}` : ''})${hint}`,
        ),
        code,
      );
    }
    const token = tokenValue(ownString(data, 'access_token'));
    if (!token) throw new OAuthTokenError(`the token endpoint ${endpoint} answered without a usable access_token`);
    const tokenType = ownString(data, 'token_type');
    if (tokenType !== undefined && tokenType.toLowerCase() !== 'bearer')
      throw new OAuthTokenError(
        `the token endpoint ${endpoint} issued a ${tokenType.slice(0, 20)} token, not a Bearer token`,
      );
    known.add(token);
    const rotated = tokenValue(ownString(data, 'refresh_token'));
    if (rotated) {
      known.add(rotated);
      refreshToken = rotated;
    }
    const expiresIn = Number(data.expires_in ?? ASSUMED_LIFETIME_S);
    const lifetimeMs =
      (Number.isFinite(expiresIn) && expiresIn > 0 ? Math.min(expiresIn, 366 * 86_400) : ASSUMED_LIFETIME_S) * 1000;
    // counted from the request's start: the token's clock started while the answer travelled
    cached = { token, refreshAt: started + lifetimeMs - Math.min(marginMs, lifetimeMs / 2) };
    return token;
  }

  return {
    async accessToken() {
      if (cached && now() < cached.refreshAt) return { token: cached.token, fresh: false };
      // one refresh at a time, however many logins wait for it
      pending ??= refresh().finally(() => (pending = null));
      return { token: await pending, fresh: true };
    },
    invalidate() {
      cached = null;
    },
    secrets,
  };
}
