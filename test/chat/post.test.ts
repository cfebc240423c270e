import { describe, expect, it } from 'vitest';
import { PostError, parseRetryAfter, redactSecrets, retryDecision, withRetry } from '../../src/chat/post.ts';
import { fitLines } from '../../src/render/fit.ts';

describe('withRetry', () => {
  it('does not retry what waiting will not heal (a 4xx other than 429)', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new PostError('channel_not_found', 404);
        },
        { sleep: async () => undefined },
      ),
    ).rejects.toThrow('channel_not_found');
    expect(calls).toBe(1);
  });

  it('retries network errors with doubling waits up to the cap', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 5) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return 'ok';
      },
      { attempts: 5, baseDelayMs: 100, maxDelayMs: 300, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('ok');
    expect(waits).toEqual([100, 200, 300, 300]);
  });

  it('reads Slack rate-limit errors as their Retry-After', () => {
    expect(retryDecision({ code: 'slack_webapi_rate_limited_error', retryAfter: 30 })).toEqual({
      retry: true,
      retryAfterMs: 30_000,
    });
    expect(retryDecision({ code: 'slack_webapi_platform_error' })).toEqual({ retry: false, retryAfterMs: null });
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('Wed, 01 Jul 2026 10:00:30 GMT', new Date('2026-07-01T10:00:00Z'))).toBe(30_000);
    expect(parseRetryAfter(null)).toBeNull();
  });
});

describe('redactSecrets', () => {
  it('hides configured secrets, Slack tokens and webhook tokens', () => {
    const text = redactSecrets(
      'failed POST https://discord.com/api/webhooks/123/abcDEF-ghi with xoxb-1-2-3 and Bot my.discord.token and s3cr3t-value',
      ['s3cr3t-value'],
    );
    expect(text).not.toMatch(/abcDEF|xoxb-1|my\.discord\.token|s3cr3t-value/);
    expect(text).toContain('webhooks/123/[redacted]');
  });

  it('hides Socket Mode tickets and response_url, also inside logged JSON', () => {
    const text = redactSecrets(
      'connecting to wss://wss-primary.slack.com/link/?ticket=abc-123-TICKET&app_id=A01 ' +
        JSON.stringify({ response_url: 'https://hooks.slack.com/commands/T01/234/SECRETPATH', x: 1 }) +
        ' response_url=https://example.test/response/ZZSECRET',
    );
    expect(text).not.toMatch(/abc-123-TICKET|SECRETPATH|ZZSECRET/);
    expect(text).toContain('ticket=[redacted]&app_id=A01');
  });
});

describe('fitLines', () => {
  it('keeps whole lines and counts the rest', () => {
    expect(fitLines(['aaaa', 'bbbb', 'cccc', 'dddd'], 25)).toBe('aaaa\nbbbb\n… and 2 more');
    expect(fitLines(['a', 'b', 'c'], 100, 2)).toBe('a\nb\n… and 1 more');
    expect(fitLines(['a', 'b'], 100)).toBe('a\nb');
  });

  it('never returns more than the room it was given', () => {
    for (const room of [5, 12, 20, 50]) {
      expect(
        fitLines(
          Array.from({ length: 100 }, (_, i) => `line number ${i}`),
          room,
        ).length,
      ).toBeLessThanOrEqual(room);
    }
  });
});
