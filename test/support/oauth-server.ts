// A stand-in OAuth 2.0 authorization server on loopback, speaking the wire formats the bot and
// Dovecot use: the token endpoint (RFC 6749 section 6, refresh_token grant, form-encoded, JSON
// answer) and token introspection (RFC 7662, POST token=..., {"active": ...}) for Dovecot's oauth2
// passdb. Tokens expire when the test says so, can be revoked, and every request is recorded.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenRequest {
  form: Record<string, string>;
}

export interface OAuthServer {
  tokenUrl: string;
  introspectionUrl: string;
  clientId: string;
  clientSecret: string;
  /** a refresh token that yields access tokens for `user` */
  refreshTokenFor(user: string): string;
  /** refresh requests the token endpoint received, in order */
  tokenRequests: TokenRequest[];
  /** tokens Dovecot asked about, in order */
  introspected: string[];
  /** access tokens issued so far, in order */
  issued: string[];
  /** every access token issued so far stops being valid (as their expiry would make them) */
  expireAll(): void;
  /** this access token stops being valid (revoked before its expiry) */
  revoke(token: string): void;
  /** introspection says no to every token of this user (the app lost its access to the mailbox) */
  refuseUser(user: string): void;
  /** each refresh answers with a new refresh token and forgets the old one */
  rotate: boolean;
  /** expires_in of the tokens issued */
  lifetimeSeconds: number;
  /** the next token answers are replaced by this one (status, body) */
  override: { status: number; body: string; delayMs?: number } | null;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export async function startOAuthServer(): Promise<OAuthServer> {
  const clientId = 'dmarc-bot-test-client';
  const clientSecret = `cs-${randomBytes(12).toString('hex')}`;
  const refreshTokens = new Map<string, string>();
  const accessTokens = new Map<string, { user: string; valid: boolean }>();
  const refused = new Set<string>();
  const state: Pick<OAuthServer, 'tokenRequests' | 'introspected' | 'issued'> = {
    tokenRequests: [],
    introspected: [],
    issued: [],
  };
  const control = { rotate: false, lifetimeSeconds: 3600, override: null as OAuthServer['override'] };

  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const form = Object.fromEntries(new URLSearchParams(body));
      if (request.method === 'POST' && request.url === '/token') {
        state.tokenRequests.push({ form });
        if (control.override) {
          const { status, body: answer, delayMs } = control.override;
          if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(answer);
          return;
        }
        if (form.client_id !== clientId || form.client_secret !== clientSecret)
          return json(response, 401, { error: 'invalid_client', error_description: 'unknown client' });
        if (form.grant_type !== 'refresh_token') return json(response, 400, { error: 'unsupported_grant_type' });
        const user = refreshTokens.get(form.refresh_token ?? '');
        if (!user)
          return json(response, 400, {
            error: 'invalid_grant',
            error_description: `refresh token ${form.refresh_token} is expired or revoked`,
          });
        const token = `at-${randomBytes(16).toString('hex')}`;
        accessTokens.set(token, { user, valid: true });
        state.issued.push(token);
        const answer: Record<string, unknown> = {
          access_token: token,
          token_type: 'Bearer',
          expires_in: control.lifetimeSeconds,
          scope: form.scope ?? 'imap',
        };
        if (control.rotate) {
          refreshTokens.delete(form.refresh_token!);
          const next = `rt-${randomBytes(16).toString('hex')}`;
          refreshTokens.set(next, user);
          answer.refresh_token = next;
        }
        return json(response, 200, answer);
      }
      if (request.method === 'POST' && request.url === '/introspect') {
        const token = form.token ?? '';
        state.introspected.push(token);
        const known = accessTokens.get(token);
        if (!known || !known.valid || refused.has(known.user)) return json(response, 200, { active: false });
        return json(response, 200, { active: true, username: known.user, scope: 'imap' });
      }
      json(response, 404, { error: 'not_found' });
    })().catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  // Dovecot's HTTP client keeps its connection; a server closing idle ones first makes it wait and retry
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  return {
    tokenUrl: `${base}/token`,
    introspectionUrl: `${base}/introspect`,
    clientId,
    clientSecret,
    ...state,
    refreshTokenFor(user) {
      const token = `rt-${randomBytes(16).toString('hex')}`;
      refreshTokens.set(token, user);
      return token;
    },
    expireAll() {
      for (const token of accessTokens.values()) token.valid = false;
    },
    revoke(token) {
      const known = accessTokens.get(token);
      if (known) known.valid = false;
    },
    refuseUser(user) {
      refused.add(user);
    },
    get rotate() {
      return control.rotate;
    },
    set rotate(value) {
      control.rotate = value;
    },
    get lifetimeSeconds() {
      return control.lifetimeSeconds;
    },
    set lifetimeSeconds(value) {
      control.lifetimeSeconds = value;
    },
    get override() {
      return control.override;
    },
    set override(value) {
      control.override = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
