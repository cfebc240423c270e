// The loggers: the silent one writes nothing whatever is asked of it (its level methods, a child, a
// new level), and a made one writes JSON lines with secrets redacted.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/log.ts';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('loggers', () => {
  it('the silent logger answers as a silent pino logger and writes nothing', () => {
    expect(silentLogger.level).toBe('silent');
    expect(silentLogger.isLevelEnabled('error')).toBe(false);
    expect(() => {
      silentLogger.error({ password: 'x' }, 'not shown');
      silentLogger.debug('not shown');
    }).not.toThrow();
    const child = silentLogger.child({ part: 'test' });
    expect(child.level).toBe('silent');
    child.info('not shown');
    expect(silentLogger.bindings()).toEqual({});
  });

  it('a made logger writes JSON lines at its level, with secrets redacted', () => {
    const { stream, text } = sink();
    const logger = createLogger('info', stream);
    logger.debug('below the level');
    logger.info({ password: 'hunter2', nested: { token: 't0k' }, user: 'me' }, 'hello');
    const lines = text().trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'hello', user: 'me', password: '[redacted]', nested: { token: '[redacted]' } });
    expect(text()).not.toContain('hunter2');
  });
});
