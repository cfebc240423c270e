// Progress off a terminal: periodic log lines with count, rate and ETA; notes go straight out.

import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createProgress } from '../../src/ingest/progress.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

describe('progress when stderr is not a terminal', () => {
  it('logs at most once per interval, with the rate and the remaining time', () => {
    const { logger, lines } = capture();
    let clock = 0;
    const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    const progress = createProgress({ label: 'mailbox', logger, stream, intervalMs: 5000, now: () => clock });

    clock = 1000;
    progress.update(10, 100);
    expect(lines).toHaveLength(0);
    clock = 5000;
    // 50 of 100 after 5 s: 10 per second, 5 s to go
    progress.update(50, 100);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ done: 50, total: 100, perSecond: 10, etaSeconds: 5 });
    clock = 6000;
    progress.update(60, 100);
    expect(lines).toHaveLength(1);
  });

  it('writes notes at once', () => {
    const { logger } = capture();
    const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    let written = '';
    stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const progress = createProgress({ label: 'ingest', logger, stream });
    progress.note('error: a.xml: empty input (0 bytes)');
    expect(written).toBe('error: a.xml: empty input (0 bytes)\n');
  });
});
