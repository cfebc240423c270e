import { describe, expect, it } from 'vitest';
import { redactSecrets, redactUrl } from '../../src/text/redact.ts';

describe('redactSecrets', () => {
  it('cuts out configured secrets of four characters or more, not shorter ones', () => {
    expect(redactSecrets('login as abcd failed', ['abcd'])).toBe('login as [redacted] failed');
    expect(redactSecrets('the cat sat', ['cat'])).toBe('the cat sat');
    expect(redactSecrets('nothing here', [undefined, ''])).toBe('nothing here');
  });

  it('hides anything shaped like a Slack or Discord token', () => {
    const text = redactSecrets(
      'POST https://discord.com/api/webhooks/123/abcDEF-ghi with xoxb-1-2-3, xoxe-9-8, xapp-1-A-2 and Bot my.discord.token',
    );
    expect(text).toBe(
      'POST https://discord.com/api/webhooks/123/[redacted] with [redacted], [redacted], [redacted] and Bot [redacted]',
    );
    expect(redactSecrets('Authorization: Bearer eyJhbGciOi.J9+x/y==')).toBe('Authorization: Bearer [redacted]');
  });

  it('hides passwords in URLs inside the text', () => {
    expect(redactSecrets('cannot reach postgres://dmarc:pa/ss@db.internal/dmarc: refused')).toBe(
      'cannot reach postgres://dmarc:***@db.internal/dmarc: refused',
    );
  });
});

describe('redactUrl', () => {
  it('replaces the password and keeps the rest', () => {
    expect(redactUrl('redis://:s3cret@cache:6379')).toBe('redis://:***@cache:6379');
    expect(redactUrl('postgresql://user:p%40ss@db/dmarc')).toBe('postgresql://user:***@db/dmarc');
    expect(redactUrl('sqlite://./data/dmarc.sqlite')).toBe('sqlite://./data/dmarc.sqlite');
    expect(redactUrl('postgres://user@db/dmarc')).toBe('postgres://user@db/dmarc');
  });

  it('does not reach across words to an unrelated @', () => {
    expect(redactUrl('redis://cache:6379 refused for ops@example.com')).toBe(
      'redis://cache:6379 refused for ops@example.com',
    );
  });
});
