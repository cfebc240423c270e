// The mailbox settings: the single IMAP_* mailbox as before, several with IMAP_ACCOUNTS (each
// setting IMAP_<NAME>_<KEY>, falling back to IMAP_<KEY>), OAuth2 settings checked together, and
// config errors that never show a secret.

import { describe, expect, it } from 'vitest';
import { ConfigError, imapConfigured, loadConfig, mailboxesOf } from '../src/config.ts';

function failure(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('mailbox settings', () => {
  it('the single IMAP_* mailbox works as before, as the account "default"', () => {
    const config = loadConfig({ IMAP_HOST: 'imap.example.com', IMAP_USER: 'dmarc', IMAP_PASSWORD: 'pw-123456' });
    expect(imapConfigured(config)).toBe(true);
    expect(mailboxesOf(config)).toEqual([
      expect.objectContaining({
        IMAP_ACCOUNT: 'default',
        IMAP_HOST: 'imap.example.com',
        IMAP_USER: 'dmarc',
        IMAP_PASSWORD: 'pw-123456',
        IMAP_AUTH: 'password',
        IMAP_TLS: 'tls',
        IMAP_MAILBOX: 'INBOX',
        IMAP_POLL_SECONDS: 300,
      }),
    ]);
    expect(mailboxesOf(loadConfig({}))).toEqual([]);
  });

  it('IMAP_ACCOUNTS: each account reads IMAP_<NAME>_<KEY> and falls back to IMAP_<KEY>', () => {
    const config = loadConfig({
      IMAP_ACCOUNTS: 'Main, work',
      IMAP_HOST: 'imap.example.com',
      IMAP_PASSWORD: 'shared-pass',
      IMAP_MAIN_USER: 'dmarc@example.com',
      IMAP_WORK_HOST: 'outlook.office365.com',
      IMAP_WORK_USER: 'dmarc@work.example',
      IMAP_WORK_AUTH: 'oauth2',
      IMAP_OAUTH_TOKEN_URL: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
      IMAP_OAUTH_CLIENT_ID: 'app-id',
      IMAP_WORK_OAUTH_REFRESH_TOKEN: 'rt-work-0000',
      IMAP_WORK_MAILBOX: 'Reports',
    });
    const [main, work] = mailboxesOf(config);
    expect(main).toMatchObject({
      IMAP_ACCOUNT: 'main',
      IMAP_HOST: 'imap.example.com',
      IMAP_USER: 'dmarc@example.com',
      IMAP_PASSWORD: 'shared-pass',
      IMAP_AUTH: 'password',
      IMAP_MAILBOX: 'INBOX',
    });
    expect(work).toMatchObject({
      IMAP_ACCOUNT: 'work',
      IMAP_HOST: 'outlook.office365.com',
      IMAP_AUTH: 'oauth2',
      IMAP_OAUTH_CLIENT_ID: 'app-id',
      IMAP_OAUTH_REFRESH_TOKEN: 'rt-work-0000',
      IMAP_MAILBOX: 'Reports',
    });
  });

  it('names the bad setting of an account', () => {
    expect(failure({ IMAP_ACCOUNTS: 'main,ma_in' })).toMatch(
      /^configuration: IMAP_ACCOUNTS: comma-separated account names/,
    );
    expect(failure({ IMAP_ACCOUNTS: 'main,main' })).toMatch(/^configuration: IMAP_ACCOUNTS: /);
    expect(failure({ IMAP_ACCOUNTS: 'work' })).toBe(
      'configuration: IMAP_WORK_HOST: needed for the account work named in IMAP_ACCOUNTS',
    );
    expect(
      failure({
        IMAP_ACCOUNTS: 'work',
        IMAP_WORK_HOST: 'imap.example.com',
        IMAP_WORK_PORT: '99999',
        IMAP_WORK_USER: 'u',
      }),
    ).toBe('configuration: IMAP_WORK_PORT: a port number from 1 to 65535 (got "99999")');
    expect(
      failure({ IMAP_ACCOUNTS: 'work', IMAP_WORK_HOST: 'imap.example.com', IMAP_WORK_USER: 'u', IMAP_WORK_TLS: 'off' }),
    ).toMatch(/^configuration: IMAP_WORK_TLS: off sends the password in plain text to imap\.example\.com/);
    expect(failure({ IMAP_ACCOUNTS: 'a,b', IMAP_HOST: 'imap.example.com', IMAP_USER: 'same' })).toBe(
      'configuration: IMAP_ACCOUNTS: the accounts a and b read the same mailbox (same@imap.example.com/INBOX)',
    );
  });

  it('IMAP_AUTH=oauth2 needs the token URL, client ID and refresh token; the URL must be https off loopback', () => {
    const base = { IMAP_HOST: 'outlook.office365.com', IMAP_USER: 'dmarc@example.com', IMAP_AUTH: 'oauth2' };
    expect(failure(base)).toMatch(/^configuration: IMAP_OAUTH_TOKEN_URL: needed with IMAP_AUTH=oauth2/);
    const full = {
      ...base,
      IMAP_OAUTH_TOKEN_URL: 'https://oauth2.googleapis.com/token',
      IMAP_OAUTH_CLIENT_ID: 'id',
      IMAP_OAUTH_REFRESH_TOKEN: 'rt-0123',
    };
    expect(mailboxesOf(loadConfig(full))[0]).toMatchObject({ IMAP_AUTH: 'oauth2' });
    const { IMAP_OAUTH_REFRESH_TOKEN: _unused, ...noRefresh } = full;
    expect(failure(noRefresh)).toMatch(/^configuration: IMAP_OAUTH_REFRESH_TOKEN: needed/);
    expect(failure({ ...full, IMAP_OAUTH_TOKEN_URL: 'http://login.example.com/token' })).toMatch(
      /^configuration: IMAP_OAUTH_TOKEN_URL: an https:\/\/ URL/,
    );
    expect(() => loadConfig({ ...full, IMAP_OAUTH_TOKEN_URL: 'http://127.0.0.1:8080/token' })).not.toThrow();
    expect(failure({ ...full, IMAP_AUTH: 'kerberos' })).toMatch(/^configuration: IMAP_AUTH: password or oauth2/);
    // an account without a refresh token of its own or a shared one is named by its own setting
    expect(
      failure({
        IMAP_ACCOUNTS: 'work',
        IMAP_WORK_HOST: 'outlook.office365.com',
        IMAP_WORK_USER: 'u',
        IMAP_WORK_AUTH: 'oauth2',
        IMAP_OAUTH_TOKEN_URL: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
        IMAP_OAUTH_CLIENT_ID: 'id',
      }),
    ).toMatch(/^configuration: IMAP_WORK_OAUTH_REFRESH_TOKEN: needed/);
  });
});

describe('config errors show no secret', () => {
  it('a malformed webhook URL: its token is cut out', () => {
    const token = 'Zx9-webhookTOKENvalue_0123456789';
    for (const value of [
      `discord.com/api/webhooks/123456789/${token}`,
      `ftp://discord.com/api/webhooks/123456789/${token}`,
    ]) {
      const message = failure({ DISCORD_WEBHOOK_URL: value });
      expect(message).toMatch(/^configuration: DISCORD_WEBHOOK_URL: an http:\/\/ or https:\/\/ URL/);
      expect(message).not.toContain(token);
      expect(message).toContain('webhooks/123456789/[redacted]');
    }
  });

  it('a malformed store URL: its password is cut out', () => {
    for (const value of [
      'mysql://dmarc:hunter2-secret@db.internal/dmarc',
      'postgress://dmarc:hunter2-secret@db/dmarc',
    ]) {
      const message = failure({ DMARC_STORE: value });
      expect(message).toMatch(/^configuration: DMARC_STORE: a store URL/);
      expect(message).not.toContain('hunter2-secret');
      expect(message).toContain('//dmarc:***@');
    }
  });

  it('the OAuth settings: a token URL with credentials or a secret parameter, and secrets never echoed', () => {
    const base = {
      IMAP_HOST: 'outlook.office365.com',
      IMAP_USER: 'u',
      IMAP_AUTH: 'oauth2',
      IMAP_OAUTH_CLIENT_ID: 'id',
      IMAP_OAUTH_REFRESH_TOKEN: 'rt-0123456',
    };
    const withCredentials = failure({
      ...base,
      IMAP_OAUTH_TOKEN_URL: 'http://id:cs-topsecret@login.example.com/token',
    });
    expect(withCredentials).toMatch(/^configuration: IMAP_OAUTH_TOKEN_URL: an https:\/\/ URL/);
    expect(withCredentials).not.toContain('cs-topsecret');
    const withParameter = failure({
      ...base,
      IMAP_OAUTH_TOKEN_URL: 'login.example.com/token?client_secret=cs-topsecret',
    });
    expect(withParameter).toMatch(/^configuration: IMAP_OAUTH_TOKEN_URL: an http:\/\/ or https:\/\/ URL/);
    expect(withParameter).not.toContain('cs-topsecret');
    // a secret pasted into the wrong setting is not shown there either
    const misplaced = failure({
      ...base,
      IMAP_OAUTH_TOKEN_URL: 'https://login.example.com/token',
      IMAP_OAUTH_CLIENT_SECRET: 'cs-topsecret-value',
      IMAP_PORT: 'cs-topsecret-value',
    });
    expect(misplaced).toMatch(/^configuration: IMAP_PORT: a port number/);
    expect(misplaced).not.toContain('cs-topsecret-value');
    // a secret setting's own bad value is never echoed
    const accountSecret = failure({
      IMAP_ACCOUNTS: 'work',
      IMAP_WORK_HOST: 'h.example.com',
      IMAP_WORK_USER: 'u',
      IMAP_WORK_AUTH: 'oauth2',
      IMAP_WORK_OAUTH_TOKEN_URL: 'https://login.example.com/token?refresh_token=rt-leaked-0000',
      IMAP_WORK_OAUTH_CLIENT_ID: 'id',
      IMAP_WORK_OAUTH_REFRESH_TOKEN: 'rt-leaked-0000',
      IMAP_WORK_PORT: 'x',
    });
    expect(accountSecret).toMatch(/^configuration: IMAP_WORK_PORT: /);
    expect(accountSecret).not.toContain('rt-leaked-0000');
  });
});
