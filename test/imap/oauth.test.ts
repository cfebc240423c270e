// OAuth2 mailboxes against a real Dovecot whose oauth2 passdb asks a loopback introspection server
// about each token, with a stand-in token endpoint issuing the tokens: a login with a token, a
// refresh when it expires, one refresh after a revoked token and then a plain error, a rotated
// refresh token kept, and the token endpoint's failures said without secrets.

import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, mailboxesOf } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { createTokenClient, OAuthTokenError } from '../../src/oauth/token-client.ts';
import { ImapLoginError, runImapPass, type ImapConfig } from '../../src/sources/imap.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { distinctAggregateMail } from '../support/mail.ts';
import { startOAuthServer, type OAuthServer } from '../support/oauth-server.ts';
import { skipWithout } from '../support/servers.ts';
import { freshSqliteStore } from '../ingest/totals.ts';

const noDovecot = skipWithout('dovecot');
let oauth: OAuthServer;
let dovecot: DovecotServer;

beforeAll(async () => {
  oauth = await startOAuthServer();
  if (!noDovecot) dovecot = await startDovecot({ oauth2: { introspectionUrl: oauth.introspectionUrl } });
});
afterAll(async () => {
  if (dovecot) await disposeDovecot(dovecot);
  await oauth?.close();
});

function oauthMailbox(user: string, refreshToken: string, extra: Record<string, string> = {}): ImapConfig {
  const config = loadConfig({
    IMAP_HOST: dovecot.host,
    IMAP_PORT: String(dovecot.port),
    IMAP_USER: user,
    IMAP_TLS: 'off',
    IMAP_AUTH: 'oauth2',
    IMAP_OAUTH_TOKEN_URL: oauth.tokenUrl,
    IMAP_OAUTH_CLIENT_ID: oauth.clientId,
    IMAP_OAUTH_CLIENT_SECRET: oauth.clientSecret,
    IMAP_OAUTH_REFRESH_TOKEN: refreshToken,
    IMAP_OAUTH_SCOPE: 'https://mail.example/imap offline_access',
    ...extra,
  });
  return mailboxesOf(config)[0]!;
}

function memoryLog() {
  let text = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: createLogger('trace', sink), text: () => text };
}

/** A settable clock for the token client: expiry is the test's to decide. */
function testClock() {
  const clock = { ms: Date.now(), now: () => clock.ms };
  return clock;
}

describe.skipIf(noDovecot)('IMAP with OAuth2 (XOAUTH2/OAUTHBEARER) against Dovecot', () => {
  it('logs in with a token, refreshes it when it expires, and the next pass logs in again', async () => {
    const { user } = dovecot.user();
    const refreshToken = oauth.refreshTokenFor(user);
    const config = oauthMailbox(user, refreshToken);
    const clock = testClock();
    const tokens = createTokenClient(
      {
        tokenUrl: config.IMAP_OAUTH_TOKEN_URL!,
        clientId: config.IMAP_OAUTH_CLIENT_ID!,
        clientSecret: config.IMAP_OAUTH_CLIENT_SECRET,
        refreshToken,
        scope: config.IMAP_OAUTH_SCOPE,
      },
      { now: clock.now },
    );
    const { store } = await freshSqliteStore();
    const log = memoryLog();
    const before = oauth.tokenRequests.length;

    dovecot.deliver(user, [distinctAggregateMail(101)]);
    const first = await runImapPass(config, store, { tokens, logger: log.logger });
    expect(first).toMatchObject({ messages: 1, new: 1, processed: 1 });
    expect(oauth.tokenRequests.length).toBe(before + 1);
    expect(oauth.tokenRequests.at(-1)!.form).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: oauth.clientId,
      client_secret: oauth.clientSecret,
      scope: 'https://mail.example/imap offline_access',
    });
    const firstToken = oauth.issued.at(-1)!;
    expect(oauth.introspected.at(-1)).toBe(firstToken);

    // still valid: the next pass reuses it
    dovecot.deliver(user, [distinctAggregateMail(102)]);
    expect(await runImapPass(config, store, { tokens, logger: log.logger })).toMatchObject({ new: 1 });
    expect(oauth.tokenRequests.length).toBe(before + 1);

    // its hour is up: the server no longer takes it, and the bot refreshes before logging in
    oauth.expireAll();
    clock.ms += 3600_000;
    dovecot.deliver(user, [distinctAggregateMail(103)]);
    expect(await runImapPass(config, store, { tokens, logger: log.logger })).toMatchObject({ new: 1 });
    expect(oauth.tokenRequests.length).toBe(before + 2);
    expect(oauth.issued.at(-1)).not.toBe(firstToken);
    expect(oauth.introspected.at(-1)).toBe(oauth.issued.at(-1));
    // the expired token was never offered: the refresh came before the login, not after a refusal
    expect(oauth.introspected.filter((token) => token === firstToken)).toHaveLength(2);

    for (const secret of [oauth.clientSecret, refreshToken, ...oauth.issued]) expect(log.text()).not.toContain(secret);
    await store.close();
  });

  it('keeps a rotated refresh token for the running process', async () => {
    const { user } = dovecot.user();
    const refreshToken = oauth.refreshTokenFor(user);
    const config = oauthMailbox(user, refreshToken);
    const clock = testClock();
    const tokens = createTokenClient(
      { tokenUrl: oauth.tokenUrl, clientId: oauth.clientId, clientSecret: oauth.clientSecret, refreshToken },
      { now: clock.now },
    );
    const { store } = await freshSqliteStore();
    oauth.rotate = true;
    try {
      await runImapPass(config, store, { tokens });
      const rotatedFrom = oauth.tokenRequests.at(-1)!.form.refresh_token;
      expect(rotatedFrom).toBe(refreshToken);
      oauth.expireAll();
      clock.ms += 3600_000;
      // the configured refresh token is gone on the server: only the rotated one works
      await runImapPass(config, store, { tokens });
      const second = oauth.tokenRequests.at(-1)!.form.refresh_token;
      expect(second).not.toBe(refreshToken);
      expect(second).toMatch(/^rt-/);
      expect(tokens.secrets()).toContain(second);
    } finally {
      oauth.rotate = false;
      await store.close();
    }
  });

  // last: Dovecot delays every later login from the same address for seconds after a refusal
  it('a revoked token is refreshed once; refused again, the pass fails with a plain error', async () => {
    const { user } = dovecot.user();
    const refreshToken = oauth.refreshTokenFor(user);
    const config = oauthMailbox(user, refreshToken);
    const tokens = createTokenClient({
      tokenUrl: oauth.tokenUrl,
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      refreshToken,
    });
    const { store } = await freshSqliteStore();
    dovecot.deliver(user, [distinctAggregateMail(111)]);
    await runImapPass(config, store, { tokens });
    const requests = oauth.tokenRequests.length;

    // revoked long before its expiry: AUTHENTICATIONFAILED, one refresh, logged in
    oauth.revoke(oauth.issued.at(-1)!);
    dovecot.deliver(user, [distinctAggregateMail(112)]);
    expect(await runImapPass(config, store, { tokens })).toMatchObject({ messages: 1, new: 1 });
    expect(oauth.tokenRequests.length).toBe(requests + 1);

    // the app lost its access: one refresh, then a plain error naming what to check
    oauth.revoke(oauth.issued.at(-1)!);
    oauth.refuseUser(user);
    const failure = await runImapPass(config, store, { tokens }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ImapLoginError);
    const message = (failure as Error).message;
    expect(message).toContain(`refused the OAuth2 access token for ${user}`);
    expect(message).toContain('IMAP_OAUTH_SCOPE');
    expect(oauth.tokenRequests.length).toBe(requests + 2);
    for (const secret of [oauth.clientSecret, refreshToken, ...oauth.issued]) expect(message).not.toContain(secret);
    // the mail stays for the next pass
    await store.close();
  });
});

describe('the token endpoint failing', () => {
  const client = (refreshToken: string, deps: Parameters<typeof createTokenClient>[1] = {}) =>
    createTokenClient(
      { tokenUrl: oauth.tokenUrl, clientId: oauth.clientId, clientSecret: oauth.clientSecret, refreshToken },
      deps,
    );

  it('a refused refresh token names the setting and shows no secret (the endpoint echoes it)', async () => {
    const error = await client('rt-never-issued-0123456789')
      .accessToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthTokenError);
    const message = (error as Error).message;
    expect(message).toContain('invalid_grant');
    expect(message).toContain('IMAP_OAUTH_REFRESH_TOKEN');
    expect(message).not.toContain('rt-never-issued-0123456789');
  });

  it('a wrong client secret names the client settings', async () => {
    const bad = createTokenClient({
      tokenUrl: oauth.tokenUrl,
      clientId: oauth.clientId,
      clientSecret: 'wrong-secret-value',
      refreshToken: oauth.refreshTokenFor('someone'),
    });
    const message = await bad.accessToken().then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toContain('invalid_client');
    expect(message).toContain('IMAP_OAUTH_CLIENT_SECRET');
    expect(message).not.toContain('wrong-secret-value');
  });

  it('an answer beyond the size cap, a slow answer and a non-JSON answer are refused', async () => {
    const refreshToken = oauth.refreshTokenFor('someone');
    try {
      oauth.override = { status: 200, body: JSON.stringify({ access_token: 'a'.repeat(100_000), expires_in: 3600 }) };
      await expect(client(refreshToken, { maxResponseBytes: 4096 }).accessToken()).rejects.toThrow(/4096 bytes/);
      oauth.override = { status: 200, body: '{"access_token":"x","expires_in":3600}', delayMs: 1500 };
      await expect(client(refreshToken, { timeoutMs: 200 }).accessToken()).rejects.toThrow(/no answer within 200 ms/);
      oauth.override = { status: 502, body: '<html>bad gateway</html>' };
      await expect(client(refreshToken).accessToken()).rejects.toThrow(/502 without a JSON object/);
      oauth.override = { status: 200, body: '{"token_type":"Bearer","expires_in":3600}' };
      await expect(client(refreshToken).accessToken()).rejects.toThrow(/without a usable access_token/);
    } finally {
      oauth.override = null;
    }
  });

  it('refreshes before expiry by the margin, and once for many callers at the same time', async () => {
    const clock = testClock();
    oauth.lifetimeSeconds = 600;
    try {
      const tokens = client(oauth.refreshTokenFor('someone'), { now: clock.now, marginMs: 60_000 });
      const before = oauth.tokenRequests.length;
      const [a, b, c] = await Promise.all([tokens.accessToken(), tokens.accessToken(), tokens.accessToken()]);
      expect(oauth.tokenRequests.length).toBe(before + 1);
      expect(new Set([a.token, b.token, c.token]).size).toBe(1);
      clock.ms += 539_000;
      expect((await tokens.accessToken()).fresh).toBe(false);
      clock.ms += 2_000;
      const renewed = await tokens.accessToken();
      expect(renewed.fresh).toBe(true);
      expect(renewed.token).not.toBe(a.token);
      expect(oauth.tokenRequests.length).toBe(before + 2);
    } finally {
      oauth.lifetimeSeconds = 3600;
    }
  });
});
